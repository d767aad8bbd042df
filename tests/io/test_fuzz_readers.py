"""Fuzzing every reader: any bytes given to any reader, and any value a metadata library meets on a
page, become records or rejects, never an exception that escapes the record (issue 22).

Each format is fed random bytes and mutations (flipped, inserted, deleted, repeated, cut bytes)
of a small valid seed written here, plain and in each compression (mutated before compressing,
so the format's parser sees the damage, and after, so the decompressor does). The property:
planning either refuses the input with an :class:`~pipeline.core.errors.InputError` (exit 3, a
mapping mistake) or reading finishes, every record valid for the Arrow batch; and a full run
(every stage, a Parquet sink) accounts for every record: n_in = kept + dropped + rejected.

``derandomize=True`` and a fixed ``max_examples``: the same examples on every run (CI stays
deterministic and each test takes a few seconds); raise ``max_examples`` locally to search
further. An input a search finds is kept under ``fixtures/fuzz/`` and replayed by
:func:`test_fuzz_regressions`.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.api import Pipeline
from pipeline.core.config import Config, ReaderConfig
from pipeline.core.errors import InputError
from pipeline.core.record import Doc, docs_to_batch
from pipeline.execution.engines import SerialEngine
from pipeline.io.readers import Source
from pipeline.io.sinks import ParquetSink
from stages.extract.extractor import parse_html
from stages.extract.pagemeta import PageMeta, page_metadata

FUZZ_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz"
ARTICLE = "The council approved the new tram line on Tuesday after a debate about its cost."
PAGE = (
    '<html><head><meta charset="utf-8"><title>Tram</title>'
    '<meta property="article:published_time" content="2024-05-01T10:00:00+02:00"></head>'
    f"<body><article><h1>Tram</h1><p>{ARTICLE}</p><p>Café, naïve, Ærø.</p></article></body></html>"
)
ROWS = [
    {"id": "a", "url": "https://n.example/a", "text": ARTICLE, "n": 1},
    {"id": "b", "url": "https://n.example/b", "html": PAGE, "n": 2},
]


# --- seeds: one small valid file per format --------------------------------------------------


def _jsonl() -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).encode()


def _delimited(delimiter: str) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["id", "url", "text", "html", "n"], delimiter=delimiter)
    writer.writeheader()
    writer.writerows(ROWS)
    return buf.getvalue().encode()


def _parquet() -> bytes:
    out = io.BytesIO()
    table = pa.table(
        {
            "id": ["a", "b"],
            "text": [ARTICLE, None],
            "html": pa.array([None, PAGE.encode()], pa.binary()),
            "n": [1, 2],
        }
    )
    pq.write_table(table, out, row_group_size=1, compression="none")
    return out.getvalue()


def _warc(gzip_records: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_records)
    for ctype, body in (("text/html; charset=utf-8", PAGE.encode()), ("text/plain", ARTICLE.encode())):
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "https://n.example/p", "response", payload=io.BytesIO(body), http_headers=headers
        )
        writer.write_record(record)
    return out.getvalue()


def _arc() -> bytes:
    version = b"1 0 cleanwire\nURL IP-address Archive-date Content-type Archive-length\n"
    head = b"filedesc://t.arc 0.0.0.0 20240101000000 text/plain %d\n" % len(version)
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + PAGE.encode()
    record = b"https://n.example/a 192.0.2.1 20240101000000 text/html %d\n" % len(http) + http + b"\n"
    return head + version + b"\n" + record


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, data in (("feed.jsonl", _jsonl()), ("page.html", PAGE.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


#: file name -> seed bytes (the name's extension picks the reader)
SEEDS: dict[str, Callable[[], bytes]] = {
    "seed.jsonl": _jsonl,
    "seed.csv": lambda: _delimited(","),
    "seed.tsv": lambda: _delimited("\t"),
    "seed.parquet": _parquet,
    "seed.warc": lambda: _warc(False),
    "seed.warc.gz": lambda: _warc(True),
    "seed.arc": _arc,
    "seed.html": lambda: PAGE.encode(),
    "seed.txt": lambda: ARTICLE.encode(),
    "seed.tar": _tar,
}
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda b: b,
    ".gz": gzip.compress,
    ".zst": zstandard.ZstdCompressor().compress,
    ".bz2": bz2.compress,
}


# --- mutations -------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with 1-4 random edits: a byte flipped, bytes inserted, a range deleted or repeated,
    the end cut off."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "cut", "special"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "special":  # bytes parsers tend to care about
            piece = draw(
                st.sampled_from([b"\x00", b"\xff\xfe", b"\n", b'"', b"\r\n\r\n", b"{[", b"<", b"9" * 40])
            )
            data[at:at] = piece
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(2, 5))
        elif kind == "cut":
            del data[at:]
    return bytes(data)


def _inputs(name: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """``(file name, bytes)``: random bytes, or a mutated seed, plain or compressed (the mutation
    before or after compressing)."""
    seed = SEEDS[name]()
    compression = st.sampled_from(sorted(COMPRESSORS))

    def build(suffix: str, data: bytes, before: bool) -> tuple[str, bytes]:
        if before:
            return name + suffix, COMPRESSORS[suffix](data)
        return name + suffix, data

    mutated_plain = st.builds(build, compression, mutated(seed), st.just(True))
    mutated_packed = compression.flatmap(
        lambda suffix: st.builds(build, st.just(suffix), mutated(COMPRESSORS[suffix](seed)), st.just(False))
    )
    random_bytes = st.builds(lambda data: (name, data), st.binary(max_size=600))
    return st.one_of(mutated_plain, mutated_packed, random_bytes)


# --- structured inputs: valid containers holding hostile values ----------------------------------

#: JSON values as a hostile producer writes them: any JSON, numbers Python will not convert,
#: nesting deeper than its recursion limit.
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_RAW_JSON = st.one_of(
    _JSON.map(lambda v: json.dumps(v, ensure_ascii=False)),
    st.sampled_from(["9" * 5000, "[" * 1500 + "]" * 1500, '{"a":' * 1200 + "1" + "}" * 1200, "1e999", "-0"]),
    st.just(json.dumps(PAGE)),
    st.just(json.dumps(ARTICLE)),
)
_FIELDS = st.sampled_from(["id", "text", "html", "url", "n", "other"])


@st.composite
def jsonl_lines(draw: st.DrawFn) -> bytes:
    """JSON objects whose fields hold any value (spliced as raw JSON text)."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        fields = draw(st.dictionaries(_FIELDS, _RAW_JSON, min_size=1, max_size=4))
        lines.append("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


_CELL = st.one_of(
    st.binary(max_size=30),
    st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"\x00", b"\xff\xfe", b"2262-04-12", ARTICLE.encode(), PAGE.encode()]),
)


