"""A saved web page's resource folder in a tar: ``story.html`` + ``story_files/`` (the page's
iframes, ads and embeds saved as ``.htm``/``.html``). A directory walk does not read that folder;
the same dump packed as a tar read each of its HTML files as a page of its own. Now an archive's
members follow the walk's rule (one predicate, :func:`page_resource_folders`), whatever order the
tar holds them in, and each such member is counted as dropped (``read/saved_page_file``)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.config import ReaderConfig
from pipeline.core.record import Status
from pipeline.io.formats.archive import read_tar

FRAME = "<html><body><p>Advertisement: subscribe now</p></body></html>"
FILES = {
    "story.html": "<html><body><p>The tram line opens.</p></body></html>",
    "story_files/ad_frame.htm": FRAME,
    "story_files/widget.html": FRAME,
    "story_files/nested/embed.html": FRAME,
    "story_files/logo.png": "\x89PNG",
    "story_files/.hidden.html": FRAME,
    "Seite.htm": "<html><body><p>Die Brücke ist offen.</p></body></html>",
    "Seite-Dateien/werbung.html": FRAME,  # a localized folder name
    # a folder named like one without its page, and a page without a folder: read as usual
    "orphan_files/note.html": "<html><body><p>Kept: no orphan.html beside it.</p></body></html>",
    "notes/story_files.txt": "a text file, not a folder",
    "sub/other.html": "<html><body><p>Another story.</p></body></html>",
    "sub/story_files/frame.html": FRAME,  # story.html is not beside it: read
}
READ = [
    "Seite.htm",
    "notes/story_files.txt",
    "orphan_files/note.html",
    "story.html",
    "sub/other.html",
    "sub/story_files/frame.html",
]
RESOURCES = {
    "Seite-Dateien/werbung.html": "Seite.htm",
    "story_files/ad_frame.htm": "story.html",
    "story_files/logo.png": "story.html",
    "story_files/nested/embed.html": "story.html",
    "story_files/widget.html": "story.html",
}


def _tar(path: Path, names: list[str], prefix: str = "") -> Path:
    mode = "w:gz" if path.name.endswith(".gz") else "w"
    with tarfile.open(path, mode) as tf:  # type: ignore[call-overload]
        for name in names:
            data = FILES[name].encode()
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _outcome(path: Path, prefix: str = "") -> tuple[list[str], dict[str, str]]:
    """The members read as documents, and those dropped as a saved page's files (-> the page)."""
    read, resources = [], {}
    for doc in read_tar(path, ReaderConfig()):
        member = doc.source.split("!", 1)[1].removeprefix(prefix)
        if doc.status is Status.OK:
            read.append(member)
        else:
            assert (doc.status, doc.stage, doc.reason) == (Status.DROPPED, "read", "saved_page_file"), doc
            member = member.removesuffix(":0")
            assert doc.detail is not None and f"saved page {prefix}{RESOURCES[member]}" in doc.detail
            resources[member] = doc.detail.split("saved page ", 1)[1].split(" ", 1)[0].removeprefix(prefix)
    return read, resources


@pytest.mark.parametrize("order", ["sorted", "folders_first", "pages_last"])
@pytest.mark.parametrize("suffix, prefix", [(".tar", ""), (".tar.gz", "./")])
def test_a_tar_skips_a_saved_pages_folder_as_a_directory_walk_does(
    tmp_path: Path, order: str, suffix: str, prefix: str
) -> None:
    names = sorted(FILES)
    if order == "folders_first":  # as `tar` often stores them (directory order): the page comes after
        names = sorted(FILES, key=lambda n: ("/" not in n, n))
    elif order == "pages_last":
        names = sorted(FILES, key=lambda n: (n in ("story.html", "Seite.htm"), n))
    path = _tar(tmp_path / f"dump{suffix}", names, prefix)
    read, resources = _outcome(path, prefix)
    assert sorted(read) == READ
    assert resources == RESOURCES
    # members held for a page that never came are read all the same, after the others
    assert read[-2:] == ["orphan_files/note.html", "sub/story_files/frame.html"]


def test_a_page_first_means_its_folder_is_not_even_copied(tmp_path: Path) -> None:
    path = _tar(tmp_path / "dump.tar", ["story.html", "story_files/ad_frame.htm", "sub/other.html"])
    docs = list(read_tar(path, ReaderConfig()))
    assert [(d.source.split("!")[1], d.status.value) for d in docs] == [
        ("story.html", "ok"),
        ("story_files/ad_frame.htm:0", "dropped"),
        ("sub/other.html", "ok"),
    ]


def test_a_run_of_a_packed_dump_counts_the_pages_files_as_dropped(tmp_path: Path) -> None:
    names = ["story_files/ad_frame.htm", "story_files/widget.html", "story.html"]
    path = _tar(tmp_path / "dump.tar.gz", names)
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["run", str(path), "-o", str(out), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "read/saved_page_file" in res.output
    manifest = json.loads((out / "_cleanwire" / "manifest.json").read_text())
    counts = manifest["counts"]
    assert (counts["n_in"], counts["n_dropped"]) == (3, 2)
    with gzip.open(out / "_cleanwire" / "dropped.jsonl.gz", "rt") as f:
        rows = [json.loads(line) for line in f]
    assert [(r["source"], r["reason"]) for r in rows] == [
        (f"{path}!story_files/ad_frame.htm:0", "saved_page_file"),
        (f"{path}!story_files/widget.html:0", "saved_page_file"),
    ]
