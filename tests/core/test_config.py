"""Configuration: typed, immutable, loadable from TOML, with a hash of what changes output."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path

import pytest

from pipeline import Config, ConfigError
from pipeline.core.config import RANGES
from pipeline.core.typed import Range


def test_defaults_are_frozen() -> None:
    cfg = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.language.seed = 3  # type: ignore[misc]


def test_toml_round_trip_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'stages = ["extract", "encoding", "boilerplate", "language"]\n'
        "[language]\nseed = 7\nsample_chars = 500\n[boilerplate]\nmax_removed_share = 0.4\n[run]\nworkers = 3\n"
    )
    cfg = Config.from_toml(path)
    assert cfg.stages == ("extract", "encoding", "boilerplate", "language")
    assert (cfg.language.seed, cfg.language.sample_chars) == (7, 500)
    assert cfg.boilerplate.max_removed_share == 0.4
    assert cfg.run.workers == 3
    assert cfg.extract == Config().extract


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[language]\nsead = 1\n", "unknown key"),
        ("[langauge]\nseed = 1\n", "unknown key"),
        ("[language]\nseed = 'x'\n", "language.seed: expected a whole number, got 'x'"),
        ("[dedup]\nenabled = 'yes'\n", "expected true/false"),
        ("[boilerplate]\nmax_removed_share = 2.0\n", "max_removed_share"),
        ("stages = ['extract', 'nope']\n", "unknown stage"),
        ("this is not toml", "not valid TOML"),
        ("[language]\nbackend = 'fasttext'\n", "not one of"),
        ("[encoding]\nnormalization = 'NFD'\n", "not one of"),
        ("[encoding]\nunescape_html = 'sometimes'\n", "expected true/false"),
    ],
)
def test_bad_config_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Config.from_toml(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # each of these was taken, or failed later with a TypeError from deep inside a run
        ("[filter]\nmin_chars = 99.9\n", "filter.min_chars: expected a whole number, got 99.9"),
        ("[filter]\nmin_chars = true\n", "filter.min_chars: expected a whole number, got True"),
        ("[run]\nworkers = 1.7\n", "run.workers: expected a whole number"),
        ("[run]\nprogress = 'yes'\n", "run.progress: expected true/false, got 'yes'"),
        ("[reader]\ntext_field = 5\n", "reader.text_field: expected a string, got 5"),
        ("[boilerplate]\nsite_rules_file = 5\n", "boilerplate.site_rules_file: expected a string, got 5"),
        ("[boilerplate]\npacks = [1, 2]\n", r"boilerplate.packs\[0\]: expected a string, got 1"),
        ("[boilerplate]\ndisabled_rules = 'ad.marker'\n", "disabled_rules: expected a list of strings"),
        ("[boilerplate]\nextract_metadata = 1\n", "extract_metadata: expected true/false, got 1"),
        ("[language]\nmin_prob = 'high'\n", "language.min_prob: expected a number, got 'high'"),
        ("[run]\nrecord_timeout_s = nan\n", "run.record_timeout_s: expected a number, got nan"),
        ("[run]\ncompression = 'brotli9'\n", "run.compression: 'brotli9' is not one of"),
        (
            "[run]\nmax_worker_memory = 'lots'\n",
            "run.max_worker_memory: expected a whole number of bytes or a size",
        ),
        ("[output]\npart_bytes = 1.5\n", "output.part_bytes: expected a whole number of bytes"),
        ("[output]\npartition_by = 'lang'\n", "output.partition_by: expected a list of strings, got 'lang'"),
        ("stages = 'extract'\n", "stages: expected a list of strings"),
        ("run = 5\n", "run: expected a table, got 5"),
    ],
)
def test_values_of_the_wrong_type_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Config.from_toml(path)


def test_every_field_refuses_a_value_of_the_wrong_type() -> None:
    """A table where a setting goes is a ConfigError naming the key for every field there is:
    no field type falls through to being taken as given."""
    for section, value in Config().to_dict().items():
        names = list(value) if isinstance(value, dict) else [None]
        for name in names:
            data = {section: {name: {"x": 1}}} if name else {section: {"x": 1}}
            key = f"{section}.{name}" if name else section
            with pytest.raises(ConfigError, match=f"config.{key}: "):
                Config.from_dict(data)


def test_values_as_python_gives_them_round_trip_and_ints_serve_as_floats() -> None:
    assert Config.from_dict(Config().to_dict()) == Config()
    cfg = Config.from_dict({"run": {"record_timeout_s": 5}, "language": {"min_prob": 1}})
    assert cfg.run.record_timeout_s == 5.0 and isinstance(cfg.run.record_timeout_s, float)
    assert isinstance(cfg.language.min_prob, float)


def test_byte_sizes_take_a_unit_as_the_cli_options_do(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[reader]\nmax_record_bytes = '10MB'\nmax_decompressed_bytes = '1G'\n"
        "[extract]\nmax_html_bytes = '512k'\n"
        "[run]\nmax_worker_memory = '4GB'\nrow_group_bytes = '1.5MiB'\n"
        "[output]\npart_bytes = 1048576\n"
    )
    cfg = Config.from_toml(path)
    assert (cfg.reader.max_record_bytes, cfg.reader.max_decompressed_bytes) == (10 << 20, 1 << 30)
    assert cfg.extract.max_html_bytes == 512 << 10
    assert (cfg.run.max_worker_memory, cfg.run.row_group_bytes) == (4 << 30, 3 << 19)
    assert cfg.output.part_bytes == 1 << 20


def test_compression_choices_are_the_cli_flags(tmp_path: Path) -> None:
    from pipeline.cli.run import run_cmd as run
    from pipeline.core.config import COMPRESSIONS

    flag = next(p for p in run.params if p.name == "compression")
    assert tuple(flag.type.choices) == COMPRESSIONS  # type: ignore[attr-defined]
    for codec in COMPRESSIONS:
        assert Config.from_dict({"run": {"compression": codec}}).run.compression == codec


def test_validate_refuses_wrong_types_given_in_python() -> None:
    base = Config()
    for bad in (
        dataclasses.replace(base, encoding=dataclasses.replace(base.encoding, max_chars="5")),  # type: ignore[arg-type]
        dataclasses.replace(base, run=dataclasses.replace(base.run, max_worker_memory="4GB")),  # type: ignore[arg-type]
        dataclasses.replace(base, stages=["extract"]),  # type: ignore[arg-type]
        dataclasses.replace(base, reader=base.extract),  # type: ignore[arg-type]
    ):
        with pytest.raises(ConfigError, match="expected"):
            bad.validate()


def _outside(allowed: Range) -> list[float]:
    values = [allowed.low if allowed.low_open else allowed.low - 1, allowed.low - 1000]
    return [*values, allowed.high + 1] if allowed.high != math.inf else values


@pytest.mark.parametrize("key", list(RANGES))
def test_numeric_settings_out_of_range_are_refused_naming_the_key(key: str) -> None:
    section, name = key.split(".")
    default = getattr(getattr(Config(), section), name)
    for value in _outside(RANGES[key]):
        bad = int(value) if isinstance(default, int) or default is None else value
        with pytest.raises(ConfigError, match=rf"^{key} must be "):
            Config.from_dict({section: {name: bad}})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[encoding]\nmax_chars = 0\n", "encoding.max_chars must be >= 1, got 0"),  # hung the run
        ("[encoding]\nmax_chars = -4\n", "encoding.max_chars must be >= 1, got -4"),
        (
            "[reader]\nmax_record_bytes = 0\n",
            r"reader.max_record_bytes must be in \[1, 1125899906842624\]",
        ),  # every record too_large
        ("[extract]\nmax_depth = 0\n", "extract.max_depth must be >= 1"),  # every page too_deep
        ("[language]\nmin_prob = 5\n", r"language.min_prob must be in \[0, 1\], got 5"),
        ("[language]\nseed = -1\n", "language.seed must be >= 0"),
        ("[boilerplate]\nbudget_min_chars = -1\n", "boilerplate.budget_min_chars must be >= 0"),
        (
            "[run]\nmax_worker_memory = -1\n",
            r"run.max_worker_memory must be in \[256 MiB, 1 PiB\] or 0 \(0 = no limit",
        ),
        (
            "[run]\nmax_worker_memory = 1\n",
            r"run.max_worker_memory must be in \[256 MiB, 1 PiB\] or 0 .*got 1$",
        ),
        (
            "[run]\nmax_worker_memory = '255MiB'\n",
            r"run.max_worker_memory must be in \[256 MiB, 1 PiB\] or 0",
        ),
    ],
)
def test_sweep_ranges(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Config.from_toml(path)


def test_every_numeric_setting_has_a_range_and_the_defaults_are_in_it() -> None:
    hints = typing.get_type_hints(Config)
    numeric = set()
    for section in dataclasses.fields(Config):
        if dataclasses.is_dataclass(hints[section.name]):
            for f in dataclasses.fields(hints[section.name]):
                value = getattr(getattr(Config(), section.name), f.name)
                if f.name == "max_worker_memory" or (
                    isinstance(value, int | float) and not isinstance(value, bool)
                ):
                    numeric.add(f"{section.name}.{f.name}")
    assert numeric == set(RANGES)
    Config().validate()


def test_literal_choices_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[language]\nbackend = 'fast'\n[encoding]\nunescape_html = 'auto'\nnormalization = 'NFKC'\n"
    )
    cfg = Config.from_toml(path)
    assert (cfg.language.backend, cfg.encoding.unescape_html, cfg.encoding.normalization) == (
        "fast",
        "auto",
        "NFKC",
    )


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        Config.from_toml(tmp_path / "nope.toml")


def test_hash_covers_content_settings_but_not_run_knobs() -> None:
    base = Config()
    assert base.hash == Config().hash
    more_workers = dataclasses.replace(base, run=dataclasses.replace(base.run, workers=8, batch_size=7))
    assert more_workers.hash == base.hash
    other_seed = dataclasses.replace(base, language=dataclasses.replace(base.language, seed=1))
    assert other_seed.hash != base.hash
    reordered = dataclasses.replace(base, stages=tuple(reversed(base.stages)))
    assert reordered.hash != base.hash


def test_hash_follows_rule_file_content_not_just_its_path(tmp_path: Path) -> None:
    pack = tmp_path / "site-rules.toml"
    pack.write_text("[pack]\nname = 'a'\n")
    base = Config()
    cfg = dataclasses.replace(
        base, boilerplate=dataclasses.replace(base.boilerplate, site_rules_file=str(pack))
    )
    first = cfg.hash
    assert first != base.hash
    pack.write_text("[pack]\nname = 'b'\n")  # a reviewer edits the learned rules
    assert cfg.hash != first


def test_a_moved_setting_is_read_under_its_new_name_with_a_warning() -> None:
    with pytest.warns(FutureWarning, match=r"extract\.timeout_s is now run\.record_timeout_s"):
        cfg = Config.from_dict({"extract": {"timeout_s": 7, "max_depth": 50}})
    assert cfg.run.record_timeout_s == 7.0 and cfg.extract.max_depth == 50
    # an override (the Python API, an Airflow task's settings) is read the same way
    with pytest.warns(FutureWarning, match=r"override: extract\.timeout_s is now run\.record_timeout_s"):
        assert Config().with_overrides({"extract.timeout_s": 9}).run.record_timeout_s == 9.0
    with pytest.warns(FutureWarning):
        both = Config().with_overrides({"extract.timeout_s": 9, "run.record_timeout_s": 4})
    assert both.run.record_timeout_s == 4.0  # the new name wins


@pytest.mark.parametrize(("old", "share"), [(0, 0.0), (250, 0.35), (1000, 0.35)])
def test_the_retired_length_threshold_is_read_with_a_warning(old: int, share: float) -> None:
    """``extract.fast_retry_below`` was a length; its replacement is a share of the page's text:
    0 (never extract again) keeps its meaning, a length is ignored, a new setting beside it wins."""
    warned = r"extract\.fast_retry_below is retired; replaced by extract\.slow_share_below"
    with pytest.warns(FutureWarning, match=warned):
        cfg = Config.from_dict({"extract": {"fast_retry_below": old, "max_depth": 50}})
    assert cfg.extract.slow_share_below == share and cfg.extract.max_depth == 50
    with pytest.warns(FutureWarning, match=warned):
        assert Config().with_overrides({"extract.fast_retry_below": old}).extract.slow_share_below == share
    with pytest.warns(FutureWarning, match=warned):
        both = Config.from_dict({"extract": {"fast_retry_below": 0, "slow_share_below": 0.5}})
    assert both.extract.slow_share_below == 0.5
    assert "fast_retry_below" not in Config().content_dict()["extract"]


def test_with_overrides_reads_values_as_a_config_file_does() -> None:
    cfg = Config().with_overrides(
        {
            "run.workers": 3,
            "run.max_worker_memory": "4GB",
            "stages": ["extract", "encoding"],
            "dedup.enabled": False,
        }
    )
    assert (cfg.run.workers, cfg.run.max_worker_memory) == (3, 4 << 30)
    assert cfg.stages == ("extract", "encoding") and not cfg.dedup.enabled
    assert Config().with_overrides({}) == Config()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"run.wrkers": 1}, r"unknown setting\(s\) \['run\.wrkers'\]"),
        ({"nosection.x": 1}, "unknown setting nosection.x"),
        ({"run.workers": "two"}, "run.workers: expected a whole number"),
        ({"stages": ["extract", "nope"]}, "unknown stage"),
        ({"run.workers": -1}, "run.workers must be"),
    ],
)
def test_with_overrides_names_the_bad_setting(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config().with_overrides(overrides)


def test_every_stage_name_a_config_accepts_is_one_the_registry_builds() -> None:
    from pipeline.core.config import STAGE_NAMES
    from stages.registry import IMPLIED, STAGE_CLASSES, STAGE_FACTORIES

    assert set(STAGE_FACTORIES) == set(STAGE_CLASSES) == STAGE_NAMES | set(IMPLIED)
    assert not STAGE_NAMES & set(IMPLIED)  # a config never names a stage the chain implies


def test_config_data_of_the_wrong_shape_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        Config.from_toml(tmp_path)  # a directory
    for data in (None, [1], "run.workers = 2"):
        with pytest.raises(ConfigError, match="settings must be a table of sections"):
            Config.from_dict(data)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="named by a string"):
        Config().with_overrides({5: 1})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("where", "meant"),
    [("[run]\nworker = 2\n", "'workers' for 'worker'"), ("[filtr]\nmin_chars = 2\n", "'filter' for 'filtr'")],
)
def test_a_mistyped_key_of_a_config_file_is_suggested(tmp_path: Path, where: str, meant: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(where)
    with pytest.raises(ConfigError) as info:
        Config.from_toml(path)
    assert info.value.hint is not None and f"did you mean {meant}?" in info.value.hint


def test_a_mistyped_override_is_suggested() -> None:
    with pytest.raises(ConfigError) as info:
        Config().with_overrides({"run.worker": 2})
    assert info.value.hint is not None and "did you mean 'run.workers' for 'run.worker'?" in info.value.hint
    with pytest.raises(ConfigError) as info:
        Config().with_overrides({"filtr.min_chars": 2})
    assert info.value.hint is not None and "did you mean filter.min_chars?" in info.value.hint
