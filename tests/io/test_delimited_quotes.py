"""CSV/TSV quoting: whether a file quotes its fields is sniffed (a TSV export that writes news text as
it is, ``"We will rebuild," the mayor said``, is read a line a row, its quotes kept as text), and in
a file that does quote, a quoted field that never closes costs only the row that opened it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import ReaderConfig
from pipeline.core.record import Doc
from pipeline.io.formats.delimited import sniff_quoting
from pipeline.io.readers import Source

#: A TSV as many tools export it: nothing quoted, text starting with a quotation mark.
FIVE_ROWS = [
    ("a1", '"We will rebuild," the mayor said after the storm.'),
    ("a2", "The council met on Monday to discuss the harbour."),
    ("a3", '"Stop the works now, residents demanded at the meeting.'),
    ("a4", 'She called the plan "madness" and left the hall.'),
    ("a5", "The harbour reopened to ferries on Friday morning."),
]


def read_all(paths: list[Path], config: ReaderConfig | None = None) -> list[Doc]:
    source = Source(paths, config)
    return [doc for shard in source.shards() for doc in shard.docs(source.config)]


def _tsv(rows: list[tuple[str, str]], header: str = "id\ttext") -> str:
    return header + "\n" + "".join(f"{i}\t{t}\n" for i, t in rows)


def test_a_tsv_that_quotes_nothing_reads_every_row_with_its_quotes(tmp_path: Path) -> None:
    # Read as quoting: a1 and a3 were bad_row rejects and a4 vanished into a3's (no raw either).
    (tmp_path / "five.tsv").write_text(_tsv(FIVE_ROWS))
    docs = read_all([tmp_path / "five.tsv"])
    assert [(d.id, d.ok, d.raw) for d in docs] == [(i, True, t) for i, t in FIVE_ROWS]


def test_a_tsv_that_quotes_nothing_may_quote_its_header(tmp_path: Path) -> None:
    (tmp_path / "h.tsv").write_text(_tsv(FIVE_ROWS, header='"id"\t"text"'))
    docs = read_all([tmp_path / "h.tsv"])
    assert [(d.id, d.ok, d.raw) for d in docs] == [(i, True, t) for i, t in FIVE_ROWS]


def test_a_tsv_that_quotes_nothing_is_counted_a_line_a_row_from_the_cli(tmp_path: Path) -> None:
    # 2,000 rows, every tenth opening a quote it never closes: read as quoting, the first such
    # field ran on to the next quote, the rows between it lost.
    rows = [(f"r{n}", f"Row {n} of the table, about the harbour and its ferries.") for n in range(2000)]
    rows = [(i, f'"Quoted, {t}' if n % 10 == 3 else t) for n, (i, t) in enumerate(rows)]
    (tmp_path / "big.tsv").write_text(_tsv(rows))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        ["run", str(tmp_path / "big.tsv"), "-o", str(out), "--no-progress", "--workers", "1", "--no-dedup"],
    )
    assert res.exit_code == 0, res.output
    counts = json.loads((out / "_cleanwire" / "manifest.json").read_text())["counts"]
    assert counts["n_in"] == 2000 and counts["n_rejected"] == 0


def _thousand(tmp_path: Path, unclosed: str, *, quote_rows: bool = True) -> Path:
    rows = [
        f'r{n},"Row {n} of the table, with a comma."' if quote_rows else f"r{n},Row {n}" for n in range(1000)
    ]
    rows[0] = 'r0,"Row 0 of the table, with a comma."'  # the file quotes
    rows[1] = unclosed
    path = tmp_path / "t.csv"
    path.write_text("id,text\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("quote_rows", [True, False], ids=["runs-into-a-quote", "runs-to-the-end"])
def test_one_unclosed_quote_in_a_csv_costs_only_its_row(tmp_path: Path, quote_rows: bool) -> None:
    # It used to swallow row 3 (the next quote broke it) or every row after it (none did).
    path = _thousand(tmp_path, 'r1,"Row 1 opens a quote, and never closes it.', quote_rows=quote_rows)
    docs = read_all([path])
    assert len(docs) == 1000 and [d.id for d in docs] == [f"r{n}" for n in range(1000)]
    bad = docs[1]
    assert (bad.ok, bad.reason) == (False, "bad_row")
    assert bad.detail is not None and "a quoted field never closed" in bad.detail
    assert bad.detail.startswith("lines 3-") and "reading goes on at line 4" in bad.detail
    assert bad.raw.startswith('r1,"Row 1 opens a quote')
    assert all(d.ok for d in docs[:1] + docs[2:])
    assert docs[999].raw == ("Row 999 of the table, with a comma." if quote_rows else "Row 999")


def test_a_quoted_field_open_at_the_record_cap_over_rows_costs_only_its_row(tmp_path: Path) -> None:
    # No quote after it, and the end of the file too far away: the field was read on up to
    # reader.max_record_bytes (20 MB by default), the rows it held one too_large reject.
    path = _thousand(tmp_path, 'r1,"Row 1 opens a quote, and never closes it.', quote_rows=False)
    docs = read_all([path], ReaderConfig(max_record_bytes=2000))
    assert [d.id for d in docs] == [f"r{n}" for n in range(1000)]
    assert (
        docs[1].reason == "bad_row"
        and docs[1].detail
        and "still open at reader.max_record_bytes" in docs[1].detail
    )
    assert all(d.ok for d in docs[:1] + docs[2:])


def test_a_long_quoted_field_of_many_lines_is_not_taken_for_an_unclosed_one(tmp_path: Path) -> None:
    # Its lines do not read as rows of the header's width: it is a field, read whole.
    body = "\n".join(f"Paragraph {n} of a long article about the harbour." for n in range(400))
    rows = ['r0,"Short, quoted.",1', f'r1,"{body}",2', 'r2,"After it, quoted.",3']
    (tmp_path / "t.csv").write_text("id,text,n\n" + "\n".join(rows) + "\n")
    docs = read_all([tmp_path / "t.csv"])
    assert [(d.id, d.ok) for d in docs] == [("r0", True), ("r1", True), ("r2", True)]
    assert docs[1].raw == body


def test_a_stray_quote_in_a_quoted_field_of_many_lines_is_one_bad_row(tmp_path: Path) -> None:
    # as before: the field's lines are not read as rows
    body = "\n".join(f"Paragraph {n} of a long article." for n in range(5)) + ' with a "stray" quote'
    rows = ['r0,"Short, quoted.",1', f'r1,"{body}",2', 'r2,"After it, quoted.",3']
    (tmp_path / "t.csv").write_text("id,text,n\n" + "\n".join(rows) + "\n")
    docs = read_all([tmp_path / "t.csv"])
    assert [(d.ok, d.reason) for d in docs] == [(True, None), (False, "bad_row"), (True, None)]
    assert docs[1].id == "r1" and docs[2].id == "r2"


def test_a_quote_that_closes_rows_later_into_a_ragged_row_costs_only_its_row(tmp_path: Path) -> None:
    rows = [
        'r0,"Quoted, as the file does."',
        'r1,"Opens here',
        "r2,A plain row",
        'r3,Ends in a quote",x',
        "r4,Last",
    ]
    (tmp_path / "t.csv").write_text("id,text\n" + "\n".join(rows) + "\n")
    docs = read_all([tmp_path / "t.csv"])
    # r3 is ragged on its own line too (a ragged row's reject has no id of its own)
    assert [d.reason for d in docs] == [None, "bad_row", None, "bad_row", None]
    assert [docs[n].id for n in (0, 1, 2, 4)] == ["r0", "r1", "r2", "r4"]
    assert docs[1].detail and docs[1].detail.startswith("lines 3-5: a quoted field never closed (3 fields")


def test_a_properly_quoted_csv_with_line_breaks_and_doubled_quotes_reads_as_before(tmp_path: Path) -> None:
    values = [
        ("q1", 'He said "no", then left.'),
        ("q2", "First paragraph.\nSecond, with a comma.\r\nThird."),
        ("q3", '"Quoted from the start," she said.'),
        ("q4", "Plain text"),
        ("q5", '""'),
    ]
    for name, delimiter in (("t.csv", ","), ("t.tsv", "\t")):
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, delimiter=delimiter)
        writer.writerow(["id", "text"])
        writer.writerows(values)
        (tmp_path / name).write_text(buf.getvalue(), newline="")
        docs = read_all([tmp_path / name])
        assert [(d.id, d.ok, d.raw) for d in docs] == [(i, True, t) for i, t in values], name


def test_sniff_quoting() -> None:
    assert sniff_quoting("id,text\n1,plain\n", ",", complete=True)  # no quotes: the default
    assert sniff_quoting('id,text\n1,"a, b"\n2,"x ""y"""\n', ",", complete=True)
    assert sniff_quoting('id,text\n1,"two\nlines"\n', ",", complete=True)
    assert not sniff_quoting('id\ttext\n1\t"Yes," she said\n', "\t", complete=True)
    assert not sniff_quoting('id\ttext\n1\tShe said "yes"\n', "\t", complete=True)
    assert not sniff_quoting('id\ttext\n1\t"Never closed\n', "\t", complete=True)
    # one broken field among many quoted ones: the file quotes
    assert sniff_quoting('id,text\n1,"a, b"\n2,"c, d"\n3,"e "f" g"\n', ",", complete=True)
    # open at the end of a sample that is not the whole file: no evidence either way
    assert sniff_quoting('id,text\n1,"opens\nand goes on\n', ",", complete=False)


