"""``cleanwire stats``: numbers computed from a real run's output, in both output layouts."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import pipeline.io.output_reader as output_reader
import pipeline.reporting.kept_stats as kept_stats
from pipeline import Config, Pipeline
from pipeline.cli import cli
from pipeline.execution.engines import SerialEngine
from pipeline.io.layout import OutputLayout
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from pipeline.reporting.lengths import LengthDist, log_edges, quantize_array, quantize_length
from pipeline.reporting.stats import compute_stats

CONSENT = (
    "We use your sign-up to provide content in ways you’ve consented to and to improve our understanding "
    "of you. This may include adverts from us and 3rd parties based on our understanding. You can "
    "unsubscribe at any time. More info"
)
TRAILER = "Source: Read Full Article"
BODY = (
    "The {n} harbour committee met on Tuesday to agree a new schedule for the ferry crossing, which has "
    "been disrupted by storms for most of the winter. Members said the repairs would take six weeks."
)


def _article(n: int, *, consent: bool, trailer: bool) -> str:
    parts = [f"Harbour news number {n}", BODY.format(n=n)]
    if consent:
        parts.append(CONSENT)
    parts.append("The operator thanked passengers for their patience during the closure.")
    if trailer:
        parts.append(TRAILER)
    return "\n\n".join(parts)


def write_dump(path: Path) -> None:
    """12 good records on two sites (4 with a consent notice, 6 with a trailer), one duplicate,
    one invalid JSON line, one empty record and one (zero-width spaces only) that is empty after cleaning."""
    lines = []
    for n in range(12):
        site = "www.coast-watch.example" if n < 8 else "ledger.example"
        text = _article(n, consent=n < 4, trailer=n % 2 == 0)
        lines.append(json.dumps({"id": f"doc-{n}", "url": f"https://{site}/news/{n}", "text": text}))
    lines.append(
        json.dumps(
            {
                "id": "dup",
                "url": "https://ledger.example/dup",
                "text": _article(9, consent=False, trailer=False),
            }
        )
    )
    lines.append('{"id": "broken", "text": "unterminated')
    lines.append(json.dumps({"id": "empty", "text": "   "}))
    lines.append(json.dumps({"id": "invisible", "url": "https://ledger.example/t", "text": "\u200b\u200b"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


#: The records share one template (numbered copies of a story): near-duplicates of each other by
#: design, so near_dedup drops exact copies only here.
CFG = Config().with_overrides({"near_dedup.enabled": False})


def run_pipeline(src: Path, out: Path) -> None:
    cfg = CFG
    Pipeline.from_config(cfg).run(
        Source([str(src)], cfg.reader), ParquetSink(out, cfg), engine=SerialEngine()
    )


def cleaned_dump(base: Path) -> Path:
    """The test dump written under ``base`` and cleaned into ``base / "out"`` (returned)."""
    write_dump(base / "dump.jsonl")
    run_pipeline(base / "dump.jsonl", base / "out")
    return base / "out"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cleaned_dump(tmp_path_factory.mktemp("stats"))


def test_counts_match_what_went_in(run_dir: Path) -> None:
    st = compute_stats(run_dir)
    assert (st.n_in, st.n_kept, st.n_rejected, st.n_dropped) == (16, 12, 3, 1)
    reasons = {(rs.status, rs.key): rs.count for rs in st.left.reasons.values()}
    assert reasons == {
        ("rejected", "read/invalid_json"): 1,
        ("rejected", "extract/empty"): 1,
        ("rejected", "filter/empty_after_cleaning"): 1,
        ("dropped", "near_dedup/duplicate"): 1,
    }
    assert st.manifest_mismatch() == []
    manifest = json.loads(OutputLayout(run_dir).manifest.read_text())
    assert manifest["counts"]["n_kept"] == st.n_kept


def test_funnel_follows_the_stage_order(run_dir: Path) -> None:
    funnel = compute_stats(run_dir).funnel()
    assert [r.stage for r in funnel] == ["read", *Config().stages]  # the chain as it ran
    assert funnel[0].entered == 16
    for prev, row in itertools.pairwise(funnel):
        assert row.entered == prev.passed
    assert funnel[-1].passed == 12
    by_stage = {r.stage: (r.rejected, r.dropped) for r in funnel}
    assert by_stage["read"] == (1, 0)
    assert by_stage["near_dedup"] == (0, 1)
    # the manifest's own per-stage counts agree with the funnel derived from the files
    manifest = json.loads(OutputLayout(run_dir).manifest.read_text())
    for row in funnel[1:]:
        assert manifest["stages"][row.stage]["n_in"] == row.entered


def test_funnel_of_a_python_pipelines_own_chain_is_that_chain(tmp_path: Path) -> None:
    # a chain of three stages, one of them a user's: the config's default list (filter,
    # near_dedup ...) names stages this run never ran
    from pipeline.core.record import Doc
    from pipeline.core.stage import DocStage, DropRecord
    from stages.extract import Extract
    from stages.normalize import NormalizeWhitespace

    class DropShort(DocStage):
        name = "drop_short"

        def process(self, doc: Doc) -> None:
            if len(doc.text or "") < 200:
                raise DropRecord("short")

    write_dump(tmp_path / "dump.jsonl")
    Pipeline([Extract(), NormalizeWhitespace(), DropShort()], CFG).run(
        Source([str(tmp_path / "dump.jsonl")], CFG.reader),
        ParquetSink(tmp_path / "out", CFG),
        engine=SerialEngine(),
    )
    funnel = compute_stats(tmp_path / "out").funnel()
    assert [r.stage for r in funnel] == ["read", "extract", "normalize", "drop_short"]
    manifest = json.loads(OutputLayout(tmp_path / "out").manifest.read_text())
    for row in funnel[1:]:
        assert manifest["stages"][row.stage]["n_in"] == row.entered
    assert funnel[-1].passed == manifest["counts"]["n_kept"]


def test_removals_by_rule_category_and_site(run_dir: Path) -> None:
    st = compute_stats(run_dir)
    k = st.kept
    consent = k.rules["signup.consent.en"]
    assert (consent.spans, consent.docs, consent.chars) == (4, 4, 4 * len(CONSENT))
    trailer = k.rules["source.read_full_article"]
    assert (trailer.spans, trailer.docs, trailer.chars) == (6, 6, 6 * len(TRAILER))
    assert k.categories["signup_notice"].chars == 4 * len(CONSENT)
    assert k.chars_removed == 4 * len(CONSENT) + 6 * len(TRAILER)
    assert k.docs_with_removals == 8  # consent on 0-3, trailer on 0,2,4,6,8,10
    coast = k.sites["coast-watch.example"]
    ledger = k.sites["ledger.example"]
    assert (coast.docs, ledger.docs) == (8, 4)
    assert coast.chars_removed == 4 * len(CONSENT) + 4 * len(TRAILER)
    assert ledger.chars_removed == 2 * len(TRAILER)
    assert [s for s, _ in st.top_sites()] == ["coast-watch.example", "ledger.example"]
    assert k.langs == Counter({"en": 12})


def test_lengths_are_the_records_lengths(run_dir: Path) -> None:
    st = compute_stats(run_dir)
    table = pq.read_table(sorted(run_dir.glob("part-*.parquet"))[0])
    texts = [
        len(t)
        for f in sorted(run_dir.glob("part-*.parquet"))
        for t in pq.read_table(f).column("text").to_pylist()
    ]
    assert table.num_rows == len(texts) == st.kept.len_text.n
    assert st.kept.len_text.total == sum(texts)
    assert st.kept.len_text.max == max(texts)
    assert st.kept.len_before.total == sum(texts) + st.kept.chars_removed


def test_hive_partitioned_layout_gives_the_same_numbers(run_dir: Path, tmp_path: Path) -> None:
    """Another layout of the same rows: ``lang=xx/part-*.parquet`` without the lang column."""
    hive = tmp_path / "hive"
    shutil.copytree(run_dir, hive, ignore=shutil.ignore_patterns("part-*.parquet"))
    for i, f in enumerate(sorted(run_dir.glob("part-*.parquet"))):
        table = pq.read_table(f)
        for lang in pc.unique(table.column("lang")).to_pylist():
            part = table.filter(pc.equal(table.column("lang"), lang)).drop_columns(["lang"])
            (hive / f"lang={lang}").mkdir(exist_ok=True)
            pq.write_table(part, hive / f"lang={lang}" / f"part-{i:05d}.parquet")
    flat, nested = compute_stats(run_dir).to_dict(), compute_stats(hive).to_dict()
    flat.pop("out_dir"), nested.pop("out_dir")
    assert nested == flat


def test_partitioned_run_gives_the_same_numbers(run_dir: Path, tmp_path: Path) -> None:
    """The sink's own hive layout (``--partition-by lang,month``), end to end."""
    cfg = dataclasses.replace(CFG, output=dataclasses.replace(CFG.output, partition_by=("lang", "month")))
    write_dump(tmp_path / "dump.jsonl")
    out = tmp_path / "out"
    Pipeline.from_config(cfg).run(
        Source([str(tmp_path / "dump.jsonl")], cfg.reader), ParquetSink(out, cfg), engine=SerialEngine()
    )
    assert any(p.parent != out for p in out.rglob("part-*.parquet")), "expected partition directories"
    flat, nested = compute_stats(run_dir).to_dict(), compute_stats(out).to_dict()
    for d in (flat, nested):  # examples name the input path, which differs between the two runs
        d.pop("out_dir")
        for reason in d["reasons"]:
            reason.pop("examples")
    assert nested == flat


