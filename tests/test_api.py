"""The module API: clean_text, Pipeline composition, stages as Arrow batch transforms."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline import Config, Pipeline
from pipeline.core.record import Doc, Status, check_input, docs_from_batch, docs_to_batch, input_batch
from pipeline.core.schema import OUTPUT_SCHEMA, WORK_SCHEMA
from pipeline.core.stage import DocStage, DropRecord
from pipeline.io.layout import OutputLayout
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from stages import Boilerplate, Dedup, DetectLanguage, Extract, FixEncoding, NormalizeWhitespace

ARTICLE = (
    "Ferry service returns to Kestrel Bay\n\n"
    "The island ferry resumed sailings on Saturday after a six-week suspension caused by a damaged ramp.\n\n"
    "Source: Read Full Article"
)


def test_clean_text_returns_typed_result() -> None:
    result = pipeline.clean_text(ARTICLE)
    assert isinstance(result, pipeline.Cleaned)
    assert result.text == (
        "Ferry service returns to Kestrel Bay\n\n"
        "The island ferry resumed sailings on Saturday after a six-week suspension caused by a damaged ramp."
    )
    assert result.title == "Ferry service returns to Kestrel Bay"
    assert [r.rule for r in result.removed] == ["source.read_full_article"]
    assert result.lang == "en"


def test_clean_text_html_keeps_metadata() -> None:
    html = (
        "<html><head><title>Ferry | Coast Watch</title></head><body><article><h1>Ferry service returns</h1>"
        "<p>The island ferry resumed sailings on Saturday after a six-week suspension caused by a damaged "
        "ramp, the operator said.</p><p>Passengers are advised to book ahead during the summer months.</p>"
        "</article></body></html>"
    )
    result = pipeline.clean_text(html, fmt="html", url="https://coastwatch.example/ferry")
    assert result.ok
    assert result.title == "Ferry service returns"
    assert result.text.startswith("Ferry service returns\n\nThe island ferry resumed sailings")
    assert "Passengers are advised" in result.text


def test_clean_text_reads_auto_as_html_or_text_and_refuses_an_unknown_format() -> None:
    html = (
        "<html><body><article><h1>Ferry service returns</h1><p>"
        + ARTICLE.split("\n\n")[1]
        + "</p></article></body></html>"
    )
    auto = pipeline.clean_text("  " + html, fmt="auto")
    assert auto.text == pipeline.clean_text(html, fmt="html").text
    assert "<" not in auto.text and "ferry resumed sailings" in auto.text
    assert pipeline.clean_text(ARTICLE, fmt="auto").text == pipeline.clean_text(ARTICLE).text
    with pytest.raises(ValueError, match="'HTML'"):
        pipeline.clean_text(html, fmt="HTML")
    for wrong in (None, 5, [html]):
        with pytest.raises(TypeError, match="takes a str or bytes"):
            pipeline.clean_text(wrong)  # type: ignore[arg-type]


def test_clean_text_rejects_empty_input_without_raising() -> None:
    result = pipeline.clean_text("   \n ")
    assert not result.ok
    assert (result.status, result.stage, result.reason) == ("rejected", "extract", "empty")


def test_stage_process_batch_keeps_rows_and_marks_failures() -> None:
    batch = input_batch(
        [
            {"id": "a", "source": "t", "raw": ARTICLE, "format": "text"},
            {"id": "b", "source": "t", "raw": "", "format": "text"},
            {"id": "c", "source": "t", "raw": "<html><body></body></html>", "format": "html"},
        ]
    )
    out = Extract().process_batch(batch)
    assert out.schema == WORK_SCHEMA
    assert out.column("id").to_pylist() == ["a", "b", "c"]
    assert out.column("status").to_pylist() == ["ok", "rejected", "rejected"]
    assert out.column("reason").to_pylist()[1:] == ["empty", "no_content"]


def test_stages_compose_over_arrow_batches_like_a_distributed_engine_would() -> None:
    stages = [Extract(), FixEncoding(), Boilerplate(), NormalizeWhitespace(), DetectLanguage()]
    batch = input_batch([{"id": "x", "source": "t", "raw": ARTICLE.replace("’", "â€™"), "format": "text"}])
    for stage in stages:  # each stage alone, Arrow in and Arrow out
        batch = stage.process_batch(batch)
    whole = Pipeline(stages).process_batch(
        input_batch([{"id": "x", "source": "t", "raw": ARTICLE.replace("’", "â€™"), "format": "text"}])
    )
    assert batch.to_pylist() == whole.to_pylist()
    (doc,) = docs_from_batch(batch)
    assert doc.lang == "en"
    assert [r.category for r in doc.removed] == ["source_link"]


class DropOdd(DocStage):
    """A user-written stage: drops records whose id ends in an odd digit."""

    name = "drop_odd"

    def process(self, doc: Doc) -> None:
        if int(doc.id[-1]) % 2:
            raise DropRecord("odd_id")


class Explode(DocStage):
    name = "explode"

    def process(self, doc: Doc) -> None:
        raise ValueError("boom")


def test_custom_stages_plug_in_and_errors_become_rejects(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_text(
        "".join(f'{{"id": "r{i}", "text": "Record number {i} of the test dump."}}\n' for i in range(6))
    )
    cfg = Config()
    pipe = Pipeline([Extract(), DropOdd(), NormalizeWhitespace()], cfg)
    report = pipe.run(Source([dump]), ParquetSink(tmp_path / "out", cfg))
    assert (report.tally.n_in, report.tally.n_kept, report.tally.n_dropped) == (6, 3, 3)
    assert report.tally.dropped == {"drop_odd/odd_id": 3}
    kept = pq.read_table(tmp_path / "out" / "part-00000.parquet")
    assert kept.schema.remove_metadata() == OUTPUT_SCHEMA
    assert kept.column("id").to_pylist() == ["r0", "r2", "r4"]

    doc = Doc(id="z1", source="t", raw="text", text="text")
    Explode().process_docs([doc])
    assert doc.status is Status.REJECTED
    assert (doc.stage, doc.reason) == ("explode", "stage_error")
    assert doc.detail == "ValueError: boom"


def test_another_chain_of_stages_is_another_run_for_resume_and_the_manifest(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_text("".join(f'{{"id": "r{i}", "text": "Record {i} of the dump."}}\n' for i in range(4)))
    cfg = Config()
    assert Pipeline.from_config(cfg).run_hash == cfg.hash  # the configured chain: the config's hash
    plain = Pipeline([Extract(), NormalizeWhitespace()], cfg)
    report = plain.run(Source([dump]), ParquetSink(tmp_path / "out", cfg))
    manifest = json.loads(OutputLayout(tmp_path / "out").manifest.read_text())
    assert manifest["stages_run"] == ["extract", "normalize"] and manifest["config_hash"] == plain.run_hash
    assert plain.run_hash != cfg.hash and report.tally.n_kept == 4
    # the same chain again: up to date; another chain into that directory: refused, nothing mixed
    again = Pipeline([Extract(), NormalizeWhitespace()], cfg)
    assert again.run(Source([dump]), ParquetSink(tmp_path / "out", cfg)).up_to_date
    other = Pipeline([Extract(), DropOdd(), NormalizeWhitespace()], cfg)
    with pytest.raises(pipeline.OutputError, match="the same settings, but another chain of stages"):
        other.run(Source([dump]), ParquetSink(tmp_path / "out", cfg))
    assert other.run(Source([dump]), ParquetSink(tmp_path / "out", cfg, overwrite=True)).tally.n_kept == 2


def test_doc_batch_round_trip_preserves_every_field() -> None:
    doc = Doc(id="1", source="s:1", raw="r", format="html", url="https://x.example/a", text="t", title="T")
    doc.lang, doc.lang_prob = "fr", 0.75
    doc.encoding_fixes = ["apply:unescape_html"]
    doc.flags = ["f"]
    doc.drop("dedup", "duplicate", "same hash")
    (back,) = docs_from_batch(docs_to_batch([doc]))
    assert back == doc


def test_pipeline_from_config_follows_configured_order() -> None:
    cfg = Config(stages=("extract", "boilerplate", "encoding", "language"))
    names = [s.name for s in Pipeline.from_config(cfg).stages]
    assert names == ["extract", "boilerplate", "encoding", "language"]
    default = [s.name for s in Pipeline.from_config().stages]
    assert default[:4] == ["extract", "encoding", "boilerplate", "normalize"]


def test_unknown_stage_is_a_config_error() -> None:
    with pytest.raises(pipeline.ConfigError, match="unknown stage"):
        Config.from_dict({"stages": ["extract", "telepathy"]})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stages": ["language"]}, "must start with extract"),  # every record kept, with no text
        ({"stages": []}, "must start with extract"),
        ({"stages": ["extract", "encoding", "extract"]}, "named twice"),
        ({"filter": {"min_chars": -3}}, "min_chars must be >= 0"),
        ({"language": {"sample_chars": 0}}, "sample_chars must be >= 1"),
    ],
)
def test_configs_that_cannot_clean_anything_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(pipeline.ConfigError, match=message):
        Config.from_dict(data)


def test_table_input_accepted() -> None:
    table = pa.Table.from_batches([input_batch([{"id": "a", "source": "t", "raw": ARTICLE}])])
    out = Pipeline.from_config().process_batch(table)
    assert isinstance(out, pa.Table)  # a table for a table: what Ray Data's map_batches takes
    assert out.column("status").to_pylist() == ["ok"]
    assert isinstance(Boilerplate().process_batch(table), pa.Table)
    assert isinstance(Boilerplate().process_batch(table.to_batches()[0]), pa.RecordBatch)


def test_stages_import_first_in_a_fresh_interpreter() -> None:
    """The design's entry point `from stages import ...` must work before `pipeline` is imported."""
    import subprocess
    import sys

    code = "from stages import Extract, Boilerplate, FixEncoding, DetectLanguage; import pipeline"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def user_table(**columns: object) -> pa.Table:
    other = ARTICLE.replace("on Saturday", "on Sunday")  # not a duplicate of the first
    base: dict[str, object] = {"id": ["a", "b"], "source": ["s", "s"], "raw": [ARTICLE, other]}
    return pa.table({**base, **columns})