@st.composite
def parquet_tables(draw: st.DrawFn) -> bytes:
    """A Parquet file written without checks: string columns of any bytes (invalid UTF-8 too),
    binary, numbers, lists, timestamps Python cannot hold, nulls."""
    n = draw(st.integers(1, 4))
    columns: dict[str, pa.Array] = {}
    for name in draw(st.lists(_FIELDS, min_size=1, max_size=4, unique=True)):
        kind = draw(st.sampled_from(["string", "binary", "int", "list", "timestamp", "null", "dict"]))
        cells = draw(st.lists(st.one_of(st.none(), _CELL), min_size=n, max_size=n))
        if kind == "string":
            columns[name] = pa.array(cells, pa.binary()).view(pa.string())
        elif kind == "binary":
            columns[name] = pa.array(cells, pa.binary())
        elif kind == "dict":
            columns[name] = pa.array(cells, pa.binary()).view(pa.string()).dictionary_encode()
        elif kind == "int":
            columns[name] = pa.array(draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)))
        elif kind == "list":
            columns[name] = pa.array([[c] for c in cells], pa.list_(pa.binary())).cast(pa.list_(pa.binary()))
        elif kind == "timestamp":
            ms = draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n))
            columns[name] = pa.array(ms, pa.timestamp("ms"))
        else:
            columns[name] = pa.nulls(n)
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


