"""A dump mixing good and broken records: the run exits 0, broken ones are rejects with a reason,
and every record is accounted for."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.accounting import rows_where
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left

BODY = "The {n} annual regatta drew {k} boats to the estuary on Sunday, the sailing club said in a statement."


def make_mixed_dump(root: Path) -> Path:
    dump = root / "dump"
    (dump / "pages").mkdir(parents=True)
    (dump / "pages" / "good.txt").write_text("Regatta\n\n" + BODY.format(n="first", k=40), encoding="utf-8")
    (dump / "pages" / "empty.txt").write_bytes(b"")
    (dump / "pages" / "blank.txt").write_bytes(b" \n\t\n")
    (dump / "pages" / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (dump / "pages" / "latin1.txt").write_bytes(
        ("Café owners welcome " + BODY.format(n="fifth", k=9)).encode("latin-1")
    )
    lines = [
        json.dumps({"id": "j1", "text": BODY.format(n="second", k=51)}).encode(),
        b'{"id": "j2", "text": "truncated',
        b'{"id": "j3", "text": "bad \xff\xfe bytes here"}',
        json.dumps({"id": "j4", "text": 42}).encode(),
        json.dumps([1, 2]).encode(),
        json.dumps({"id": "j6", "title": "no text field"}).encode(),
        json.dumps({"id": "j7", "text": BODY.format(n="second", k=51)}).encode(),  # duplicate of j1
        b"",
        json.dumps(
            {"id": "j8", "html": "<html><body><p>" + BODY.format(n="third", k=12) + "</p></body></html>"}
        ).encode(),
    ]
    (dump / "feed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    with gzip.open(dump / "more.jsonl.gz", "wb") as fh:
        fh.write(json.dumps({"id": "g1", "text": BODY.format(n="fourth", k=7)}).encode() + b"\n")
    return dump


def test_mixed_dump_accounts_for_every_record(tmp_path: Path) -> None:
    dump = make_mixed_dump(tmp_path)
    out = tmp_path / "out"
    # the good records are one template with other numbers: near-duplicates, so exact copies only
    res = CliRunner().invoke(cli, ["run", str(dump), "-o", str(out), "--workers", "1", "--no-near-dedup"])
    assert res.exit_code == 0, res.output
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    counts = manifest["counts"]
    # 5 page files + 8 non-blank JSONL lines + 1 gz line
    assert counts["n_in"] == 14
    assert counts["n_in"] == counts["n_kept"] + counts["n_dropped"] + counts["n_rejected"]
    rejects = {r["id"]: r for r in read_left(OutputLayout(out).left("rejects")).to_pylist()}
    by_reason = {(r["stage"], r["reason"]) for r in rejects.values()}
    assert {
        ("extract", "empty"),
        ("read", "undecodable"),
        ("read", "invalid_json"),
        ("read", "invalid_utf8"),
        ("read", "wrong_type"),
        ("read", "missing_field"),
    } <= by_reason
    assert counts["rejected"]["extract/empty"] == 2  # the empty and the whitespace-only file
    assert counts["dropped"] == {"near_dedup/duplicate": 1}
    dropped = read_left(OutputLayout(out).left("dropped")).to_pylist()
    assert [d["id"] for d in dropped] == ["j7"]
    kept = [row for part in sorted(out.rglob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]
    assert counts["n_kept"] == len(kept) == 5
    texts = " ".join(r["text"] for r in kept)
    assert "Café owners" in texts  # undeclared latin-1 decoded, not rejected
    for reject in rejects.values():
        assert reject["reason"] and reject["stage"] and reject["source"]
    assert all(r["source"] for r in rejects.values())
    assert (
        sum(manifest["outputs"][name]["rows"] for name in manifest["outputs"] if name.startswith("part-"))
        == 5
    )


def test_rows_where_copies_only_when_some_rows_are_left_out() -> None:
    batch = pa.RecordBatch.from_pydict({"status": ["ok", "ok", "dropped"], "n": [1, 2, 3]})
    status = batch.column("status")
    assert rows_where(batch, pc.equal(status, "rejected")) is None
    assert rows_where(batch, pc.not_equal(status, "rejected")) is batch
    some = rows_where(batch, pc.equal(status, "ok"))
    assert some is not None and some.column("n").to_pylist() == [1, 2]
