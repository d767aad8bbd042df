"""DuckDB (the test extra) reads the output directory directly, hive partitions included."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.io.layout import OutputLayout

DOCS = {
    "en": "The ferry service to the island resumed on Monday after the storm damaged the pier last week.",
    "de": "Die Fähre zur Insel fährt seit Montag wieder, nachdem der Sturm den Anleger beschädigt hatte.",
    "fr": "Le service de ferry vers l'île a repris lundi après que la tempête a endommagé la jetée.",
}


def make_dump(root: Path) -> Path:
    root.mkdir()
    lines = []
    for i in range(9):
        lang = sorted(DOCS)[i % 3]
        html = (
            f'<html><head><meta name="date" content="2024-0{1 + i % 2}-1{i}"><title>Story {i}</title></head>'
            f"<body><article><h1>Story {i}</h1><p>{DOCS[lang]} ({i})</p><p>{DOCS[lang]}</p></article></body></html>"
        )
        row = {"id": f"s{i}", "url": f"https://port.example/{i}", "html": html, "desk": lang.upper(), "n": i}
        lines.append(json.dumps(row, ensure_ascii=False))
    (root / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def run(dump: Path, out: Path, *args: str) -> None:
    # the stories of a language are one text with another number: near-duplicates by design
    args = ("--no-near-dedup", *args)
    res = CliRunner().invoke(
        cli, ["run", str(dump), "-o", str(out), "-w", "1", "--no-progress", "--keep-field", "desk", *args]
    )
    assert res.exit_code == 0, res.output


def test_duckdb_reads_hive_partitions_by_language(tmp_path: Path) -> None:
    dump = make_dump(tmp_path / "dump")
    out = tmp_path / "out"
    run(dump, out, "--partition-by", "lang")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("lang=")) == [
        "lang=de",
        "lang=en",
        "lang=fr",
    ]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT id, lang, extra['desk'] AS desk, encoding, text FROM read_parquet('{out}/**/part-*.parquet', "
        "hive_partitioning = true) ORDER BY id"
    ).fetchall()
    assert [r[0] for r in rows] == [f"s{i}" for i in range(9)]
    for rid, lang, desk, encoding, text in rows:
        assert desk in (lang.upper(), [lang.upper()])  # MAP lookup (a list in older DuckDB)
        assert encoding == "utf-8"
        assert DOCS[lang] in text, rid
    counts = dict(
        con.execute(
            f"SELECT lang, count(*) FROM read_parquet('{out}/*/part-*.parquet', hive_partitioning = true) "
            "WHERE lang IN ('de', 'fr') GROUP BY lang"
        ).fetchall()
    )
    assert counts == {"de": 3, "fr": 3}
    manifest = json.loads(OutputLayout(out).manifest.read_text())
    kept = sum(v["rows"] for k, v in manifest["outputs"].items() if k.startswith("lang="))
    assert kept == 9
    # pyarrow (what pandas.read_parquet calls) on the directory, as it is: _cleanwire/ is skipped
    table = pq.read_table(out, filters=[("lang", "=", "en")], columns=["id"])
    assert sorted(table.column("id").to_pylist()) == ["s1", "s4", "s7"]  # sorted(DOCS)[1] == "en"
    assert ds.dataset(out, partitioning="hive").count_rows() == 9


def test_duckdb_reads_day_partitions(tmp_path: Path) -> None:
    dump = make_dump(tmp_path / "dump")
    out = tmp_path / "out"
    run(dump, out, "--partition-by", "month,lang")
    months = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("_"))
    assert months and all(m.startswith("month=") for m in months)
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT month, lang, date FROM read_parquet('{out}/**/part-*.parquet', hive_partitioning = true)"
        )
        .fetchall()
    )
    assert len(rows) == 9
    for month, _lang, date in rows:
        expected = date[:7] if date else "undated"
        assert str(month) == expected


def test_pandas_reads_partitions_with_a_missing_key_as_they_are(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    dump = make_dump(tmp_path / "dump")
    undated = {
        "id": "undated",
        "html": f"<html><body><article><p>{DOCS['en']} (undated)</p></article></body></html>",
    }
    with (dump / "feed.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(undated) + "\n")
    out = tmp_path / "out"
    run(dump, out, "--partition-by", "lang,month")
    # not Hive's __HIVE_DEFAULT_PARTITION__ (a null), which pandas cannot read beside real values
    assert (out / "lang=en" / "month=undated").is_dir()
    frame = pd.read_parquet(out)
    months = dict(zip(frame["id"], frame["month"], strict=True))
    assert len(months) == 10 and months.pop("undated") == "undated"
    assert set(months.values()) == {"2024-01", "2024-02"}