def test_result_does_not_depend_on_batch_size(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = compute_stats(run_dir, keep_top=3)
    monkeypatch.setattr(output_reader, "BATCH_ROWS", 2)
    monkeypatch.setattr(kept_stats, "SITE_COMPACT_ROWS", 3)
    small = compute_stats(run_dir, keep_top=3)
    assert small.to_dict() == whole.to_dict()
    assert small.kept.top_removal_ids() == whole.kept.top_removal_ids() == ["doc-2", "doc-0", "doc-3"]


def test_vectorised_quantizing_matches_the_scalar_one() -> None:
    values = [0, 1, 999, 1000, 1004, 1005, 9994, 9995, 99_949, 99_950, 10**12 + 5 * 10**9, 2**62]
    values += [random.Random(3).randrange(10**9) for _ in range(500)]
    assert quantize_array(pa.array(values, pa.int64())).to_pylist() == [quantize_length(v) for v in values]
    scalar, vector = LengthDist(), LengthDist()
    scalar.add(values)
    vector.add_array(pa.array(values, pa.int64()))
    assert (scalar.counts, scalar.total, scalar.max, scalar.min) == (
        vector.counts,
        vector.total,
        vector.max,
        vector.min,
    )


def test_without_manifest_stats_still_work_and_a_wrong_manifest_is_flagged(
    run_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    manifest = json.loads(OutputLayout(copy).manifest.read_text())
    manifest["counts"]["n_kept"] = 99
    OutputLayout(copy).manifest.write_text(json.dumps(manifest))
    assert compute_stats(copy).manifest_mismatch() == ["n_kept: files say 12, manifest says 99"]
    OutputLayout(copy).manifest.unlink()
    st = compute_stats(copy)
    assert st.n_in == 16 and st.manifest_mismatch() == []


def test_a_run_still_in_progress_counts_its_finished_shards(run_dir: Path, tmp_path: Path) -> None:
    """Before the run ends there are no rejects/dropped files yet, only per-shard files in the state."""
    copy = tmp_path / "running"
    shutil.copytree(run_dir, copy)
    layout = OutputLayout(copy)
    for path in (layout.manifest, layout.left("rejects"), layout.left("dropped")):
        path.unlink()
    assert layout.shard_lefts("rejects")
    st = compute_stats(copy)
    assert (st.n_in, st.n_kept, st.n_rejected, st.n_dropped) == (16, 12, 3, 1)


def test_quantized_lengths_and_quantiles() -> None:
    assert [quantize_length(n) for n in (0, 7, 999, 1000, 1004, 1005, 123456)] == [
        0,
        7,
        999,
        1000,
        1000,
        1010,
        123000,
    ]
    rng = random.Random(7)
    values = [int(rng.lognormvariate(7, 1.5)) for _ in range(5000)]
    dist = LengthDist()
    dist.add(values)
    ordered = sorted(values)
    for q in (0.1, 0.5, 0.9, 0.99):
        exact = ordered[math.ceil(q * len(values)) - 1]
        assert abs(dist.quantile(q) - exact) <= max(0.005 * exact, 0.5)
    edges = log_edges(max(values))
    assert sum(dist.histogram(edges)) == len(values)
    assert len(dist.counts) < 2000  # bounded by distinct quantized lengths, not by records


def test_cli_table_and_json(run_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["stats", str(run_dir), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["counts"] == {"n_in": 16, "n_kept": 12, "n_rejected": 3, "n_dropped": 1}
    assert data["rules"]["signup.consent.en"]["chars"] == 4 * len(CONSENT)
    assert data["sites"]["coast-watch.example"]["docs"] == 8
    res = runner.invoke(cli, ["stats", str(run_dir)])
    assert res.exit_code == 0, res.output
    for heading in ("Records through each stage", "Rejected and dropped by reason", "Top removing rules"):
        assert heading in res.output
    assert "read/invalid_json" in res.output and "signup.consent.en" in res.output


def test_cli_on_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["stats", str(tmp_path)])
    assert res.exit_code == 3
    assert "no cleanwire output" in res.output
