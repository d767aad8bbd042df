"""The dense features of the boilerplate model (:data:`DENSE`): per unit, its position in the
document, length, casing, punctuation, digit/date/time shape, URL/e-mail/handle, and its
neighbours' lengths and endings. Computed from the units' code points with numpy (no regular
expressions); a batch of several documents gives the same rows as one call per document.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from stages.boilerplate.codes import F32, I64, LUT_SIZE, U32, Bools, code_points, lookup_bool, lookup_cls

DENSE: tuple[str, ...] = (
    "is_html",
    "rel_pos",
    "is_first",
    "is_last",
    "log_from_start",
    "log_from_end",
    "log_chars",
    "log_words",
    "short_lt40",
    "long_gt200",
    "cap_share",
    "all_caps",
    "starts_upper",
    "title_case_share",
    "ends_sentence",
    "ends_colon",
    "ends_ellipsis",
    "ends_bracket_tag",
    "has_pipe",
    "has_bracket_tag",
    "colon_early",
    "digit_share",
    "has_time",
    "has_year",
    "has_date_num",
    "has_url",
    "has_email",
    "has_handle",
    "has_copyright",
    "n_sentences",
    "punct_share",
    "prev_log_chars",
    "next_log_chars",
    "prev_short",
    "next_short",
    "prev_ends_colon",
    "prev_ends_sentence",
    "next_ends_sentence",
    "dup_in_doc",
    "log_lines_doc",
    "share_short_near",
    "too_long",
)


def _table(chars: str) -> Bools:
    """A membership table for ``chars`` (all below LUT_SIZE)."""
    m = np.zeros(LUT_SIZE, dtype=bool)
    m[[ord(x) for x in chars]] = True
    return m


def _isin(c: U32, table: Bools) -> Bools:
    return lookup_bool(table, c, False)


_ENDS_SENT = _table(".!?\"'\u201d\u2019\u00bb)")
_SENT_END = _table(".!?\u2026")
_CLOSERS = _table("])")
_DATE_SEP = _table("/.-")
_TIME_SEP = _table(":.h")
_URL_NEEDLES = ("http://", "https://", "www.", ".com", ".org", ".net", ".co.uk", ".io/", ".html")
_COPY_NEEDLES = ("\u00a9", "(c)", "copyright")


def _shift(x: npt.NDArray[Any], k: int, fill: Any) -> npt.NDArray[Any]:
    """``x[i + k]`` (``fill`` past either end)."""
    if k == 0:
        return x
    out = np.full(len(x), fill, dtype=x.dtype)
    if k > 0:
        out[:-k] = x[k:]
    else:
        out[-k:] = x[:k]
    return out


def _find_all(text: str, needle: str) -> list[int]:
    out, at = [], text.find(needle)
    while at >= 0:
        out.append(at)
        at = text.find(needle, at + 1)
    return out


def _spans(units: Sequence[str]) -> tuple[str, U32, I64, I64, I64]:
    """The units joined by ``\\n``, its code points, and each unit's length, start and end."""
    joined = "\n".join(units)
    lens = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
    starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
    return joined, code_points(joined), lens, starts, starts + lens


@dataclass(frozen=True)
class _Chars:
    """The units joined by ``\\n`` as code points, with the character classes the
    :func:`_local_features` look at."""

    n: int
    joined: str
    c: U32
    lens: I64
    starts: I64
    ends: I64
    lid: I64  # the unit of each code point: a "\\n" is counted with the next unit; masks exclude it
    alpha: Bools
    upper: Bools
    digit: Bools
    word: Bools
    space: Bools
    nl: Bools
    brk: Bools  # at the start of the text or after a space or a line break

    @classmethod
    def of(cls, units: Sequence[str]) -> _Chars:
        joined, c, lens, starts, ends = _spans(units)
        nl = c == 10
        classes = lookup_cls(c)
        space = c == 32
        return cls(
            n=len(units),
            joined=joined,
            c=c,
            lens=lens,
            starts=starts,
            ends=ends,
            lid=np.cumsum(nl),
            alpha=(classes & 1).astype(bool),
            upper=(classes & 2).astype(bool),
            digit=(classes & 4).astype(bool),
            word=(classes & 8).astype(bool),
            space=space,
            nl=nl,
            brk=np.concatenate(([True], space[:-1] | nl[:-1])),
        )

    def count(self, mask: Bools) -> I64:
        """Per unit: how many of its code points ``mask`` holds."""
        return np.bincount(self.lid[mask], minlength=self.n)

    def anyof(self, mask: Bools) -> Bools:
        return self.count(mask) > 0

    def units_of(self, pos: list[int]) -> Bools:
        """Per unit: whether one of the offsets ``pos`` (into ``joined``) falls in it."""
        found = np.zeros(self.n, dtype=bool)
        if pos:
            found[np.searchsorted(self.starts, pos, side="right") - 1] = True
        return found