@st.composite
def csv_tables(draw: st.DrawFn) -> bytes:
    """Delimited text with any cells: quotes, delimiters, line breaks, NULs, any bytes."""
    delimiter = draw(st.sampled_from([b",", b";", b"\t", b"|"]))
    header = draw(st.lists(_FIELDS.map(str.encode), min_size=1, max_size=4))
    rows = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 4))):
        cells = draw(st.lists(_CELL, min_size=0, max_size=5))
        quoted = draw(st.booleans())
        rows.append(delimiter.join(b'"' + c.replace(b'"', b'""') + b'"' if quoted else c for c in cells))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + b"\r\n".join(rows) + b"\r\n"


@st.composite
def warc_records(draw: st.DrawFn) -> bytes:
    """WARC records with any HTTP status, content type, content encoding and payload."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=draw(st.booleans()))
    for _ in range(draw(st.integers(1, 3))):
        body = draw(_CELL)
        status = draw(st.sampled_from(["200 OK", "404 Not Found", "999 ???", "abc", "200"]))
        headers = [
            ("Content-Type", draw(st.sampled_from(["text/html", "text/plain; charset=klingon", "", "x/y"])))
        ]
        if draw(st.booleans()):
            headers.append(("Content-Encoding", draw(st.sampled_from(["gzip", "br", "deflate", "zstd"]))))
        if draw(st.booleans()):
            headers.append(("Transfer-Encoding", "chunked"))
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        uri = draw(st.text(max_size=20))
        record = writer.create_warc_record(
            uri, draw(st.sampled_from(["response", "resource"])), payload=io.BytesIO(body), http_headers=http
        )
        writer.write_record(record)
    return out.getvalue()


#: file name -> structured strategy
STRUCTURED: dict[str, st.SearchStrategy[bytes]] = {
    "values.jsonl": jsonl_lines(),
    "values.parquet": parquet_tables(),
    "values.csv": csv_tables(),
    "values.warc": warc_records(),
}


# --- the property --------------------------------------------------------------------------


SMALL = ReaderConfig(keep_fields=("n",), max_record_bytes=1 << 16, max_decompressed_bytes=1 << 20)


def read_or_refuse(path: Path, config: ReaderConfig = SMALL) -> list[Doc] | None:
    """Every record the readers make of ``path`` (each checked to fit an Arrow batch), or None
    when planning refuses the input as a mapping mistake."""
    source = Source([path], config)
    try:
        shards = source.shards()
    except InputError as exc:
        assert any(hint in str(exc) for hint in ("--text-field", "--html-field", "appears")), exc
        return None
    docs = [doc for shard in shards for doc in shard.docs(source.config)]
    docs_to_batch(docs)  # every value fits the work schema
    for doc in docs:
        for value in (doc.id, doc.source, doc.raw, doc.detail or "", doc.url or ""):
            value.encode("utf-8")  # no lone surrogate
    return docs


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    cfg = Config().with_overrides(
        {
            "dedup.enabled": False,
            "reader.keep_fields": ["n"],
            "reader.max_record_bytes": SMALL.max_record_bytes,
            "reader.max_decompressed_bytes": SMALL.max_decompressed_bytes,
        }
    )
    return Pipeline.from_config(cfg)


def run_accounts_for_everything(pipe: Pipeline, path: Path, out: Path) -> None:
    """A whole run over ``path``: it finishes (or is refused at planning), every record counted."""
    docs = read_or_refuse(path, pipe.config.reader)
    if docs is None:
        with pytest.raises(InputError):
            pipe.run(Source([path], pipe.config.reader), ParquetSink(out, pipe.config), engine=SerialEngine())
        return
    report = pipe.run(
        Source([path], pipe.config.reader), ParquetSink(out, pipe.config), engine=SerialEngine()
    )
    tally = report.tally
    assert tally.n_in == len(docs)
    assert tally.n_in == tally.n_kept + tally.n_dropped + tally.n_rejected


READ_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
RUN_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _write(directory: str, name: str, data: bytes) -> Path:
    path = Path(directory) / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_reader_turns_any_bytes_into_records_or_rejects(name: str) -> None:
    @READ_SETTINGS
    @given(_inputs(name))
    def check(case: tuple[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            read_or_refuse(_write(tmp, *case))

    check()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_a_run_over_damaged_input_accounts_for_every_record(name: str, pipeline: Pipeline) -> None:
    @RUN_SETTINGS
    @given(_inputs(name))
    def check(case: tuple[str, bytes]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_accounts_for_everything(pipeline, _write(tmp, *case), Path(tmp) / "out")

    check()


@pytest.mark.parametrize("name", sorted(STRUCTURED))
def test_every_value_a_valid_container_holds_becomes_a_record_or_a_reject(name: str) -> None:
    @READ_SETTINGS
    @given(STRUCTURED[name], st.sampled_from(sorted(COMPRESSORS)))
    def check(data: bytes, suffix: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            read_or_refuse(_write(tmp, name + suffix, COMPRESSORS[suffix](data)))

    check()


@pytest.mark.parametrize("name", sorted(STRUCTURED))
def test_a_run_over_hostile_values_accounts_for_every_record(name: str, pipeline: Pipeline) -> None:
    @RUN_SETTINGS
    @given(STRUCTURED[name])
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_accounts_for_everything(pipeline, _write(tmp, name, data), Path(tmp) / "out")

    check()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_reads_whole_in_every_compression(name: str) -> None:
    seed = SEEDS[name]()
    for suffix, compress in COMPRESSORS.items():
        with tempfile.TemporaryDirectory() as tmp:
            docs = read_or_refuse(_write(tmp, name + suffix, compress(seed)))
            assert docs and all(d.ok for d in docs), (name, suffix, docs)


# --- the metadata path: any value in a page's metadata -------------------------------------------

META_VALUE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "2024-05-01T10:00:00+99:00",
            "2024-13-45T25:61:61Z",
            "9999-12-31T23:59:59-23:59",
            "0000-00-00",
            "1e400",
            "-1",
            "2024-05-01T10:00:00+24:00",
            '{"@type": "NewsArticle"}',
            "\x00\ud800",
        ]
    ),
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(published=META_VALUE, title=META_VALUE, author=META_VALUE, json_ld=META_VALUE)
def test_page_metadata_never_raises_whatever_the_metadata_holds(
    published: str, title: str, author: str, json_ld: str
) -> None:
    def attr(value: str) -> str:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")

    ld = json.dumps({"@type": "NewsArticle", "datePublished": published, "author": {"name": author}})
    page = (
        f'<html><head><meta property="article:published_time" content="{attr(published)}">'
        f'<meta name="author" content="{attr(author)}"><meta property="og:title" content="{attr(title)}">'
        f'<script type="application/ld+json">{ld.replace("<", "&lt;")}</script>'
        f'<script type="application/ld+json">{json_ld.replace("<", "&lt;")}</script>'
        f"<title>{attr(title)}</title></head><body><article><p>{ARTICLE}</p></article></body></html>"
    )
    try:
        tree = parse_html(page)
    except ValueError:
        return  # a page lxml refuses is rejected by extract, with a reason
    meta = page_metadata(tree, "https://n.example/a", extensive_dates=True)
    assert isinstance(meta, PageMeta)
    for value in (meta.title, meta.author, meta.date, meta.sitename, meta.url):
        assert value is None or isinstance(value, str)


# --- regressions: inputs a search found ------------------------------------------------------


def _fixtures() -> list[Path]:
    return sorted(p for p in FUZZ_FIXTURES.glob("*") if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.name)
def test_fuzz_regressions(path: Path, pipeline: Pipeline, tmp_path: Path) -> None:
    read_or_refuse(path)
    run_accounts_for_everything(pipeline, path, tmp_path / "out")
