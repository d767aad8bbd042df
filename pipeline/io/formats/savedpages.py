"""Saved web pages: a browser's "Save page as... (complete)" writes ``X.html`` and, beside it, a
folder ``X_files/`` of the page's resources (images, scripts, styles, and the iframes - ads,
widgets, embeds - as ``.htm``/``.html`` files). Those files are not documents of the dump. One rule
says which folders they are, for a directory walk (:mod:`pipeline.io.readers`) and a tar's members
(:mod:`pipeline.io.formats.archive`) alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.io.formats.kinds import FORMATS

#: The endings of the folder a browser's "Save page as... (complete)" writes beside ``X.html``
#: (``X_files/``: the page's images, scripts, styles and iframes - ads, widgets, embeds - saved as
#: ``.htm``/``.html`` files). ``_files`` is what Chrome, Edge and Firefox write; the others are the
#: localized names Windows (Internet Explorer, Office) gives such folders, which some browsers
#: follow (German ``-Dateien``, French ``_fichiers``, ...). Compared ignoring case.
PAGE_FOLDER_SUFFIXES = (
    "_files",
    "-dateien",
    "_dateien",
    "_fichiers",
    "_archivos",
    "_arquivos",
    "_file",
    "_bestanden",
    "_filer",
    "_tiedostot",
    "_pliki",
    "_soubory",
)
#: Extensions of the saved page itself (an uncompressed HTML file, as browsers write it).
_PAGE_SUFFIXES = tuple(ext for ext, kind in FORMATS.items() if kind == "html")


def saved_page_stem(filename: str) -> str | None:
    """``X`` for a file that can be a saved page, ``X.html``/``X.htm``/``X.xhtml`` (the extension
    in any case); None for another file."""
    for ext in _PAGE_SUFFIXES:
        if filename.lower().endswith(ext):
            return filename[: -len(ext)]
    return None


def page_folder_stems(folder: str) -> set[str]:
    """The stems of the pages whose resource folder a folder of this name is when it is beside
    them (``X`` for ``X_files``, ``X-Dateien``, ...; :data:`PAGE_FOLDER_SUFFIXES`)."""
    return {folder[: -len(sfx)] for sfx in PAGE_FOLDER_SUFFIXES if folder.lower().endswith(sfx)}


def page_resource_folders(dirnames: Sequence[str], filenames: Sequence[str]) -> set[str]:
    """The folders among ``dirnames`` that hold a saved page's resources: ``X_files`` (or a
    :data:`PAGE_FOLDER_SUFFIXES` variant) beside an HTML file ``X.html``/``X.htm``/``X.xhtml``
    of the same stem in ``filenames``. A folder named so without its page is an ordinary folder.
    The rule of a directory walk and of an archive's members alike."""
    stems = {stem for name in filenames if (stem := saved_page_stem(name)) is not None}
    return {d for d in dirnames if page_folder_stems(d) & stems}