def test_process_batch_takes_a_user_table_with_only_the_required_columns_and_extra_ones() -> None:
    table = user_table(section=["news", "sport"], score=[1.5, 2.0])
    # the two records are one story and its update: near-duplicates, so exact copies only here
    out = Pipeline.from_config(Config().with_overrides({"near_dedup.enabled": False})).process_batch(table)
    assert isinstance(out, pa.Table)
    assert out.schema == WORK_SCHEMA  # columns outside the work schema are not carried over
    assert out.column("status").to_pylist() == ["ok", "ok"]
    assert out.column("format").to_pylist() == ["text", "text"]
    assert out.column("text").to_pylist()[0].startswith("Ferry service returns to Kestrel Bay")
    nulls = user_table(format=pa.array([None, "html"]), url=pa.array([None, None], pa.null()))
    assert Extract().process_batch(nulls).column("format").to_pylist() == ["text", "html"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"id": ["a"], "raw": [ARTICLE]}), "input has no 'source' column"),
        (pa.table({"raw": [ARTICLE]}), "input has no 'id', 'source' column"),
        (user_table(id=["a", None]), "input column 'id' is null in row 1"),
        (user_table(source=[None, "s"]), "input column 'source' is null in row 0"),
        (user_table(raw=[ARTICLE, None]), "input column 'raw' is null in row 1"),
        (user_table(id=[1, 2]), "input column 'id' is int64, not strings"),
        (user_table(raw=[1.5, 2.0]), "input column 'raw' is double, not strings"),
        (
            user_table(format=["text", "pdf"]),
            "input column 'format' has 'pdf' in row 1; allowed values: 'text', 'html'",
        ),
        (user_table(format=["HTML", "text"]), "input column 'format' has 'HTML' in row 0"),
        (user_table(status=["ok", "weird"]), "input column 'status' has 'weird' in row 1"),
    ],
)
def test_process_batch_refuses_a_table_that_does_not_fit_naming_the_column(
    table: pa.Table, message: str
) -> None:
    for run in (Pipeline.from_config().process_batch, Extract().process_batch, Dedup().process_batch):
        with pytest.raises(ValueError, match=re.escape(message)):
            run(table)
        with pytest.raises(ValueError, match=re.escape(message)):
            run(table.to_batches()[0])  # a record batch too (a verdict stage reads it as Docs)


