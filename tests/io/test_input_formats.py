"""Issue 21, formats and mapping: HTML in a text field is read as HTML and counted; ``clean_text``
detects HTML by default and takes bytes; CSV dialects are sniffed (``--csv-delimiter`` overrides);
a mapping mistake stops every format the same way (exit 3, the fields seen, a suggestion), and
rejects keep the input's own ids."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import pipeline
from pipeline.cli import cli
from pipeline.core.config import Config, ReaderConfig
from pipeline.core.errors import ConfigError, InputError
from pipeline.core.record import Doc, looks_like_html
from pipeline.io.formats.delimited import sniff_delimiter
from pipeline.io.readers import Source
from tests.hostile import article

ARTICLE = (
    "The council approved the new tram line on Tuesday after a long debate about its cost. "
    "Work on the first section is due to start in the spring and take two years."
)
PAGE = (
    "<!DOCTYPE html><html><head><title>Tram line approved</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
    f"<article><h1>Tram line approved</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article>"
    "<footer>Copyright 2024 The Gazette</footer></body></html>"
)


def read_all(paths: list[Path], config: ReaderConfig | None = None) -> list[Doc]:
    source = Source(paths, config)
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


def invoke(*args: str, input: bytes | None = None) -> Any:
    return CliRunner().invoke(cli, ["run", *args, "--workers", "1", "--no-dedup"], input=input)


# --- HTML in a text field ----------------------------------------------------------------------


def test_html_in_the_text_field_is_read_as_html_flagged_and_counted(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text(
        json.dumps({"id": "h", "text": PAGE}) + "\n" + json.dumps({"id": "t", "text": ARTICLE}) + "\n"
    )
    pq.write_table(
        pa.table({"id": ["p"], "text": ["<p>" + ARTICLE + "</p><p>More.</p>"]}), tmp_path / "d.parquet"
    )
    docs = read_all([tmp_path / "d.jsonl", tmp_path / "d.parquet"])
    assert [(d.id, d.format, d.flags) for d in docs] == [
        ("h", "html", ["html_in_text_field"]),
        ("t", "text", []),
        ("p", "html", ["html_in_text_field"]),
    ]
    out = tmp_path / "out"
    res = invoke(str(tmp_path / "d.jsonl"), str(tmp_path / "d.parquet"), "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)["counts"]
    assert counts["n_kept"] == 3 and counts["flags"] == {"html_in_text_field": 2}
    rows = [r for p in sorted(out.rglob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert all("<" not in r["text"] for r in rows)
    assert {r["title"] for r in rows if r["id"] == "h"} == {"Tram line approved"}
    assert "Copyright" not in next(r["text"] for r in rows if r["id"] == "h")
    human = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o2"))
    assert "flags: html_in_text_field 1" in human.output


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (PAGE, True),
        ("  \ufeff<html><body><p>x</p></body></html>", True),
        ("<p>One.</p><p>Two.</p>", True),
        ("Plain text with <b>bold</b> words and a <br> break.", True),
        (ARTICLE, False),
        ("x < y and y > z in the formula", False),
        ("<3 this place", False),
        ("Use the <div> tag for blocks.", False),
        ("A post about a parser. " * 200 + "It reads <p>Hello</p> and <br> and <li>.", False),  # sparse
        ("Intro. <p>" + "A paragraph of text. " * 20 + "</p><p>" + "More. " * 20 + "</p>", True),
        ("", False),
    ],
)
def test_looks_like_html(text: str, html: bool) -> None:
    assert looks_like_html(text) is html


# --- clean_text -----------------------------------------------------------------------------


def test_clean_text_detects_html_by_default_and_takes_bytes() -> None:
    got = pipeline.clean_text(PAGE)
    assert got.ok and got.format == "html" and "<" not in got.text and got.title == "Tram line approved"
    assert "Copyright" not in got.text
    assert pipeline.clean_text(ARTICLE).format == "text"
    assert pipeline.clean_text(PAGE, fmt="text").format == "text"  # asked for: kept
    russian = "Совет одобрил новую трамвайную линию во вторник после долгих споров о её стоимости."
    page = f'<html><head><meta charset="windows-1251"></head><body><p>{russian}</p></body></html>'
    from_bytes = pipeline.clean_text(page.encode("cp1251"))
    assert from_bytes.ok and from_bytes.encoding == "cp1251" and russian in from_bytes.text
    assert from_bytes.lang == "ru"
    utf8 = pipeline.clean_text(ARTICLE.encode("utf-8"))
    assert utf8.text == pipeline.clean_text(ARTICLE).text and utf8.encoding == "utf-8"
    binary = pipeline.clean_text(bytes(range(256)) * 8)
    assert (binary.status, binary.stage, binary.reason) == ("rejected", "read", "undecodable")


# --- CSV dialects ----------------------------------------------------------------------------


ROWS = [("c1", ARTICLE), ("c2", 'He said "no"; then; left | twice, quickly.'), ("c3", "Two\nlines; here")]


def _csv(delimiter: str, *, bom: bool = False, encoding: str = "utf-8") -> bytes:
    def cell(value: str) -> str:
        special = any(c in value for c in (delimiter, '"', "\n", ",", ";", "|"))
        return '"' + value.replace('"', '""') + '"' if special else value

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in [("id", "text"), *ROWS]) + "\r\n"
    return (codecs.BOM_UTF8 if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize(
    ("name", "delimiter", "bom"),
    [
        ("semicolon-bom.csv", ";", True),  # what spreadsheets export in many locales
        ("semicolon.csv", ";", False),
        ("tab.csv", "\t", False),
        ("pipe.csv", "|", False),
        ("comma.tsv", ",", False),
        ("comma-bom.csv.gz", ",", True),
    ],
)
def test_csv_dialects_are_sniffed(tmp_path: Path, name: str, delimiter: str, bom: bool) -> None:
    data = _csv(delimiter, bom=bom)
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    docs = read_all([tmp_path / name])
    assert [(d.id, d.raw, d.ok) for d in docs] == [(i, t, True) for i, t in ROWS]


def test_a_semicolon_csv_with_a_bom_runs_from_the_cli_and_the_delimiter_can_be_named(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_bytes(_csv(";", bom=True))
    res = invoke(str(tmp_path / "export.csv"), "-o", str(tmp_path / "out"), "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["counts"]["n_kept"] == 3
    (tmp_path / "colon.csv").write_text("id:text\nk1:" + ARTICLE + "\n")
    refused = invoke(str(tmp_path / "colon.csv"), "-o", str(tmp_path / "o2"))
    assert refused.exit_code == 3 and "no column 'text' or 'html'" in refused.output
    named = invoke(str(tmp_path / "colon.csv"), "-o", str(tmp_path / "o3"), "--csv-delimiter", ":", "--json")
    assert named.exit_code == 0, named.output
    assert json.loads(named.output)["counts"]["n_kept"] == 1
    tab = invoke(str(tmp_path / "export.csv"), "-o", str(tmp_path / "o4"), "--csv-delimiter", "tab")
    assert tab.exit_code == 3 and "--csv-delimiter ';'" in tab.output  # the hint names the likely one
    with pytest.raises(ConfigError, match=r"reader\.csv_delimiter must be one character"):
        Config().with_overrides({"reader.csv_delimiter": ";;"})


def test_sniffing_prefers_the_extension_on_a_tie_and_a_single_column() -> None:
    assert sniff_delimiter("text\nhello, world\n", ",", complete=True) == ","
    assert sniff_delimiter("a;b,c\n1;2,3\n", ",", complete=True) == ","  # both split evenly: the default
    assert sniff_delimiter("a;b;c\n1;2;3\n4;5\n", "\t", complete=True) == ";"
    assert sniff_delimiter('a,b\n1,"x;y;z"\n', ";", complete=True) == ","


# --- mapping mistakes fail fast, for every format ----------------------------------------------


def test_a_jsonl_without_the_text_field_stops_with_exit_3_listing_fields_and_a_suggestion(
    tmp_path: Path,
) -> None:
    rows = [json.dumps({"id": f"r{i}", "title": "T", "content": ARTICLE}) for i in range(5)]
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n")
    res = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "out"))
    assert res.exit_code == 3
    assert (
        "no field 'text' or 'html' in the first 5 records (fields seen: 'id', 'title', 'content')"
        in res.output
    )
    assert "--text-field content" in res.output
    assert not (tmp_path / "out").exists()
    ok = invoke(str(tmp_path / "d.jsonl"), "-o", str(tmp_path / "o2"), "--text-field", "content", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["counts"]["n_kept"] == 5
    # HTML under another name: the suggestion is --html-field
    (tmp_path / "h.jsonl").write_text(json.dumps({"id": "a", "markup": PAGE}) + "\n")
    with pytest.raises(InputError, match="no field 'text' or 'html' in the only record") as caught:
        Source([tmp_path / "h.jsonl"]).shards()
    assert caught.value.hint is not None and "--html-field markup" in caught.value.hint


def test_stdin_without_the_text_field_stops_with_exit_3_too(tmp_path: Path) -> None:
    rows = "".join(json.dumps({"id": f"r{i}", "body": ARTICLE}) + "\n" for i in range(3))
    res = CliRunner().invoke(
        cli, ["run", "-", "-o", str(tmp_path / "out"), "--workers", "1"], input=rows.encode()
    )
    assert res.exit_code == 3, res.output
    assert (
        "<stdin>: no field 'text' or 'html' in the first 3 records (fields seen: 'id', 'body')" in res.output
    )
    good = "".join(json.dumps({"id": f"g{i}", "text": article(f"g{i}")}) + "\n" for i in range(3))
    mixed = rows + good  # the field appears among the first records: the run goes on, bad rows rejected
    res = CliRunner().invoke(
        cli, ["run", "-", "-o", str(tmp_path / "o2"), "--workers", "1", "--json"], input=mixed.encode()
    )
    assert res.exit_code == 0, res.output
    counts = json.loads(res.output)["counts"]
    assert (counts["n_kept"], counts["rejected"]) == (3, {"read/missing_field": 3})


def test_a_non_empty_html_field_wins_whatever_the_text_field_holds(tmp_path: Path) -> None:
    page = f"<html><body><article><p>{ARTICLE}</p></article></body></html>"
    rows = [
        {"id": "h", "html": page, "text": 5},  # the text field is not read: no wrong_type
        {"id": "e", "html": "", "text": 5},  # an empty HTML field does not win: the text field's type counts
        {"id": "t", "html": "", "text": ARTICLE},
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    docs = read_all([tmp_path / "d.jsonl"], ReaderConfig())
    assert [(d.id, d.reason, d.format) for d in docs] == [
        ("h", None, "html"),
        ("e", "wrong_type", "text"),
        ("t", None, "text"),
    ]


def test_some_records_missing_the_field_are_rejects_keeping_their_ids(tmp_path: Path) -> None:
    rows = [
        json.dumps({"id": "a", "text": ARTICLE}),
        json.dumps({"id": "b", "content": ARTICLE}),
        json.dumps({"id": "c", "text": ["not", "a", "string"]}),
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n")
    (tmp_path / "d.csv").write_text(f"id,text\nx1,{'y' * 50}\n")
    pq.write_table(pa.table({"id": ["q1", "q2"], "text": [ARTICLE, None]}), tmp_path / "d.parquet")
    docs = read_all(
        [tmp_path / "d.jsonl", tmp_path / "d.csv", tmp_path / "d.parquet"], ReaderConfig(max_record_bytes=300)
    )
    got = [(d.id, d.reason) for d in docs]
    assert got == [
        ("a", None),
        ("b", "missing_field"),
        ("c", "wrong_type"),
        ("x1", None),
        ("q1", None),
        ("q2", "missing_field"),
    ]
    big = read_all([tmp_path / "d.csv"], ReaderConfig(max_record_bytes=20))
    assert [(d.id, d.reason) for d in big] == [("x1", "too_large")]
