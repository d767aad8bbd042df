"""Finding and loading the evaluation sets (``../shared/eval`` layout, see its README).

Every loader returns typed records; a set whose files are absent is reported as missing, never
as an error, so ``cleanwire eval`` can skip it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.record import RAW_FORMATS
from pipeline.evaluation.langid import LangSentence
from pipeline.evaluation.newsboiler import BoilerItem, NewsDoc

SET_NAMES: tuple[str, ...] = ("newsboiler", "aeb", "wcxb", "langid", "neardup", "wcxb-train")
#: What ``cleanwire eval`` runs when no set is named: the held-out sets. ``wcxb-train`` (1,208
#: pages of seven page types, training material) runs when named.
DEFAULT_SETS: tuple[str, ...] = ("newsboiler", "aeb", "wcxb", "langid", "neardup")
PAGE_SETS: tuple[str, ...] = ("aeb", "wcxb", "wcxb-train")
#: Page sets with WCXB's annotations (``with``/``without`` snippets): also scored with its metric.
WCXB_SETS: tuple[str, ...] = ("wcxb", "wcxb-train")
#: Page sets without a baseline file: plain trafilatura runs on them in the same evaluation.
PLAIN_BASELINE_SETS: tuple[str, ...] = ("wcxb-train",)
#: Sets a default setting was tuned on: their numbers are not held-out measurements.
TUNED_ON: dict[str, str] = {
    "wcxb-train": "threshold tuned on this set: extract.slow_share_below = 0.35 is the smallest share "
    "that kept every page type at or above plain trafilatura here",
}
_MARKER_FILE = {
    "newsboiler": "newsboiler/dev.jsonl",
    "aeb": "aeb/ground-truth.json",
    "wcxb": "wcxb/ground-truth.json",
    "langid": "langid/sentences.jsonl",
    "wcxb-train": "wcxb-train/ground-truth.json",
}
DEFAULT_DATA = Path("..") / "shared" / "eval"


def default_data_dirs(cwd: Path | None = None) -> list[Path]:
    """``../shared/eval`` relative to the working directory, then relative to the repository."""
    repo = Path(__file__).resolve().parents[2]
    return [(cwd or Path.cwd()) / DEFAULT_DATA, repo / DEFAULT_DATA]


def find_data_dir(explicit: str | Path | None = None) -> Path | None:
    """The evaluation directory to use, or None when there is none."""
    candidates = [Path(explicit)] if explicit is not None else default_data_dirs()
    return next((c.resolve() for c in candidates if c.is_dir()), None)


#: Sets built at run time from other sets' files (:mod:`pipeline.evaluation.neardup_set`).
_BUILT_FROM = {"neardup": ("newsboiler/dev.jsonl", "aeb/ground-truth.json", "wcxb/metadata.json")}


def set_present(root: Path, name: str) -> bool:
    if name in _BUILT_FROM:
        return all((root / part).is_file() for part in _BUILT_FROM[name])
    return (root / _MARKER_FILE[name]).is_file()


def _damaged(path: Path, exc: Exception, where: str = "") -> InputError:
    return InputError(
        f"cannot read evaluation file {path}{where}: {' '.join(str(exc).split())[:200]}",
        hint="restore the set from its source (the eval data directory's README says where from)",
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or UTF-8
        raise _damaged(path, exc) from exc


#: Raises a :class:`ValueError` saying what keeps a row of a set's JSON lines from being a record.
RowCheck = Callable[[dict[str, Any]], None]


def _jsonl(path: Path, check: RowCheck | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a JSON lines file; a row that is not an object, or that ``check`` finds a
    problem in, and a file that is not UTF-8, are an :class:`InputError` naming the file and line."""
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if not isinstance(row, dict):
                        raise ValueError(f"a JSON {type(row).__name__}, not an object")
                    if check:
                        check(row)
                except ValueError as exc:  # bad JSON, not an object, or what ``check`` found
                    raise _damaged(path, exc, f", line {n}") from exc
                yield row
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(path, exc) from exc  # not UTF-8 (decoded a chunk at a time: no line to name)


def _wrong(row: dict[str, Any], key: str, *types: type, required: bool = False) -> str | None:
    """What is wrong with ``row[key]`` (missing when ``required``, or of none of ``types``)."""
    value = row.get(key)
    if value is None:
        return f"no {key!r}" if required else None
    if not isinstance(value, types):
        return f"{key!r} is {type(value).__name__}, not {' or '.join(t.__name__ for t in types)}"
    return None