def test_the_input_check_passes_every_batch_a_reader_or_a_stage_makes() -> None:
    batch = input_batch([{"id": "a", "source": "t", "raw": ARTICLE}, {"id": "b", "source": "t", "raw": ""}])
    check_input(batch)
    out = Pipeline.from_config().process_batch(batch)
    check_input(out)
    assert [d.status for d in docs_from_batch(out)] == [Status.OK, Status.REJECTED]
    large = batch.cast(
        pa.schema([f.with_type(pa.large_string()) if f.type == pa.string() else f for f in WORK_SCHEMA])
    )
    assert [d.id for d in docs_from_batch(large)] == ["a", "b"]


@pytest.mark.parametrize("fmt", ["html", "text"])
def test_clean_text_reads_a_lone_surrogate_as_the_readers_do(fmt: str) -> None:
    # one U+FFFD, as `cleanwire run` gives for the same record in a JSONL file (the HTML used to
    # be parsed from its surrogatepass bytes: three)
    body = "Bad \udcff char. The harbour council met on Monday to discuss the new ferry timetable."
    raw = f"<html><body><article><p>{body}</p></article></body></html>" if fmt == "html" else body
    cleaned = pipeline.clean_text(raw, fmt=fmt)
    assert cleaned.text is not None and cleaned.text.count("\ufffd") == 1
    assert "Bad \ufffd char." in cleaned.text