def _local_features(units: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    """The dense features that look at a unit's own characters only (the keys of the dicts it
    merges): each row depends on its unit's characters alone
    (every pattern stops at the ``\\n`` between two units), so a unit gets the same values in any
    list of units."""
    t = _Chars.of(units)
    return _casing(t) | _digit_shapes(t) | _marks(t) | _contacts(t)


def _casing(t: _Chars) -> dict[str, npt.NDArray[Any]]:
    """Words, capitals, digits, punctuation and an early colon."""
    n_alpha = t.count(t.alpha)
    n_upper = t.count(t.upper)
    n_digit = t.count(t.digit)
    n_punct = t.count(~t.word & ~t.space & ~t.nl)
    wstart = ~t.space & ~t.nl & t.brk
    n_words = t.count(wstart)
    n_title = t.count(wstart & t.upper)
    first_c = t.c[t.starts]
    pos_in_unit = np.arange(len(t.c)) - t.starts[np.minimum(t.lid, t.n - 1)]
    return {
        "log_words": np.log1p(n_words) / 4,
        "cap_share": n_upper / np.maximum(n_alpha, 1),
        "all_caps": (n_alpha >= 3) & (n_upper == n_alpha),
        "starts_upper": (lookup_cls(first_c) & 2).astype(bool),
        "title_case_share": n_title / np.maximum(n_words, 1),
        "colon_early": t.anyof((t.c == 58) & (pos_in_unit < 30)),
        "digit_share": n_digit / np.maximum(t.lens, 1),
        "punct_share": n_punct / np.maximum(t.lens, 1),
    }


def _digit_shapes(t: _Chars) -> dict[str, npt.NDArray[Any]]:
    """A time (``9:30``, ``10h15``), a year (19xx, 20xx) and a numeric date (``3/4/2024``)."""
    c, digit = t.c, t.digit
    d1, d2, d3 = _shift(digit, 1, False), _shift(digit, 2, False), _shift(digit, 3, False)
    d4 = _shift(digit, 4, False)
    dm1 = _shift(digit, -1, False)
    c1 = _shift(c, 1, 0)
    has_time = t.anyof(digit & ~dm1 & _isin(c1, _TIME_SEP) & d2 & d3 & ~d4) | t.anyof(
        digit & ~dm1 & d1 & _isin(_shift(c, 2, 0), _TIME_SEP) & d3 & d4 & ~_shift(digit, 5, False)
    )
    year = ~dm1 & (((c == 49) & (c1 == 57)) | ((c == 50) & (c1 == 48))) & d2 & d3 & ~d4
    return {
        "has_time": has_time,
        "has_year": t.anyof(year),
        "has_date_num": t.count(digit & _isin(c1, _DATE_SEP) & d2) >= 2,
    }


def _marks(t: _Chars) -> dict[str, npt.NDArray[Any]]:
    """Sentences, bracketed tags, pipes and a closing ellipsis."""
    c, ends = t.c, t.ends
    last_c = c[ends - 1]
    nxt = _shift(c, 1, 10)
    n_sent = t.count(_isin(c, _SENT_END) & ((nxt == 32) | (nxt == 10)))
    last_open = np.full(t.n, -1, dtype=np.int64)
    opening = np.flatnonzero((c == 91) | (c == 40))
    if len(opening):
        np.maximum.at(last_open, t.lid[opening], opening)
    ends_tag = _isin(last_c, _CLOSERS) & (last_open >= 0) & ((ends - last_open) <= 27)
    ellipsis = (last_c == 0x2026) | (
        (last_c == 46) & (c[np.maximum(ends - 2, 0)] == 46) & (c[np.maximum(ends - 3, 0)] == 46)
    )
    return {
        "ends_ellipsis": ellipsis,
        "ends_bracket_tag": ends_tag,
        "has_pipe": t.anyof(c == 124),
        "has_bracket_tag": t.anyof(c == 91) & t.anyof(c == 93),
        "n_sentences": np.minimum(n_sent, 5) / 5,
    }


def _contacts(t: _Chars) -> dict[str, npt.NDArray[Any]]:
    """A URL, an e-mail address, a handle (``@name``, ``#tag``) and a copyright notice."""
    c, word, joined = t.c, t.word, t.joined
    low = joined.lower()
    has_url = t.units_of([p for nd in _URL_NEEDLES for p in _find_all(low, nd)])
    has_email = np.zeros(t.n, dtype=bool)
    has_handle = np.zeros(t.n, dtype=bool)
    if "@" in joined:
        at = c == 64
        has_email = t.anyof(at & _shift(word, -1, False) & _shift(word, 1, False))
        has_handle = t.anyof(at & t.brk & _shift(word, 1, False))
    if "#" in joined:
        has_handle |= t.anyof((c == 35) & t.brk & _shift(word, 1, False))
    return {
        "has_url": has_url,
        "has_email": has_email,
        "has_handle": has_handle,
        "has_copyright": t.units_of([p for nd in _COPY_NEEDLES for p in _find_all(low, nd)]),
    }


def dense_features(
    units: Sequence[str],
    is_html: Sequence[bool],
    doc: I64,
    max_line_chars: int = 200,
    need: Bools | None = None,
) -> F32:
    """Dense features per unit, from the units' code points (numpy, no regular expressions).

    ``units`` may hold the units of several documents (``doc``: the document index of each unit,
    non-decreasing; ``is_html``: one flag per document): features that look at position and
    neighbours stay within a document, so a batch gives the same rows as one call per document.

    ``need``: the rows wanted (default all). The others get 0 for the :func:`_local_features`,
    whose cost grows with the characters of the units they look at; the rows wanted are the same.
    """
    n = len(units)
    out = np.zeros((n, len(DENSE)), dtype=np.float32)
    if n == 0:
        return out
    columns = _context_features(units, is_html, doc, max_line_chars)
    for j, name in enumerate(DENSE):
        if name in columns:
            out[:, j] = columns[name]
    rows = None if need is None or need.all() else np.flatnonzero(need)
    if rows is not None and not len(rows):
        return out
    local = _local_features(units if rows is None else [units[i] for i in rows.tolist()])
    for j, name in enumerate(DENSE):
        if name in local:
            if rows is None:
                out[:, j] = local[name]
            else:
                out[rows, j] = local[name]
    return out


def _context_features(
    units: Sequence[str], is_html: Sequence[bool], doc: I64, max_line_chars: int
) -> dict[str, npt.NDArray[Any]]:
    """The dense features other than :func:`_local_features`: position, length, last character and the
    neighbours, each within its document."""
    n = len(units)
    _, c, lens, _, ends = _spans(units)
    last_c = c[ends - 1]
    ends_sent = _isin(last_c, _ENDS_SENT)
    ends_colon = last_c == 58
    # position and neighbours, within each document
    first = np.concatenate(([True], doc[1:] != doc[:-1]))
    last = np.concatenate((doc[1:] != doc[:-1], [True]))
    doc_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    idx = np.arange(n) - doc_start
    size = np.bincount(doc)[doc]
    short = lens < 40
    log_len = np.log1p(lens) / 6
    html = np.asarray(is_html, dtype=bool)[doc]
    return {
        "is_html": html,
        "rel_pos": np.where(size > 1, idx / np.maximum(size - 1, 1), 0.0),
        "is_first": first,
        "is_last": last,
        "log_from_start": np.log1p(idx) / 4,
        "log_from_end": np.log1p(size - 1 - idx) / 4,
        "log_chars": log_len,
        "short_lt40": short,
        "long_gt200": lens > 200,
        "ends_sentence": ends_sent,
        "ends_colon": ends_colon,
        "prev_log_chars": np.where(first, 0.0, _shift(log_len, -1, 0.0)),
        "next_log_chars": np.where(last, 0.0, _shift(log_len, 1, 0.0)),
        "prev_short": np.where(first, True, _shift(short, -1, True)),
        "next_short": np.where(last, True, _shift(short, 1, True)),
        "prev_ends_colon": ~first & _shift(ends_colon, -1, False),
        "prev_ends_sentence": ~first & _shift(ends_sent, -1, False),
        "next_ends_sentence": ~last & _shift(ends_sent, 1, False),
        "dup_in_doc": _dup_in_doc(units, doc, lens),
        "log_lines_doc": np.log1p(size) / 5,
        "share_short_near": _share_short_near(short, doc),
        "too_long": lens > max_line_chars,
    }


def _dup_in_doc(units: Sequence[str], doc: I64, lens: I64) -> Bools:
    """Whether the unit occurs again in its document. Only the units that share their length
    (``lens``) with another unit of their document are compared: a third of a batch's, and few of
    its long ones (hashing every unit's text cost as much as the other context features)."""
    out = np.zeros(len(units), dtype=bool)
    pair = doc * (int(lens.max()) + 1) + lens  # (document, length) as one number
    _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    maybe = np.flatnonzero(counts[inverse] > 1)
    if len(maybe):
        keys = [(d, units[i]) for d, i in zip(doc[maybe].tolist(), maybe.tolist(), strict=True)]
        seen = Counter(keys)
        out[maybe] = [seen[k] > 1 for k in keys]
    return out


def _share_short_near(short: Bools, doc: I64) -> F32:
    """The share of short units among the unit and two on either side (past the document's
    ends count as short)."""
    near_short = np.zeros(len(short), dtype=np.float32)
    for k in (-2, -1, 0, 1, 2):
        same_doc = _shift(doc, k, -1) == doc
        near_short += np.where(same_doc, _shift(short, k, True), True)
    near_short /= 5
    return near_short