class NewsRowProblem(ValueError):
    """What keeps a row from being a document in newsboiler's schema (the message, without the
    file and line) and, when there is more to say than to fix or remove the row, what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


#: How much of an item's text a message shows.
_MAX_SHOWN = 60


def shown(text: str) -> str:
    """``text`` for a message: its lines joined by ``/``, quoted, cut to 60 characters."""
    one = " / ".join(line.strip() for line in text.splitlines() if line.strip())
    return json.dumps(one if len(one) <= _MAX_SHOWN else one[: _MAX_SHOWN - 1] + "…", ensure_ascii=False)


def _check_type(row: dict[str, Any], key: str, types: tuple[type, ...], what: str) -> None:
    value = row.get(key)
    if value is not None and not isinstance(value, types):
        raise NewsRowProblem(f"{key} is {type(value).__name__}, not {what}")


def check_news_row(row: Any, categories: Collection[str] | None = None) -> None:
    """Raise :class:`NewsRowProblem` when ``row`` is not a document in newsboiler's schema (see
    its README): an object with ``id``, ``raw`` and ``gold_text``, a ``format`` of
    :data:`~pipeline.core.record.RAW_FORMATS` (missing or null: ``text``) and ``boilerplate`` items
    ``{category, text[, raw_text]}``; with ``categories``, every item's category one of them."""
    if not isinstance(row, dict):
        raise NewsRowProblem(f"not a JSON object but {type(row).__name__}")
    missing = [k for k in ("id", "raw", "gold_text") if row.get(k) is None]
    if missing:
        raise NewsRowProblem(f"missing {', '.join(missing)}")
    _check_type(row, "id", (str, int), "a string or an integer")
    for key in ("raw", "gold_text", "url", "lang"):  # a url's host groups the folds of train --cv
        _check_type(row, key, (str,), "a string")
    fmt = row.get("format") or "text"
    if not isinstance(fmt, str) or fmt not in RAW_FORMATS:
        raise NewsRowProblem(
            f"format {fmt!r} is not one of {', '.join(sorted(RAW_FORMATS))}",
            hint="a labelled document's format is html (a page) or text (a scrape; also when missing or null)",
        )
    _check_type(row, "boilerplate", (list,), "a list of {category, text}")
    for n, item in enumerate(row.get("boilerplate") or [], 1):
        _check_item(n, item, categories)


def _check_item(n: int, item: Any, categories: Collection[str] | None) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise NewsRowProblem(f"boilerplate item {n} is not an object with a text string")
    category = item.get("category")
    if not isinstance(category, str) or (categories is not None and category not in categories):
        known = f"; known: {', '.join(sorted(categories))}" if categories is not None else ""
        raise NewsRowProblem(
            f"boilerplate item {n} ({shown(item['text'])}) has unknown category {category!r}{known}",
            hint="fix the item's category (one of the known ones, as rule packs name them) or remove the item",
        )
    if not isinstance(item.get("raw_text"), (str, type(None))):
        raise NewsRowProblem(f"boilerplate item {n} ({shown(item['text'])}): raw_text is not a string")


def _check_langid_row(row: dict[str, Any]) -> None:
    problem = (
        _wrong(row, "text", str, required=True)
        or _wrong(row, "lang", str, required=True)
        or _wrong(row, "langdetect", str)
    )
    if problem:
        raise ValueError(problem)


def load_newsboiler(root: Path) -> list[NewsDoc]:
    return load_news_file(root / _MARKER_FILE["newsboiler"])


def load_news_file(path: Path) -> list[NewsDoc]:
    """Labelled documents in newsboiler's schema from a JSONL file (the set's, the synthetic
    corpus, a user's own)."""
    return news_docs(_jsonl(path, check_news_row))


def news_docs(rows: Iterable[dict[str, Any]]) -> list[NewsDoc]:
    """Rows in newsboiler's schema as :class:`NewsDoc` s."""
    return [
        NewsDoc(
            id=str(r["id"]),
            format=str(r.get("format") or "text"),
            lang=str(r.get("lang") or "und"),
            raw=str(r["raw"]),
            gold_text=str(r["gold_text"]),
            boilerplate=tuple(
                BoilerItem(str(b["category"]), str(b["text"]), b.get("raw_text"))
                for b in r.get("boilerplate") or []
            ),
            url=r.get("url"),
            notes=str(r.get("notes") or ""),
        )
        for r in rows
    ]