def test_a_pipeline_in_a_run_refuses_a_second_run_from_another_thread(tmp_path: Path) -> None:
    import threading

    from pipeline.core.errors import CleanwireError
    from pipeline.execution.engines import SerialEngine

    entered, release = threading.Event(), threading.Event()

    class Holds(DocStage):
        name = "holds"

        def process(self, doc: Doc) -> None:
            entered.set()
            assert release.wait(30)

    (tmp_path / "d.txt").write_text(ARTICLE)
    cfg = Config()
    pipe = Pipeline([Extract(), Holds()], cfg)
    reports: list[object] = []

    def first() -> None:
        sink = ParquetSink(tmp_path / "a", cfg)
        reports.append(pipe.run(Source([str(tmp_path / "d.txt")]), sink, engine=SerialEngine()))

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert entered.wait(30)
        with pytest.raises(CleanwireError, match="already in a run"):
            pipe.run(
                Source([str(tmp_path / "d.txt")]), ParquetSink(tmp_path / "b", cfg), engine=SerialEngine()
            )
    finally:
        release.set()
        worker.join(30)
    assert len(reports) == 1
    # one after the other is fine
    again = pipe.run(
        Source([str(tmp_path / "d.txt")]), ParquetSink(tmp_path / "c", cfg), engine=SerialEngine()
    )
    assert again.tally.n_kept == 1


def test_a_sink_made_with_other_settings_than_the_pipelines_is_refused(tmp_path: Path) -> None:
    from pipeline.core.errors import ConfigError
    from pipeline.execution.engines import SerialEngine

    (tmp_path / "d.txt").write_text(ARTICLE)
    ours = Config().with_overrides({"output.partition_by": ["lang"]})
    pipe = Pipeline.from_config(ours)
    with pytest.raises(ConfigError, match="other settings than the pipeline's"):
        pipe.run(
            Source([str(tmp_path / "d.txt")]), ParquetSink(tmp_path / "a", Config()), engine=SerialEngine()
        )
    assert not (tmp_path / "a").exists()
    # execution settings (outside the config hash) may differ
    sink_cfg = ours.with_overrides({"run.workers": 1})
    report = pipe.run(
        Source([str(tmp_path / "d.txt")]), ParquetSink(tmp_path / "b", sink_cfg), engine=SerialEngine()
    )
    assert report.tally.n_kept == 1 and list((tmp_path / "b").glob("lang=*/part-*.parquet"))
