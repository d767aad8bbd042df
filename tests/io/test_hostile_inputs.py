"""Issue 22, the input side: bytes and settings an adversarial user gives cleanwire become records,
rejects or a clear error before anything is written; never a traceback, never a lost run.

One test (or group) per case of the issue's table; the fuzz tests in ``test_fuzz_readers.py``
cover the general guarantee behind them."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.api import clean_text as pipeline_clean
from pipeline.cli import cli
from pipeline.core.config import Config, ReaderConfig
from pipeline.core.errors import ConfigError, InputError
from pipeline.core.pathnames import display_path, is_utf8_path, path_from_json, path_json
from pipeline.core.record import Doc, make_id
from pipeline.core.typed import SIZE_MAX, parse_size
from pipeline.io.formats.decoding import HEAD_CAP, charset_from_markup
from pipeline.io.layout import OutputLayout
from pipeline.io.left_records import read_left
from pipeline.io.readers import Source
from stages.extract.extractor import parse_html
from stages.extract.pagemeta import page_metadata

# --- 13: sizes out of any sane range are refused by the config check -----------------------------


@pytest.mark.parametrize(
    "value",
    ['"99999999999999999999999GB"', '"1e400"', "9" * 30, "9" * 5000, '"' + "9" * 5000 + '"'],
    ids=["huge-size-string", "exponent", "30-digit-int", "5000-digit-int", "5000-digit-string"],
)
def test_a_huge_size_exits_2_before_anything_is_written(tmp_path: Path, value: str) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "A record."}\n')
    conf = tmp_path / "c.toml"
    conf.write_text(f"[reader]\nmax_record_bytes = {value}\n")
    res = CliRunner().invoke(
        cli, ["run", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "--config", str(conf)]
    )
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "max_record_bytes" in res.output or "not valid TOML" in res.output
    assert not (tmp_path / "out").exists()


def test_sizes_are_exact_and_bounded() -> None:
    assert parse_size("1.5k") == 1536 and parse_size("1PiB") == SIZE_MAX
    with pytest.raises(ConfigError, match=r"reader.max_record_bytes must be in \[1, 1125899906842624\]"):
        Config.from_dict({"reader": {"max_record_bytes": "99999999999999999999999GB"}})
    with pytest.raises(ConfigError, match=r"output\.part_bytes must be in"):
        Config().with_overrides({"output.part_bytes": 2**63})
    with pytest.raises(ConfigError, match="a number of about"):
        Config.from_dict({"run": {"row_group_bytes": 10**5000}})
    assert Config.from_dict({"reader": {"max_record_bytes": "1PB"}}).reader.max_record_bytes == SIZE_MAX


# --- helpers -----------------------------------------------------------------------------------


def read_all(paths: list[Path], config: ReaderConfig | None = None) -> list[Doc]:
    source = Source(paths, config)
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


def run(tmp_path: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> tuple[Any, dict[str, Any]]:
    """A CLI run into ``tmp_path/out`` (one worker); its result and the rows it wrote, by status."""
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["run", *map(str, inputs), "-o", str(out), "--workers", "1", "--no-dedup", "--json", *extra]
    )
    return res, json.loads(res.output) if res.exit_code == 0 else {}


ARTICLE = "The council approved the new tram line on Tuesday after a long debate about its cost."


def line(**fields: Any) -> str:
    return json.dumps(fields)


# --- 2, 3: JSONL lines Python's json refuses --------------------------------------------------


def test_a_5000_digit_integer_and_1500_deep_nesting_reject_their_line_only(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_text(
        "\n".join(
            [
                line(id="a", text=ARTICLE),
                '{"id": "b", "text": "x", "n": ' + "9" * 5000 + "}",
                '{"id": "c", "text": "x", "n": ' + "[" * 1500 + "]" * 1500 + "}",
                '{"id": "d", "text": "x", "n": {"a": ' * 1500 + "1" + "}" * 1501,
                line(id="e", text=ARTICLE + " Again."),
            ]
        )
        + "\n"
    )
    docs = read_all([path])
    assert [(d.status.value, d.reason) for d in docs] == [
        ("ok", None),
        ("rejected", "invalid_json"),
        ("rejected", "invalid_json"),
        ("rejected", "invalid_json"),
        ("ok", None),
    ]
    assert "4300 digits" in (docs[1].detail or "") and docs[2].detail == "nested too deeply to read"
    assert docs[1].raw.startswith('{"id": "b"')  # the raw prefix shows the line
    res, summary = run(tmp_path, path)
    assert res.exit_code == 0, res.output
    assert summary["counts"]["n_kept"] == 2 and summary["counts"]["rejected"] == {"read/invalid_json": 3}


# --- 4: a Parquet string column holding bytes that are not UTF-8 ---------------------------------


def _unchecked_strings(values: list[bytes | None]) -> pa.Array:
    """A string column whose bytes were never checked, as a non-validating writer leaves it."""
    return pa.array(values, pa.binary()).view(pa.string())


def test_parquet_strings_that_are_not_utf8_are_repaired_and_flagged_the_rest_kept(tmp_path: Path) -> None:
    latin1 = "Le conseil a approuvé la ligne de tramway après un long débat sur son coût.".encode("latin-1")
    table = pa.table(
        {
            "id": _unchecked_strings([b"p1", b"p2", b"p3\xff", b"p4"]),
            "text": _unchecked_strings([ARTICLE.encode(), latin1, b"Fine text of row three.", None]),
            "url": _unchecked_strings([None, b"https://a.example/\xe9", None, None]),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=2)
    with pytest.raises(UnicodeDecodeError):
        pq.read_table(path).to_pylist()  # the file really is broken
    docs = read_all([path])
    assert [d.id for d in docs] == ["p1", "p2", "p3\ufffd", "p4"]
    one, two, three, four = docs
    assert one.ok and one.raw == ARTICLE and one.flags == []
    assert two.ok and two.raw.startswith("Le conseil a approuvé") and two.encoding == "cp1252"
    assert two.url == "https://a.example/\ufffd" and two.flags == ["invalid_utf8_repaired"]
    assert three.ok and three.flags == ["invalid_utf8_repaired"]
    assert (four.status.value, four.reason) == ("rejected", "missing_field")
    res, summary = run(tmp_path, path)
    assert res.exit_code == 0, res.output
    assert summary["counts"]["n_kept"] == 3 and summary["counts"]["flags"] == {"invalid_utf8_repaired": 2}


def test_a_parquet_value_python_cannot_hold_rejects_its_row_only(tmp_path: Path) -> None:
    when = pa.array([0, 10**17 * 9, 0], pa.timestamp("ms"))  # year ~28 million: no datetime
    table = pa.table({"id": ["a", "b", "c"], "text": [ARTICLE, ARTICLE, ARTICLE], "when": when})
    pq.write_table(table, tmp_path / "t.parquet")
    docs = read_all([tmp_path / "t.parquet"], ReaderConfig(keep_fields=("when",)))
    assert [(d.id, d.status.value, d.reason) for d in docs] == [
        ("a", "ok", None),
        ("b", "rejected", "bad_value"),
        ("c", "ok", None),
    ]
    assert "column 'when'" in (docs[1].detail or "")


# --- 8: a tar archive is read as the directory it holds ------------------------------------------


def _tar(members: dict[str, bytes], compress: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compress}") as tf:  # type: ignore[call-overload]
        folder = tarfile.TarInfo("pages")
        folder.type = tarfile.DIRTYPE
        tf.addfile(folder)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("pages/link.html")
        link.type, link.linkname = tarfile.SYMTYPE, "a.html"
        tf.addfile(link)
        hard = tarfile.TarInfo("pages/copy.html")
        hard.type, hard.linkname = tarfile.LNKTYPE, "pages/a.html"
        tf.addfile(hard)
    return buffer.getvalue()


def _page(title: str) -> bytes:
    body = f"<p>{ARTICLE} {title} was the subject of the evening.</p>" * 3
    return f"<html><head><title>{title}</title></head><body><article>{body}</article></body></html>".encode()


TAR_MEMBERS = {
    "feed.jsonl": (
        line(id="j1", text=ARTICLE) + "\n" + line(id="j2", text=ARTICLE + " Two.") + "\n"
    ).encode(),
    "pages/a.html": _page("Alpha"),
    "pages/b.html.gz": gzip.compress(_page("Beta")),
    "pages/._a.html": b"\x00\x05\x16\x07 AppleDouble",  # hidden: skipped as a directory walk does
    "table.csv": f"id,text\nc1,{ARTICLE}\n".encode(),
    "notes/photo.png": b"\x89PNG\r\n\x1a\n",
}


@pytest.mark.parametrize(
    "suffix, compress", [(".tar", ""), (".tar.gz", "gz"), (".tgz", "gz"), (".bin", "bz2")]
)
def test_a_tar_is_read_as_a_directory_of_its_members(tmp_path: Path, suffix: str, compress: str) -> None:
    path = tmp_path / f"dump{suffix}"
    path.write_bytes(_tar(TAR_MEMBERS, compress))
    docs = read_all([path])
    got = {d.source: (d.id, d.status.value, d.reason) for d in docs}
    name = str(path)
    assert got == {
        f"{name}!feed.jsonl:1": ("j1", "ok", None),
        f"{name}!feed.jsonl:2": ("j2", "ok", None),
        f"{name}!pages/a.html": (docs[2].id, "ok", None),
        f"{name}!pages/b.html.gz": (docs[3].id, "ok", None),
        f"{name}!table.csv:1": ("c1", "ok", None),
        f"{name}!notes/photo.png:0": (docs[5].id, "dropped", "not_a_document"),
        # a walk on disk would read the links as copies of a.html: counted, not passed over
        f"{name}!pages/link.html:0": (docs[6].id, "dropped", "link"),
        f"{name}!pages/copy.html:0": (docs[7].id, "dropped", "link"),
    }
    assert "a hard link to pages/a.html" in (docs[7].detail or "")
    assert "<title>Alpha</title>" in docs[2].raw and docs[3].format == "html"
    assert [d.id for d in read_all([path])] == [d.id for d in docs]  # stable ids
    res, summary = run(tmp_path, path)
    assert res.exit_code == 0, res.output
    assert summary["counts"]["n_kept"] == 5
    assert summary["counts"]["dropped"] == {"read/not_a_document": 1, "read/link": 2}


def test_a_tar_in_a_directory_is_read_and_a_damaged_one_keeps_what_came_before(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    whole = _tar({"a.jsonl": (line(id="x", text=ARTICLE) + "\n").encode() * 3, "b.html": _page("B")}, "gz")
    (tmp_path / "d" / "good.tar.gz").write_bytes(whole)
    cut = _tar({"a.jsonl": (line(id="y", text=ARTICLE) + "\n").encode(), "b.html": _page("B" * 20_000)})
    (tmp_path / "d" / "cut.tar").write_bytes(cut[:2000])
    docs = read_all([tmp_path / "d"])
    cut_docs = [d for d in docs if "cut.tar" in d.source]
    assert (cut_docs[0].id, cut_docs[0].status.value) == ("y", "ok")
    assert (cut_docs[-1].status.value, cut_docs[-1].reason) == ("rejected", "truncated")
    assert sum(d.ok for d in docs if "good.tar.gz" in d.source) == 4


def test_a_tar_of_jsonl_without_the_text_field_fails_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "dump.tar"
    path.write_bytes(
        _tar({"readme.txt": b"A readme.", "feed.jsonl": (line(content=ARTICLE) + "\n").encode()})
    )
    with pytest.raises(InputError, match=r"dump.tar!feed.jsonl: no field 'text' or 'html'.*'content'"):
        Source([path]).shards()


# --- 10: a file name that is not UTF-8 ---------------------------------------------------------


def test_a_non_utf8_file_name_is_valid_utf8_in_records_and_still_names_the_file(tmp_path: Path) -> None:
    raw_name = os.fsencode(tmp_path) + b"/caf\xe9.html"
    with open(raw_name, "wb") as fh:
        fh.write(_page("Caf"))
    path = os.fsdecode(raw_name)
    (doc,) = read_all([Path(path)])
    assert doc.ok and doc.source == f"{tmp_path}/caf\\xe9.html"
    doc.source.encode("utf-8")  # valid UTF-8: no lone surrogate
    assert doc.id == make_id(path, 0)  # the id comes from the exact bytes
    assert display_path(path) == doc.source and not is_utf8_path(path)
    value = path_json(path)
    assert value == {"display": doc.source, "bytes_b64": base64.b64encode(raw_name).decode()}
    assert path_from_json(json.loads(json.dumps(value, ensure_ascii=False))) == path
    assert path_json(str(tmp_path / "café.html")) == str(tmp_path / "café.html")
    # rejected too: a tar member's name, a reader's reject
    with open(os.fsencode(tmp_path) + b"/bad\xff.jsonl", "wb") as fh:
        fh.write(b"not json\n")
    (bad,) = read_all([Path(os.fsdecode(os.fsencode(tmp_path) + b"/bad\xff.jsonl"))])
    assert bad.reason == "invalid_json" and bad.source == f"{tmp_path}/bad\\xff.jsonl:1"


# --- 17: ids in their JSON spelling; rejects keep the raw prefix and the input's id ------------------


def test_ids_are_spelled_as_json_and_rejects_keep_the_raw_prefix_and_id(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [
        line(id=True, text=ARTICLE),
        line(id=["a"], text=ARTICLE),
        line(id=7, text=ARTICLE),
        line(id=1.5, text=ARTICLE),
        line(id={"k": None}, text=ARTICLE),
        line(id="z", text=123),
        line(id="m", body=ARTICLE),
        line(id="", text=ARTICLE),
    ]
    path.write_text("\n".join(rows) + "\n")
    docs = read_all([path])
    assert [d.id for d in docs[:5]] == ["true", '["a"]', "7", "1.5", '{"k": null}']
    assert [(d.id, d.reason) for d in docs[5:7]] == [("z", "wrong_type"), ("m", "missing_field")]
    assert docs[5].raw == rows[5] and docs[6].raw == rows[6]  # the raw prefix: the line
    assert docs[7].ok and docs[7].id == make_id(str(path), 8)  # an empty id is no id
    res, _ = run(tmp_path, path)
    assert res.exit_code == 0, res.output
    rejects = {r["id"]: r for r in read_left(OutputLayout(tmp_path / "out").left("rejects")).to_pylist()}
    assert rejects["z"]["raw_prefix"] == rows[5] and rejects["m"]["reason"] == "missing_field"


# --- 9: a charset judged on the bytes that are not ASCII, a meta charset found deep in the head ------


RUSSIAN = (
    "Совет одобрил новую трамвайную линию во вторник после долгих споров о её стоимости. "
    "Работы на первом участке начнутся весной и продлятся два года."
)


def _long_head(meta_at: int, meta: str = "", size: int = 4300) -> str:
    """An ASCII ``<head>`` of at least ``size`` bytes (styles, scripts) with ``meta`` at ``meta_at``."""
    head = "<html><head><title>News</title>"
    i = 0
    while len(head) < meta_at:
        head += f'<link rel="stylesheet" href="/static/css/style-{i:03d}.css">'
        i += 1
    head += meta
    while len(head) < size:
        head += f'<script src="/static/js/app-{i:03d}.js"></script>'
        i += 1
    return head + "</head>"


@pytest.mark.parametrize("meta_at", [None, 2000, 6000])
def test_a_cp1251_page_with_a_long_ascii_head_reads_as_cp1251(tmp_path: Path, meta_at: int | None) -> None:
    meta = '<meta charset="windows-1251">' if meta_at is not None else ""
    head = _long_head(meta_at or 0, meta)
    assert len(head) > 4096 and head.isascii()
    if meta_at is not None:
        assert abs(head.index("<meta") - meta_at) < 100
    page = f"{head}<body><article><h1>Трамвай</h1><p>{RUSSIAN}</p><p>{RUSSIAN}</p></article></body></html>"
    (tmp_path / "page.html").write_bytes(page.encode("cp1251"))
    (doc,) = read_all([tmp_path / "page.html"])
    assert doc.encoding == "cp1251" and RUSSIAN in doc.raw
    got = pipeline_clean(doc.raw)
    assert got.lang == "ru" and RUSSIAN in got.text


def test_a_meta_charset_is_looked_for_in_the_head_only_up_to_a_cap() -> None:
    koi8 = (_long_head(6500, '<meta charset="koi8-r">', 9000) + f"<body><p>{RUSSIAN}</p></body>").encode(
        "koi8-r"
    )
    assert koi8.index(b"<meta") > 6000 and charset_from_markup(koi8) == "koi8-r"
    in_body = b"<html><head><title>x</title></head><body>" + b"x" * 5000 + b'<meta charset="koi8-r"></body>'
    assert charset_from_markup(in_body) is None  # not in the head
    too_far = b"<html><head>" + b"<!-- pad -->" * 6000 + b'<meta charset="koi8-r"></head>'
    assert len(too_far) > HEAD_CAP and charset_from_markup(too_far) is None
    assert charset_from_markup(b'<meta charset="utf-8">' + b"x" * 9000) == "utf-8"


# --- 15: a library that raises on a page's metadata costs the field, not the article ------------


def _dated_page(published: str) -> str:
    body = f"<p>{ARTICLE}</p>" * 4
    return (
        f'<html><head><meta property="article:published_time" content="{published}">'
        f"<title>Tram line approved</title></head><body><article>{body}</article></body></html>"
    )


def test_a_published_time_with_a_99_hour_offset_is_kept_with_no_date(tmp_path: Path) -> None:
    got = pipeline_clean(_dated_page("2024-05-01T10:00:00+99:00"))
    assert got.ok and got.date is None and got.title == "Tram line approved" and ARTICLE in got.text
    assert pipeline_clean(_dated_page("2024-05-01T10:00:00+02:00")).date == "2024-05-01"
    (tmp_path / "d.jsonl").write_text(line(id="p", html=_dated_page("2024-05-01T10:00:00+99:00")) + "\n")
    res, summary = run(tmp_path, tmp_path / "d.jsonl")
    assert res.exit_code == 0 and summary["counts"]["n_kept"] == 1, res.output


def test_any_metadata_library_error_costs_only_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    import htmldate
    import trafilatura.metadata

    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("library bug")

    monkeypatch.setattr(htmldate, "find_date", boom)
    monkeypatch.setattr(trafilatura.metadata, "extract_sitename", boom)
    monkeypatch.setattr(trafilatura.metadata, "examine_meta", boom)
    meta = page_metadata(parse_html(_dated_page("2024-05-01T10:00:00Z")), None, extensive_dates=True)
    assert meta.date is None and meta.sitename is None and meta.title == "Tram line approved"


# --- 16: a document's control characters never reach the terminal raw ---------------------------


HOSTILE_FIRST_LINE = "\x1b]0;pwned\x07Tram line approved \x1b[31mred\x1b[0m \u202eevil\n\n"


@pytest.mark.parametrize("args", [(), ("--diff",), ("--color",), ("--diff", "--color"), ("--json",)])
def test_explain_escapes_a_documents_control_characters(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = tmp_path / "doc.txt"
    path.write_text(HOSTILE_FIRST_LINE + ARTICLE + " \x9b31m and \x1b[2J cleared?\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(path), *args])
    assert res.exit_code == 0, res.output
    # the document's own sequences (--color draws its red with the same bytes as "\x1b[31mred")
    for raw in ("\x1b]", "\x07", "\x1b[31mred", "\x1b[2J", "\u202e", "\x9b"):
        assert raw not in res.output, (raw, args)
    if "--json" in args:
        steps = json.loads(res.output)  # the same data, the JSON way
        assert steps[0]["notes"]["title"].startswith("\x1b]0;pwned\x07")
    elif "--diff" in args:
        assert "\\x1b" in res.output and "\\x07" in res.output  # shown, escaped, as removed
    else:
        assert "\\x1b]0;pwned\\x07Tram line approved" in res.output