def load_langid(root: Path) -> list[LangSentence]:
    return [
        LangSentence(str(r["text"]), str(r["lang"]), str(r.get("langdetect") or r["lang"]))
        for r in _jsonl(root / _MARKER_FILE["langid"], _check_langid_row)
    ]


@dataclass(frozen=True, slots=True)
class Page:
    """One benchmark page: its HTML file, gold article body and (WCXB) snippet checks."""

    id: str
    url: str | None
    gold: str
    html_path: Path
    with_snippets: tuple[str, ...] = ()
    without_snippets: tuple[str, ...] = ()
    #: WCXB's page type (``article``, ``service``, ``forum``, ...), from the set's ``metadata.json``
    page_type: str | None = None

    def html(self) -> str:
        return read_page_html(self.html_path, errors="replace")


def read_page_html(path: Path, *, errors: str = "strict") -> str:
    """A set's page, ``<id>.html.gz`` or ``<id>.html`` (:func:`page_html_path`), as UTF-8 text."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors=errors) as fh:
            return fh.read()
    return path.read_text(encoding="utf-8", errors=errors)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Another extractor's output on the same pages (``baselines/<name>.json``)."""

    name: str
    version: str
    bodies: dict[str, str]


@dataclass(frozen=True, slots=True)
class PageSet:
    name: str
    pages: tuple[Page, ...]
    baselines: tuple[Baseline, ...]


def _object(path: Path, data: Any, what: str) -> dict[str, Any]:
    """``data`` when it is a JSON object, else the :class:`InputError` of a damaged file."""
    if not isinstance(data, dict):
        raise _damaged(path, ValueError(f"{what} is a JSON {type(data).__name__}, not an object"))
    return data


def _snippets(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not path.is_file():
        return (), ()
    truth = _object(
        path, _object(path, _read_json(path), "the file").get("ground_truth") or {}, "ground_truth"
    )
    out = []
    for key in ("with", "without"):
        snippets = truth.get(key) or []
        if not isinstance(snippets, list) or not all(isinstance(x, str) for x in snippets):
            raise _damaged(path, ValueError(f"ground_truth.{key} is not a list of strings"))
        out.append(tuple(snippets))
    return out[0], out[1]


def page_html_path(folder: Path, pid: str) -> Path:
    """``<id>.html.gz`` as the sets ship it, or a plain ``<id>.html`` (small authored fixtures)."""
    plain = folder / f"{pid}.html"
    return plain if plain.is_file() else folder / f"{pid}.html.gz"


def load_baseline(path: Path) -> Baseline:
    data = _object(path, _read_json(path), "the file")
    output = _object(path, data.get("output", data), "'output'")
    for k, v in output.items():
        if v is not None and not isinstance(
            _object(path, v, f"page {k!r}").get("articleBody"), (str, type(None))
        ):
            raise _damaged(path, ValueError(f"page {k!r}: articleBody is not a string"))
    bodies = {str(k): str((v or {}).get("articleBody") or "") for k, v in output.items()}
    return Baseline(path.stem, str(data.get("version") or ""), bodies)


def load_page_set(root: Path, name: str) -> PageSet:
    base = root / name
    gold_path = base / "ground-truth.json"
    gold = _object(gold_path, _read_json(gold_path), "the file")
    meta_path = base / "metadata.json"
    meta = _object(meta_path, _read_json(meta_path), "the file") if meta_path.is_file() else {}
    pages = []
    for pid, entry in gold.items():
        _object(gold_path, entry, f"page {pid!r}")
        for key in ("articleBody", "url"):
            if problem := _wrong(entry, key, str):
                raise _damaged(gold_path, ValueError(f"page {pid!r}: {problem}"))
        if not isinstance(meta.get(str(pid)) or {}, dict):
            raise _damaged(meta_path, ValueError(f"page {pid!r} is not an object"))
        with_, without = _snippets(base / "ground-truth" / f"{pid}.json")
        page_type = (meta.get(str(pid)) or {}).get("page_type")
        pages.append(
            Page(
                id=str(pid),
                url=entry.get("url"),
                gold=str(entry.get("articleBody") or ""),
                html_path=page_html_path(base / "html", str(pid)),
                with_snippets=with_,
                without_snippets=without,
                page_type=str(page_type) if page_type else None,
            )
        )
    baselines = tuple(load_baseline(p) for p in sorted((base / "baselines").glob("*.json")))
    return PageSet(name, tuple(pages), baselines)