@pytest.mark.parametrize("columns", [1, 2])
def test_a_quoted_field_of_megabytes_whose_lines_read_as_rows_is_one_field(
    tmp_path: Path, columns: int
) -> None:
    """A 4.6 MB field of lines with one comma each (or a file of one column, where any line reads
    as a row) that closes before the record cap is a field: it was split into 80,000 records."""
    body = "\n".join(f"Paragraph {n}, the storm hit the coast on Tuesday night" for n in range(80_000))
    path = tmp_path / "big.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text"] if columns == 1 else ["id", "text"])
        for n, text in enumerate([body, "The second story."]):
            writer.writerow([text] if columns == 1 else [f"s{n}", text])
    docs = read_all([path])
    assert [(d.ok, len(d.raw)) for d in docs] == [(True, len(body)), (True, len("The second story."))]


def test_a_sample_that_ends_inside_a_quoted_field_says_nothing_against_quoting() -> None:
    """The lines after a field open to the end of the 64 KiB sample are the field's own: their
    doubled quotes made a quoting CSV of long articles read a line a row."""
    article = "\n".join(f'Line {n}: ""we will rebuild,"" the mayor said.' for n in range(3000))
    sample = f'id,text\n1,"{article}'[:65536]
    assert sniff_quoting(sample, ",", complete=False)
