"""The same small set of documents, written at test time in every input format cleanwire reads,
comes out as the same cleaned texts."""

from __future__ import annotations

import bz2
import csv
import dataclasses
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import Config, Pipeline
from pipeline.cli import cli
from pipeline.execution.engines import SerialEngine
from pipeline.io.layout import OutputLayout
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink

TOPICS = [
    ("Harbour wall repairs finish early", "The café by the quay reopened on Friday, serving crème brûlée."),
    ("Council approves € 2m budget", "Councillors voted 31 to 4 for the new school roof and a bus lane."),
    ("Regatta draws record crowd", "Über 300 boats sailed past the lighthouse in a stiff westerly breeze."),
    ("Library extends opening hours", "Readers can now borrow books until nine o'clock on weekday evenings."),
]


def page(i: int, charset: str = "utf-8") -> str:
    title, sentence = TOPICS[i]
    paragraphs = "".join(
        f"<p>{sentence} Paragraph {k} of story {i} adds more detail for the readers of the paper.</p>"
        for k in range(3)
    )
    return (
        f'<html><head><meta charset="{charset}"><title>{title}</title></head><body>'
        f"<nav><a href='/'>Home</a> | <a href='/news'>News</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article></body></html>"
    )


ROWS = [
    {"id": f"story-{i}", "url": f"https://news.example.org/story/{i}", "html": page(i), "section": f"s{i}"}
    for i in range(len(TOPICS))
]


def _jsonl() -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).encode("utf-8")


def _delimited(delimiter: str) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(ROWS[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(ROWS)
    return buf.getvalue().encode("utf-8")


def _parquet(binary_html: bool) -> bytes:
    table = pa.Table.from_pylist(ROWS)
    if binary_html:  # HTML stored as bytes in a legacy charset, declared by its <meta>
        html = [page(i, "windows-1252").encode("cp1252") for i in range(len(ROWS))]
        table = table.set_column(table.schema.get_field_index("html"), "html", pa.array(html, pa.binary()))
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1)  # one row per row group: streaming by batches
    return sink.getvalue()


def _warc(gzip_records: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_records)
    for i, row in enumerate(ROWS):
        request = writer.create_warc_record(
            row["url"], "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
        )
        writer.write_record(request)
        body = page(i, "windows-1252").replace('<meta charset="windows-1252">', "").encode("cp1252")
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=windows-1252")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(row["url"], "response", payload=io.BytesIO(body), http_headers=headers)
        )
    image = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            "https://news.example.org/logo.png",
            "response",
            payload=io.BytesIO(b"\x89PNG"),
            http_headers=image,
        )
    )
    return out.getvalue()


def _arc() -> bytes:
    """ARC v1, the format before WARC (warcio reads it, it cannot write it)."""
    version = b"1 0 cleanwire\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [b"filedesc://test.arc 0.0.0.0 20240101000000 text/plain %d\n" % len(version) + version + b"\n"]
    for i, row in enumerate(ROWS):
        body = page(i).encode("utf-8")
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
        head = f"{row['url']} 192.0.2.1 20240101000000 text/html {len(http)}\n".encode()
        out.append(head + http + b"\n")
    return b"".join(out)


def _html_files(root: Path) -> None:
    root.mkdir()
    for i in range(len(ROWS)):
        (root / f"story-{i}.html").write_text(page(i), encoding="utf-8")


WRITERS: dict[str, Callable[[], bytes]] = {
    "plain.jsonl": _jsonl,
    "gzip.jsonl.gz": lambda: gzip.compress(_jsonl()),
    "zstd.jsonl.zst": lambda: zstandard.ZstdCompressor().compress(_jsonl()),
    "bzip2.jsonl.bz2": lambda: bz2.compress(_jsonl()),
    "misnamed.jsonl": lambda: gzip.compress(_jsonl()),  # gzip found by magic bytes
    "table.csv": lambda: _delimited(","),
    "table.tsv.zst": lambda: zstandard.ZstdCompressor().compress(_delimited("\t")),
    "table.parquet": lambda: _parquet(binary_html=False),
    "binary-html.parquet": lambda: _parquet(binary_html=True),
    "table.parquet.gz": lambda: gzip.compress(_parquet(binary_html=False)),
    "crawl.warc": lambda: _warc(gzip_records=False),
    "crawl.warc.gz": lambda: _warc(gzip_records=True),
    "crawl.arc": _arc,
}


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    cfg = Config()
    cfg = dataclasses.replace(cfg, dedup=dataclasses.replace(cfg.dedup, enabled=False))
    return Pipeline.from_config(cfg)


def clean(pipe: Pipeline, inputs: list[Path], out: Path) -> list[dict[str, object]]:
    pipe.run(Source(inputs, pipe.config.reader), ParquetSink(out, pipe.config), engine=SerialEngine())
    return [row for part in OutputLayout(out).part_files() for row in pq.read_table(part).to_pylist()]


@pytest.fixture(scope="module")
def reference(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("ref")
    (root / "ref.jsonl").write_bytes(_jsonl())
    rows = clean(pipeline, [root / "ref.jsonl"], root / "out")
    texts = [str(r["text"]) for r in rows]
    assert len(texts) == len(ROWS)
    for (title, sentence), text in zip(TOPICS, texts, strict=True):
        assert title in text and sentence in text  # the words survived, accents included
    return texts


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_every_format_yields_the_same_cleaned_texts(
    name: str, pipeline: Pipeline, reference: list[str], tmp_path: Path
) -> None:
    (tmp_path / name).write_bytes(WRITERS[name]())
    rows = clean(pipeline, [tmp_path / name], tmp_path / "out")
    assert [r["text"] for r in rows] == reference
    if "warc" in name or "arc" in name:
        assert [r["url"] for r in rows] == [r["url"] for r in ROWS]
    else:
        assert [r["id"] for r in rows] == [r["id"] for r in ROWS]
    expected = "cp1252" if name in ("binary-html.parquet", "crawl.warc", "crawl.warc.gz") else "utf-8"
    assert {r["encoding"] for r in rows} == {expected}


def test_a_directory_of_html_files_and_a_dump_mixing_every_format(
    pipeline: Pipeline, reference: list[str], tmp_path: Path
) -> None:
    _html_files(tmp_path / "pages")
    assert [r["text"] for r in clean(pipeline, [tmp_path / "pages"], tmp_path / "o1")] == reference

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name, make in WRITERS.items():
        (mixed / name).write_bytes(make())
    _html_files(mixed / "pages")
    rows = clean(pipeline, [mixed], tmp_path / "o2")
    assert len(rows) == len(ROWS) * (len(WRITERS) + 1)
    assert sorted({str(r["text"]) for r in rows}) == sorted(reference)


def test_stdin_jsonl_to_stdout_jsonl_matches(reference: list[str], tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        ["run", "-", "--format", "jsonl", "--workers", "1", "--no-dedup", "--keep-field", "section"],
        input=gzip.compress(_jsonl()),
    )
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["text"] for r in records] == reference
    assert [r["extra"] for r in records] == [{"section": r["section"]} for r in ROWS]
    assert all(r["source"].startswith("<stdin>:") for r in records)
    assert "records in" in res.stderr and "records in" not in res.stdout
