"""``cleanwire explain --diff/--html``: removed spans shown where they were, with their rules."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import pipeline
from pipeline.cli import cli
from pipeline.core.record import Removal, make_id
from pipeline.reporting.diffs import (
    SegKind,
    Segment,
    diff_segments,
    place_removals,
    removal_segments,
    render_diff,
    stage_diffs,
)
from pipeline.reporting.explain import explain_document

READ_MORE = "READ MORE: Council confirms dates for new bin collection rounds"
TRAILER = "Source: Read Full Article"
DOC = (
    "Bridge reopens after three months of repairs\n\n"
    "The Ferry Lane bridge reopened to traffic on Monday after a three-month closure that forced drivers "
    "into a twelve-mile detour.\n\n"
    f"{READ_MORE}\n\n"
    "Highways officers said the new deck should last for at least forty years.\n\n"
    f"{TRAILER}"
)


def _joined(segments: list[Segment], *kinds: SegKind) -> str:
    return "".join(s.text for s in segments if s.kind in kinds)


def test_removal_segments_follow_the_offsets() -> None:
    text = "keep A drop B keep C"
    removals = [Removal("r2", "c", 12, 13, "B"), Removal("r1", "c", 5, 6, "A")]
    segs = removal_segments(text, removals)
    assert segs is not None
    assert [(s.kind, s.text, s.rule) for s in segs] == [
        (SegKind.KEEP, "keep ", None),
        (SegKind.REMOVED, "A", "r1"),
        (SegKind.KEEP, " drop ", None),
        (SegKind.REMOVED, "B", "r2"),
        (SegKind.KEEP, " keep C", None),
    ]


def test_removal_segments_refuse_offsets_that_do_not_fit() -> None:
    assert removal_segments("short", [Removal("r", "c", 2, 40, "x")]) is None
    assert (
        removal_segments("0123456789", [Removal("r", "c", 2, 6, "x"), Removal("r", "c", 4, 8, "y")]) is None
    )


@given(st.text(alphabet="ab \n", max_size=60), st.text(alphabet="ab \n", max_size=60))
def test_text_diff_rebuilds_both_sides(before: str, after: str) -> None:
    segs = diff_segments(before, after)
    assert _joined(segs, SegKind.KEEP, SegKind.REMOVED) == before
    assert _joined(segs, SegKind.KEEP, SegKind.INSERTED) == after


def test_boilerplate_diff_is_exact_and_labelled() -> None:
    steps = explain_document(DOC)
    diffs = {d.stage: d for d in stage_diffs(steps)}
    bp = diffs["boilerplate"]
    assert bp.exact
    removed = [(s.rule, s.text) for s in bp.segments if s.kind is SegKind.REMOVED]
    assert removed == [("promo.read_more.line", READ_MORE), ("source.read_full_article", TRAILER)]
    assert _joined(bp.segments, SegKind.KEEP, SegKind.REMOVED) == DOC  # the text that entered the stage
    assert steps[-1].text_after == pipeline.clean_text(DOC).text


def test_html_extract_is_not_diffed_but_later_stages_are() -> None:
    html = (
        "<html><body><article><h1>Ferry returns</h1><p>The island ferry resumed sailings on Saturday after "
        "a six-week suspension caused by a damaged ramp, the operator said today.</p>"
        f"<p>{TRAILER}</p></article></body></html>"
    )
    steps = explain_document(html, fmt="html")
    stages = [d.stage for d in stage_diffs(steps)]
    assert "extract" not in stages
    assert "boilerplate" in stages
    # what extraction made of the page is one line, not "no stage changed the text"
    (first, *_) = render_diff(steps).splitlines()
    assert first == f"extract: an HTML page of {len(html):,} characters -> " + (
        f"{len(steps[0].text_after):,} characters of text (markup: not shown as a diff)"
    )
    quiet = explain_document(
        "<html><body><article><p>" + "Quiet news. " * 30 + "</p></article></body></html>", fmt="html"
    )
    assert "no stage after extract changed the text" in render_diff(quiet)


def test_terminal_diff_marks_removed_spans() -> None:
    steps = explain_document(DOC)
    plain = render_diff(steps, color=False)
    assert f"«promo.read_more.line»[-{READ_MORE}-]" in plain
    assert f"«source.read_full_article»[-{TRAILER}-]" in plain
    coloured = render_diff(steps, color=True)
    assert "\x1b[9m" in coloured  # strikethrough
    assert TRAILER in coloured


def test_place_removals_puts_each_removal_between_its_neighbours() -> None:
    cleaned = pipeline.clean_text(DOC)
    segs = place_removals(cleaned.text, cleaned.removed)
    order = [s.text for s in segs if s.kind is SegKind.REMOVED]
    assert order == [READ_MORE, TRAILER]
    flat = "".join(s.text for s in segs)
    assert flat.index("twelve-mile detour.") < flat.index(READ_MORE) < flat.index("Highways officers")
    assert flat.index("forty years.") < flat.index(TRAILER)
    # kept runs are the clean text (plus display-only line breaks)
    assert _joined(segs, SegKind.KEEP).replace("\n", "") == cleaned.text.replace("\n", "")


def test_cli_diff_and_html(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(DOC, encoding="utf-8")
    page = tmp_path / "diff.html"
    res = CliRunner().invoke(cli, ["explain", str(doc), "--diff", "--no-color", "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert f"[-{TRAILER}-]" in res.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert f'<del class="rm" title="source.read_full_article (source_link)">{TRAILER}</del>' in html
    assert "<script" not in html and "<link" not in html


def test_cli_html_to_an_unwritable_place_is_an_output_error(tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text(DOC, encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(doc), "--html", str(tmp_path / "missing" / "x.html")])
    assert res.exit_code == 4


def _near_dedup_step(*args: str) -> dict[str, object]:
    res = CliRunner().invoke(cli, ["explain", *args, "--json"])
    assert res.exit_code == 0, res.output
    steps = json.loads(res.output)
    assert steps[-1]["stage"] == "near_dedup"
    return dict(steps[-1])


def test_cli_dedup_index_judges_the_document_as_run_does(tmp_path: Path) -> None:
    # explain judged the file as "<explain>", so the index's record of this very file (run over it
    # before) was its duplicate, "similarity 1.0"; run keeps it: same source and id, not a copy.
    dump = tmp_path / "dump"
    dump.mkdir()
    story = dump / "story.txt"
    story.write_text(DOC, encoding="utf-8")
    index = tmp_path / "idx"
    res = CliRunner().invoke(
        cli, ["run", str(dump), "-o", str(tmp_path / "out"), "--dedup-index", str(index), "--workers", "1"]
    )
    assert res.exit_code == 0, res.output
    own = _near_dedup_step(str(story), "--dedup-index", str(index))
    assert (own["status"], own["reason"]) == ("ok", None)
    assert own["notes"] == {"copy of": f"nothing in the index {index}"}
    copy = tmp_path / "copy.txt"
    copy.write_text(DOC, encoding="utf-8")
    other = _near_dedup_step(str(copy), "--dedup-index", str(index))
    assert (other["status"], other["reason"]) == ("dropped", "duplicate")
    assert other["notes"] == {"dup_of": make_id(str(story), 0), "similarity": 1.0}
    without = _near_dedup_step(str(copy))  # no index: nothing to copy
    assert without["status"] == "ok"


def test_cli_refuses_a_container_file_rather_than_explaining_it_as_one_text(tmp_path: Path) -> None:
    # a JSONL dump was explained as one text record (exit 0), a tar as "undecodable" binary
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"id": "a", "text": DOC}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(dump)])
    assert res.exit_code == 3
    assert "a jsonl file holds records, not one document" in res.output and "--format" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["explain", str(dump), "--format", "text"])  # asked for: one text
    assert res.exit_code == 0, res.output
    # a name that would retitle the terminal is printed escaped in the error line
    odd = tmp_path / "d\x1b]0;t\x07.jsonl"
    odd.write_text(json.dumps({"id": "a", "text": DOC}) + "\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["explain", str(odd)])
    assert res.exit_code == 3 and "d\\x1b]0;t\\x07.jsonl: a jsonl file" in res.output
    assert "\x1b" not in res.output and "\x07" not in res.output


def test_cli_refuses_a_tar_of_pages_naming_its_format(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><article><p>{DOC}</p></article></body></html>", encoding="utf-8")
    archive = tmp_path / "pages.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(page, arcname="page.html")
    res = CliRunner().invoke(cli, ["explain", str(archive)])
    assert res.exit_code == 3
    assert "a tar file holds records, not one document" in res.output
