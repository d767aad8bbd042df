"""The module API under misuse and odd input: what an ETL job calling it gets back."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pyarrow as pa
import pytest

import pipeline
from pipeline import Config, ConfigError, Pipeline
from pipeline.core.config import FilterConfig
from pipeline.core.record import Doc
from pipeline.core.stage import DocStage, RejectRecord
from pipeline.io import ParquetSink
from pipeline.io.readers import Source
from stages import Extract, FixEncoding
from stages.encoding import fix
from stages.filters import MinLength

ROOT = Path(__file__).resolve().parents[1]

PERSIAN = (
    "من می\u200cخواهم فردا به کتابخانه\u200cهای شهر بروم و چند کتاب تازه درباره\u200cی تاریخ ایران بخوانم."
)
FAMILY = "Big news \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 today: the council approved the new park plan."


@pytest.mark.parametrize(
    "text",
    [
        PERSIAN,  # ZWNJ inside Persian words: part of the spelling
        FAMILY,  # ZWJ sequence: one emoji, not four
        "\u2764\ufe0f\u200d\U0001f525 on fire",  # ZWJ after a variation selector
        "\u0915\u094d\u200d\u0937",  # Devanagari half form chosen by ZWJ
    ],
)
def test_joiners_that_spell_a_word_or_an_emoji_are_kept(text: str) -> None:
    assert fix(text) == (text, [])


def test_joiners_that_join_nothing_are_still_removed() -> None:
    assert fix("Sub\u200dscribe to our a\u200cb") == ("Subscribe to our ab", ["remove:invisible_chars"])
    assert fix("\u200c\u0645\u06cc x\u200d") == ("\u0645\u06cc x", ["remove:invisible_chars"])
    # Cyrillic and CJK do not write them: scrape noise there too
    assert fix("Моск\u200dва 東\u200c京") == ("Москва 東京", ["remove:invisible_chars"])
    # the zero-width space between them goes, and the ZWNJ then joins two Persian letters
    assert fix("می\u200b\u200cخواهم") == ("می\u200cخواهم", ["remove:invisible_chars"])


def test_clean_text_keeps_persian_zwnj_and_emoji_sequences() -> None:
    persian = pipeline.clean_text(PERSIAN)
    assert persian.ok and persian.lang == "fa"
    assert persian.text == PERSIAN
    assert pipeline.clean_text(FAMILY).text == FAMILY


def test_clean_text_refuses_a_url_or_config_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="url is a str or None, not int"):
        pipeline.clean_text("Some words about the weather today.", url=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"takes a pipeline.Config, not dict \(Config.from_dict"):
        pipeline.clean_text("Some words.", config={"filter": {"min_chars": 5}})  # type: ignore[arg-type]


def test_clean_text_refuses_an_unknown_fmt_even_for_undecodable_bytes() -> None:
    binary = bytes(range(256)) * 8
    assert pipeline.clean_text(binary).reason == "undecodable"
    with pytest.raises(ValueError, match="'HTML'"):
        pipeline.clean_text(binary, fmt="HTML")


def test_pipeline_refuses_stage_names_and_plain_dicts_with_a_hint() -> None:
    with pytest.raises(
        TypeError, match=r"stage objects such as stages.Extract\(\), not str \(a stage name: 'extract'\)"
    ):
        Pipeline(["extract"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="list of stage objects, not NoneType"):
        Pipeline(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Pipeline takes a pipeline\.Config, not dict"):
        Pipeline([Extract()], {"filter": {}})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"from_config takes a pipeline.Config, not dict \(Config.from_dict"):
        Pipeline.from_config({"dedup": {"enabled": False}})  # type: ignore[arg-type]


def test_with_overrides_refuses_pairs_instead_of_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping of dotted keys to values, got list"):
        Config().with_overrides([("filter.min_chars", 3)])  # type: ignore[arg-type]


@pytest.mark.parametrize("transform", ["pipeline", "doc_stage", "verdict_stage"])
def test_a_pandas_frame_is_a_type_error_saying_how_to_convert_it(transform: str) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"id": ["1"], "source": ["s"], "raw": ["Some words about the weather today."]})
    run = {
        "pipeline": Pipeline.from_config().process_batch,
        "doc_stage": Extract().process_batch,
        "verdict_stage": MinLength().process_batch,
    }[transform]
    with pytest.raises(
        TypeError, match=r"pyarrow RecordBatch or Table, not DataFrame \(pyarrow.Table.from_pandas"
    ):
        run(df)
    converted = run(pa.Table.from_pandas(df, preserve_index=False))
    assert converted.num_rows == 1


def test_the_packages_ship_a_py_typed_marker_for_their_users_type_checkers() -> None:
    """PEP 561: without the marker a user's ``mypy --strict`` reads every cleanwire name as Any
    (and refuses ``class MyStage(DocStage)``: "cannot subclass ... has type Any")."""
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package in ("pipeline", "stages"):
        assert (ROOT / package / "py.typed").is_file()
        assert "py.typed" in package_data.get(package, [])


class _Unnamed(DocStage):
    def process(self, doc: Doc) -> None:
        pass


class _Mine(DocStage):
    name = "mine"

    def process(self, doc: Doc) -> None:
        raise RejectRecord("first")


class _AlsoMine(DocStage):
    name = "mine"

    def process(self, doc: Doc) -> None:
        pass


def test_pipeline_refuses_a_stage_without_a_name_and_two_stages_of_one_name() -> None:
    """Stage stats and the manifest are keyed by name: the second ``mine`` overwrote the first's
    counts (its reject vanished from ``stages.mine`` in the manifest)."""
    with pytest.raises(TypeError, match="stage _Unnamed has no name"):
        Pipeline([Extract(), _Unnamed()])
    with pytest.raises(ConfigError, match="two stages of the pipeline are named 'mine'"):
        Pipeline([Extract(), _Mine(), _AlsoMine()])
    with pytest.raises(ConfigError, match="named 'encoding'"):
        Pipeline([Extract(), FixEncoding(), FixEncoding()])


def test_a_vertical_tab_is_a_line_break_not_glue_between_words() -> None:
    text, fixes = fix("Shift-enter in Word\x0bmakes a vertical tab.")
    assert (text, fixes) == ("Shift-enter in Word\nmakes a vertical tab.", ["replace:vertical_tab"])
    cleaned = pipeline.clean_text("The council met on Monday and\x0bvoted for the new budget after a debate.")
    assert "and voted" in cleaned.text or "and\nvoted" in cleaned.text
    assert "andvoted" not in cleaned.text


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # a list in an immutable config: cfg.stages.append(...) would change it afterwards
        (Config(stages=["extract", "encoding"]), "stages: expected a tuple of strings, got a list"),  # type: ignore[arg-type]
        (Config(stages=("extract", "nope")), r"unknown stage\(s\) \['nope'\]"),  # was KeyError: 'nope'
        # was: every record rejected as a stage_error (str < int)
        (Config(filter=FilterConfig(min_chars="5")), "filter.min_chars: expected a whole number, got '5'"),  # type: ignore[arg-type]
    ],
)
def test_a_config_built_in_python_is_checked_before_use(config: Config, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        pipeline.clean_text("Some words about the weather today in town.", config=config)
    with pytest.raises(ConfigError, match=message):
        Pipeline.from_config(config)
    with pytest.raises(ConfigError, match=message):
        Pipeline([Extract()], config)


def test_run_refuses_a_path_swapped_arguments_and_a_sink_made_with_a_dict(tmp_path: Path) -> None:
    """Each of these was an AttributeError from deep in the runner ('str' object has no attribute
    'close', 'Source' object has no attribute 'release', 'dict' object has no attribute 'content_dict')."""
    pipe = Pipeline.from_config()
    source = Source([str(ROOT / "fixtures" / "dump" / "site")])
    sink = ParquetSink(tmp_path / "out", pipe.config)
    with pytest.raises(
        TypeError, match=r"takes a pipeline.io.readers.Source first, not a path: Source\(\['dump/'\]\)"
    ):
        pipe.run("dump/", sink)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Source first, not ParquetSink"):
        pipe.run(sink, source)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"sink was made with a dict, not a pipeline\.Config"):
        pipe.run(source, ParquetSink(tmp_path / "other", {"filter": {}}))  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists() and not (tmp_path / "other").exists()


def test_a_source_of_one_path_given_alone_is_that_path() -> None:
    """``Source("dump/")`` walked the string's characters (``input not found: f``)."""
    site = ROOT / "fixtures" / "dump" / "site"
    alone, listed = Source(str(site)), Source([str(site)])
    assert alone.inputs == listed.inputs == [site]
    assert [s.paths for s in Source(site).shards()] == [s.paths for s in listed.shards()]


def test_a_doubled_joiner_between_two_persian_letters_is_one_joiner() -> None:
    text, _ = fix("می\u200c\u200cخواهم و Sub\u200d\u200dscribe")
    assert text == "می\u200cخواهم و Subscribe"
