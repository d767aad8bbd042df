"""A tar's members held for a saved page that has not come yet (a folder named ``X_files``) are
not lost when the archive breaks off: what was read before the break is read as the walk reads
an ordinary folder, then the break is one reject (n_in = kept + dropped + rejected)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from pipeline.core.config import ReaderConfig
from pipeline.core.record import Status
from pipeline.io.formats.archive import read_tar

PAGE = "<html><body><p>{}</p></body></html>"


def _member(tf: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def test_members_held_for_a_page_are_read_when_the_tar_is_cut(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        _member(tf, "orphan_files/note.html", PAGE.format("Kept: no orphan.html beside it."))
        _member(tf, "first.html", PAGE.format("The tram line opens."))
        _member(tf, "last.html", PAGE.format("x" * 5000))
    data = buf.getvalue()
    path = tmp_path / "cut.tar"
    path.write_bytes(data[: 4 * 512 + 1000])  # cut inside the third member's data
    docs = list(read_tar(path, ReaderConfig()))
    assert [(d.status, d.source.rsplit("!", 1)[-1]) for d in docs[:2]] == [
        (Status.OK, "first.html"),
        (Status.OK, "orphan_files/note.html"),
    ]
    assert [(d.status, d.reason) for d in docs[2:]] == [(Status.REJECTED, "truncated")]
