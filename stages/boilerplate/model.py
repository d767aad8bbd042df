"""The learned boilerplate classifier: features and inference in numpy alone (no scikit-learn, no
pickle).

The model is linear over each unit (:mod:`stages.boilerplate.units`) of a text:

* hashed features of the *normalised* unit: character n-grams (``FeatureSpec.char_n``) of the
  unit between two boundary marks, word unigrams and bigrams, the first and the last word, and the
  whole unit when it has at most ``whole_line_max_words`` words; each group scaled by
  ``1/sqrt(its count)``;
* dense features (:data:`DENSE`): position, length, casing, punctuation, digit/date/time shape,
  URL/e-mail/handle, the neighbours' lengths and endings, whether they are short, ...

Normalisation (:func:`normalise`): lower case (one-to-one case mappings), quotes/apostrophes,
dashes, ellipses, bullets and arrows unified, digits -> ``0``, odd spaces -> space, runs of spaces
collapsed, a leading list marker dropped. It runs on the code points of all units at once with a
lookup table, as does the hashing: a polynomial rolling hash mod 2**64 from prefix sums, then
murmur3's fmix64 with a salt per feature group. Training (:mod:`pipeline.training`) and inference
use this same code; nothing depends on ``PYTHONHASHSEED``.

Units longer than ``max_line_chars`` are not scored (probability 0): paragraphs are left to the
rules, which keeps the model away from the text that matters most and bounds its cost.

An optional second head names the category of a unit the model takes (a linear one-vs-rest
model over the same features, with the hashed ones folded into ``2**cat_bits`` buckets).

The artifact is one ``.npz`` (a zip of ``.npy`` arrays, read with ``allow_pickle=False``):
``w_hash`` (float16), ``w_dense``, the category head's arrays when it has one, and ``meta``, the
UTF-8 bytes of a JSON object (format tag, feature spec, bias, threshold, categories, training
info). :meth:`LineModel.save` writes the same bytes for the same model.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from pipeline.core.errors import ConfigError

FORMAT = "cleanwire-line-model/1"

F32: TypeAlias = npt.NDArray[np.float32]
F64: TypeAlias = npt.NDArray[np.float64]
U32: TypeAlias = npt.NDArray[np.uint32]
U64: TypeAlias = npt.NDArray[np.uint64]
I64: TypeAlias = npt.NDArray[np.int64]
IntP: TypeAlias = npt.NDArray[np.intp]
Bools: TypeAlias = npt.NDArray[np.bool_]


class ModelError(ConfigError):
    """A boilerplate model file is missing, unreadable or not a model this code can run."""


# --- lookup tables ----------------------------------------------------------------------------------

LUT_SIZE = 0x3000  # Latin ... Indic, general punctuation, arrows, shapes, dingbats; above: no case
_QUOTE1 = "\u2018\u2019\u201a\u201b\u2032\u00b4`\u02bc\u02b9"
_QUOTE2 = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_BULLETS = (
    "\u2022\u00b7\u25aa\u25ab\u25ba\u25b8\u25b6\u25cf\u25cb\u25e6\u2023\u2219\u2043\u25a0\u25a1"
    "\u25c6\u25c7\u2605\u2606\u2713\u2714\u2756"
)
_ARROWS = "\u2192\u2190\u2191\u2193\u21d2\u21d0\u2794\u279c\u27a4\u203a\u2039\u25b7\u276f\u276e"
_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\t"
_INVISIBLE = "\u200b\u200c\u200d\u2060\u00ad"
_MARKERS = (ord("*"), ord("-"), ord(">"))
_MARKER_LUT = np.zeros(LUT_SIZE, dtype=bool)
_MARKER_LUT[list(_MARKERS)] = True


@dataclass(frozen=True)
class _Luts:
    norm: U32  # code -> normalised code (0 = drop)
    word: Bools  # alphanumeric
    cls: npt.NDArray[np.uint8]  # bit flags: 1 alpha, 2 upper, 4 digit, 8 alphanumeric


@lru_cache(maxsize=1)
def luts() -> _Luts:
    """The code-point tables (built once per process, ~10 ms)."""
    chars = [chr(c) for c in range(LUT_SIZE)]
    norm = np.arange(LUT_SIZE, dtype=np.uint32)
    alpha = np.fromiter((c.isalpha() for c in chars), dtype=bool, count=LUT_SIZE)
    upper = np.fromiter((c.isupper() for c in chars), dtype=bool, count=LUT_SIZE)
    digit = np.fromiter((c.isdigit() for c in chars), dtype=bool, count=LUT_SIZE)
    word = np.fromiter((c.isalnum() for c in chars), dtype=bool, count=LUT_SIZE)
    for c in np.flatnonzero(upper):
        lower = chars[c].lower()
        if len(lower) == 1:
            norm[c] = ord(lower)
    norm[digit] = ord("0")
    for group, to in (
        (_QUOTE1, "'"),
        (_QUOTE2, '"'),
        (_DASHES, "-"),
        (_BULLETS, "*"),
        (_ARROWS, ">"),
        (_SPACES, " "),
    ):
        for ch in group:
            norm[ord(ch)] = ord(to)
    for ch in _INVISIBLE:
        norm[ord(ch)] = 0
    cls = (alpha * 1 + upper * 2 + digit * 4 + word * 8).astype(np.uint8)
    return _Luts(norm, word, cls)


_CLS_ABOVE = np.uint8(1 | 8)  # above the table: a letter (CJK, ...), alphanumeric, no case


def _codes(text: str) -> U32:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _lookup_codes(table: U32, codes: U32) -> U32:
    """``table[c]`` for codes below the table, ``c`` itself above it."""
    small = codes < LUT_SIZE
    if small.all():
        return np.asarray(table[codes], dtype=np.uint32)
    out = codes.copy()
    out[small] = table[codes[small]]
    return out


def _lookup_cls(codes: U32) -> npt.NDArray[np.uint8]:
    table = luts().cls
    small = codes < LUT_SIZE
    if small.all():
        return table[codes]
    out = np.full(len(codes), _CLS_ABOVE, dtype=np.uint8)
    out[small] = table[codes[small]]
    return out


def _lookup_bool(table: Bools, codes: U32, above: bool) -> Bools:
    small = codes < LUT_SIZE
    if small.all():
        return table[codes]
    out = np.full(len(codes), above, dtype=bool)
    out[small] = table[codes[small]]
    return out


def _squeeze(c: U32) -> U32:
    """Drop 0s, runs of spaces, spaces next to a line break or at either end."""
    c = c[c != 0]
    if not len(c):
        return c
    sp = c == 32
    nl = c == 10
    prev_sp_or_nl = np.concatenate(([True], sp[:-1] | nl[:-1]))
    next_nl = np.concatenate((nl[1:], [True]))
    kept: U32 = c[~(sp & (prev_sp_or_nl | next_nl))]
    return kept


def normalise(units: Sequence[str]) -> U32:
    """Code points of the normalised units joined by ``\\n`` (one line per unit)."""
    joined = "\n".join(units)
    if "..." in joined:
        joined = joined.replace("...", "\u2026")
    c = _squeeze(_lookup_codes(luts().norm, _codes(joined)))
    # a leading list marker ("- ", "* ", "> ", "** ")
    at_start = np.concatenate(([True], c[:-1] == 10))
    starts = np.flatnonzero(at_start & _MARKER_LUT[np.minimum(c, LUT_SIZE - 1)])
    if len(starts):
        drop = np.zeros(len(c), dtype=bool)
        n = len(c)
        for s in starts.tolist():
            e = s
            while e < n and int(c[e]) in _MARKERS:
                e += 1
            if e < n and c[e] == 32:
                e += 1
            if e < n and c[e] != 10:  # keep a unit that is only markers
                drop[s:e] = True
        c = c[~drop]
    return c


def norm_unit(unit: str) -> str:
    """One unit normalised (for display and tests)."""
    return normalise([unit]).tobytes().decode("utf-32-le")


# --- hashing ---------------------------------------------------------------------------------------

_B = 0x100000001B3
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


@lru_cache(maxsize=4)
def _powers(m: int) -> tuple[U64, U64]:
    with np.errstate(over="ignore"):
        pw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(m - 1, _B, dtype=np.uint64))))
        inverse = pow(_B, -1, 2**64)
        ipw = np.concatenate(([np.uint64(1)], np.cumprod(np.full(m - 1, inverse, dtype=np.uint64))))
    return pw, ipw


def _fmix(h: U64) -> U64:
    h = h ^ (h >> _S33)
    h = h * _M1
    h = h ^ (h >> _S33)
    h = h * _M2
    return h ^ (h >> _S33)


class _Prefix:
    """Rolling-hash prefix sums of a code array: the hash of any slice in O(1), vectorised."""

    def __init__(self, codes: U32) -> None:
        n = len(codes)
        m = 4096
        while m < n + 1:
            m *= 4
        self.pw, ipw = _powers(m)
        s = np.empty(n + 1, dtype=np.uint64)
        s[0] = 0
        with np.errstate(over="ignore"):
            np.cumsum((codes.astype(np.uint64) + np.uint64(1)) * ipw[:n], out=s[1:])
        self.s = s

    def spans(self, a: IntP | I64, b: IntP | I64, salt: U64) -> U64:
        """Hashes of ``codes[a:b]`` (``b > a``), salted per span."""
        with np.errstate(over="ignore"):
            h = self.pw[b - 1] * (self.s[b] - self.s[a])
            return _fmix(h ^ salt)


# --- the feature spec ---------------------------------------------------------------------------------

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
_TOO_LONG = DENSE.index("too_long")


@dataclass(frozen=True)
class FeatureSpec:
    """What the features are; stored in the artifact, so a model runs with its own spec."""

    version: str = "lm-2"
    bits: int = 18
    char_n: tuple[int, ...] = (3, 5)
    word_bigrams: bool = True
    edge_words: bool = True
    whole_line_max_words: int = 6
    max_line_chars: int = 200
    unit: str = "block"
    dense: tuple[str, ...] = DENSE

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(
            version=str(data["version"]),
            bits=int(data["bits"]),
            char_n=tuple(int(k) for k in data["char_n"]),
            word_bigrams=bool(data["word_bigrams"]),
            edge_words=bool(data["edge_words"]),
            whole_line_max_words=int(data["whole_line_max_words"]),
            max_line_chars=int(data["max_line_chars"]),
            unit=str(data["unit"]),
            dense=tuple(str(d) for d in data["dense"]),
        )


_SALT_CHAR = 0x1000
_SALT_WORD = 0x2000
_SALT_BIGRAM = 0x3000
_SALT_FIRST = 0x4000
_SALT_LAST = 0x5000
_SALT_WHOLE = 0x6000
_GROUP_WORD, _GROUP_BIGRAM, _GROUP_EDGE, _GROUP_WHOLE = 10, 11, 12, 13


@dataclass(frozen=True)
class Hashed:
    """Sparse hashed features of a list of units: (unit, column, value) triplets."""

    rows: I64
    cols: IntP
    vals: F32


def hashed_features(units: Sequence[str], spec: FeatureSpec) -> Hashed:
    """Hashed features of each unit. Units longer than ``spec.max_line_chars``, and empty ones,
    get none.

    Each (unit, feature group) is scaled by ``1/sqrt(number of features of that group in the
    unit)``; the first/last-word features weigh 0.5 and the whole-unit feature 1.
    """
    n = len(units)
    if spec.max_line_chars:
        units = [x if len(x) <= spec.max_line_chars else "" for x in units]
    c = normalise(units)
    shift = np.uint64(64 - spec.bits)
    # character n-grams of "\n" + unit + "\n", all orders in one go
    text = np.concatenate(([10], c, [10])).astype(np.uint32)
    pre = _Prefix(text)
    nl = text == 10
    nlc = np.concatenate(([0], np.cumsum(nl)))  # newlines in text[:k]
    size = len(text)
    starts_parts: list[I64] = []
    orders_parts: list[I64] = []
    for k in spec.char_n:
        if size < k:
            continue
        a = np.arange(size - k + 1)
        ok = ~(nl[a] & nl[a + 1]) if k == 2 else (nlc[a + k - 1] - nlc[a + 1]) == 0
        a = a[ok]
        starts_parts.append(a)
        orders_parts.append(np.full(len(a), k, dtype=np.int64))
    a = np.concatenate(starts_parts) if starts_parts else np.zeros(0, dtype=np.int64)
    k_all = np.concatenate(orders_parts) if orders_parts else np.zeros(0, dtype=np.int64)
    rows = nlc[a + 1] - 1
    inside = rows < n
    a, k_all, rows = a[inside], k_all[inside], rows[inside]
    h = pre.spans(a, a + k_all, (_SALT_CHAR + k_all).astype(np.uint64))
    all_rows: list[I64] = [rows]
    all_hashes: list[U64] = [h]
    all_groups: list[I64] = [k_all]  # group ids 2..5 for the char orders
    # words: non-alphanumerics -> space
    w = c.copy()
    is_word = _lookup_bool(luts().word, w, True)
    w[~is_word & (w != 10)] = 32
    w = _squeeze(w)
    words = np.concatenate((w, [10])).astype(np.uint32)
    sep = (words == 32) | (words == 10)
    ends = np.flatnonzero(sep)
    starts = np.concatenate(([0], ends[:-1] + 1))
    is_nl = words[ends] == 10
    unit_of = np.cumsum(is_nl) - is_nl
    good = ends > starts
    starts, ends, unit_of = starts[good], ends[good], unit_of[good]
    if len(starts):
        wpre = _Prefix(words)
        same = unit_of[:-1] == unit_of[1:]
        first = np.concatenate(([True], ~same))
        last = np.concatenate((~same, [True]))
        sa: list[IntP] = [starts]
        sb: list[IntP] = [ends]
        sl: list[I64] = [unit_of]
        salts: list[I64] = [np.full(len(unit_of), _SALT_WORD)]
        groups: list[I64] = [np.full(len(unit_of), _GROUP_WORD)]

        def add(a_: IntP, b_: IntP, rows_: I64, salt: int, group: int) -> None:
            sa.append(a_)
            sb.append(b_)
            sl.append(rows_)
            salts.append(np.full(len(rows_), salt))
            groups.append(np.full(len(rows_), group))

        if spec.word_bigrams and len(starts) > 1:
            add(starts[:-1][same], ends[1:][same], unit_of[:-1][same], _SALT_BIGRAM, _GROUP_BIGRAM)
        if spec.edge_words:
            add(starts[first], ends[first], unit_of[first], _SALT_FIRST, _GROUP_EDGE)
            add(starts[last], ends[last], unit_of[last], _SALT_LAST, _GROUP_EDGE)
        if spec.whole_line_max_words:
            nwords = np.bincount(unit_of, minlength=n)
            fi, li = np.flatnonzero(first), np.flatnonzero(last)
            ok = nwords[unit_of[fi]] <= spec.whole_line_max_words
            add(starts[fi][ok], ends[li][ok], unit_of[fi][ok], _SALT_WHOLE, _GROUP_WHOLE)
        all_rows.append(np.concatenate(sl))
        all_hashes.append(
            wpre.spans(np.concatenate(sa), np.concatenate(sb), np.concatenate(salts).astype(np.uint64))
        )
        all_groups.append(np.concatenate(groups))
    rows = np.concatenate(all_rows)
    hashes = np.concatenate(all_hashes)
    grp = np.concatenate(all_groups)
    key = rows * 16 + grp
    cnt = np.bincount(key, minlength=n * 16).astype(np.float32)
    vals = 1.0 / np.sqrt(cnt[key])
    vals[grp == _GROUP_EDGE] = 0.5
    vals[grp == _GROUP_WHOLE] = 1.0
    return Hashed(rows, (hashes >> shift).astype(np.intp), vals.astype(np.float32))


# --- dense features -----------------------------------------------------------------------------------


def _table(chars: str) -> Bools:
    """A membership table for ``chars`` (all below LUT_SIZE)."""
    m = np.zeros(LUT_SIZE, dtype=bool)
    m[[ord(x) for x in chars]] = True
    return m


def _isin(c: U32, table: Bools) -> Bools:
    return _lookup_bool(table, c, False)


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


#: The dense features that look at a unit's own characters only (:func:`_local_features`); the
#: others look at its position, length, last character or neighbours.
LOCAL: tuple[str, ...] = (
    "log_words",
    "cap_share",
    "all_caps",
    "starts_upper",
    "title_case_share",
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
)


def _spans(units: Sequence[str]) -> tuple[str, U32, I64, I64, I64]:
    """The units joined by ``\\n``, its code points, and each unit's length, start and end."""
    joined = "\n".join(units)
    lens = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
    starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1]))
    return joined, _codes(joined), lens, starts, starts + lens


def _local_features(units: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    """The :data:`LOCAL` features of ``units``: each row depends on its unit's characters alone
    (every pattern stops at the ``\\n`` between two units), so a unit gets the same values in any
    list of units."""
    n = len(units)
    joined, c, lens, starts, ends = _spans(units)
    nl = c == 10
    lid = np.cumsum(nl)  # a "\n" is counted with the next unit; masks below exclude it

    def count(mask: Bools) -> I64:
        return np.bincount(lid[mask], minlength=n)

    def anyof(mask: Bools) -> Bools:
        return count(mask) > 0

    def units_of(pos: list[int]) -> Bools:
        found = np.zeros(n, dtype=bool)
        if pos:
            found[np.searchsorted(starts, pos, side="right") - 1] = True
        return found

    cls = _lookup_cls(c)
    alpha = (cls & 1).astype(bool)
    upper = (cls & 2).astype(bool)
    digit = (cls & 4).astype(bool)
    word = (cls & 8).astype(bool)
    space = c == 32
    n_alpha = count(alpha)
    n_upper = count(upper)
    n_digit = count(digit)
    n_punct = count(~word & ~space & ~nl)
    brk = np.concatenate(([True], space[:-1] | nl[:-1]))
    wstart = ~space & ~nl & brk
    n_words = count(wstart)
    n_title = count(wstart & upper)
    first_c = c[starts]
    last_c = c[ends - 1]
    pos_in_unit = np.arange(len(c)) - starts[np.minimum(lid, n - 1)]
    colon_early = anyof((c == 58) & (pos_in_unit < 30))
    # digit shapes
    d1, d2, d3 = _shift(digit, 1, False), _shift(digit, 2, False), _shift(digit, 3, False)
    d4 = _shift(digit, 4, False)
    dm1 = _shift(digit, -1, False)
    c1 = _shift(c, 1, 0)
    has_time = anyof(digit & ~dm1 & _isin(c1, _TIME_SEP) & d2 & d3 & ~d4) | anyof(
        digit & ~dm1 & d1 & _isin(_shift(c, 2, 0), _TIME_SEP) & d3 & d4 & ~_shift(digit, 5, False)
    )
    year = ~dm1 & (((c == 49) & (c1 == 57)) | ((c == 50) & (c1 == 48))) & d2 & d3 & ~d4
    has_year = anyof(year)
    has_date = count(digit & _isin(c1, _DATE_SEP) & d2) >= 2
    # sentences, tags
    nxt = _shift(c, 1, 10)
    n_sent = count(_isin(c, _SENT_END) & ((nxt == 32) | (nxt == 10)))
    last_open = np.full(n, -1, dtype=np.int64)
    opening = np.flatnonzero((c == 91) | (c == 40))
    if len(opening):
        np.maximum.at(last_open, lid[opening], opening)
    ends_tag = _isin(last_c, _CLOSERS) & (last_open >= 0) & ((ends - last_open) <= 27)
    has_tag = anyof(c == 91) & anyof(c == 93)
    low = joined.lower()
    has_url = units_of([p for nd in _URL_NEEDLES for p in _find_all(low, nd)])
    has_email = np.zeros(n, dtype=bool)
    has_handle = np.zeros(n, dtype=bool)
    if "@" in joined:
        at = c == 64
        has_email = anyof(at & _shift(word, -1, False) & _shift(word, 1, False))
        has_handle = anyof(at & brk & _shift(word, 1, False))
    if "#" in joined:
        has_handle |= anyof((c == 35) & brk & _shift(word, 1, False))
    has_copy = units_of([p for nd in _COPY_NEEDLES for p in _find_all(low, nd)])
    ellipsis = (last_c == 0x2026) | (
        (last_c == 46) & (c[np.maximum(ends - 2, 0)] == 46) & (c[np.maximum(ends - 3, 0)] == 46)
    )
    return {
        "log_words": np.log1p(n_words) / 4,
        "cap_share": n_upper / np.maximum(n_alpha, 1),
        "all_caps": (n_alpha >= 3) & (n_upper == n_alpha),
        "starts_upper": (_lookup_cls(first_c) & 2).astype(bool),
        "title_case_share": n_title / np.maximum(n_words, 1),
        "ends_ellipsis": ellipsis,
        "ends_bracket_tag": ends_tag,
        "has_pipe": anyof(c == 124),
        "has_bracket_tag": has_tag,
        "colon_early": colon_early,
        "digit_share": n_digit / np.maximum(lens, 1),
        "has_time": has_time,
        "has_year": has_year,
        "has_date_num": has_date,
        "has_url": has_url,
        "has_email": has_email,
        "has_handle": has_handle,
        "has_copyright": has_copy,
        "n_sentences": np.minimum(n_sent, 5) / 5,
        "punct_share": n_punct / np.maximum(lens, 1),
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

    ``need``: the rows wanted (default all). The others get 0 for the :data:`LOCAL` features,
    whose cost grows with the characters of the units they look at; the rows wanted are the same.
    """
    n = len(units)
    out = np.zeros((n, len(DENSE)), dtype=np.float32)
    if n == 0:
        return out
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
    keys = list(zip(doc.tolist(), units, strict=True))
    seen = Counter(keys)
    dup = np.fromiter((seen[k] > 1 for k in keys), dtype=bool, count=n)
    short = lens < 40
    log_len = np.log1p(lens) / 6
    near_short = np.zeros(n, dtype=np.float32)
    for k in (-2, -1, 0, 1, 2):
        same_doc = _shift(doc, k, -1) == doc
        near_short += np.where(same_doc, _shift(short, k, True), True)
    near_short /= 5
    html = np.asarray(is_html, dtype=bool)[doc]
    columns: dict[str, npt.NDArray[Any]] = {
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
        "dup_in_doc": dup,
        "log_lines_doc": np.log1p(size) / 5,
        "share_short_near": near_short,
        "too_long": lens > max_line_chars,
    }
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


# --- the model ------------------------------------------------------------------------------------------


def sigmoid(z: npt.NDArray[np.floating[Any]]) -> F64:
    # clipped: a model fitted on a few documents has scores beyond exp's range (an overflow warning);
    # within +-700 the value is unchanged, beyond it the probability is 0 or 1 either way
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0))), dtype=np.float64)


@dataclass(frozen=True)
class CategoryHead:
    """One-vs-rest linear scores per category over the hashed features folded into
    ``2**bits`` buckets, plus the dense features; the category is the best-scoring one."""

    categories: tuple[str, ...]
    bits: int
    w_hash: F32  # (len(categories), 2**bits)
    w_dense: F32  # (len(categories), len(DENSE))
    bias: F32  # (len(categories),)


@dataclass(frozen=True)
class Batch:
    """The units of several documents as one array problem: ``units`` in document order, ``doc``
    the document of each, ``html`` one flag per document, ``scored`` the units to score (the
    others get probability 0 and cost no hashing)."""

    units: list[str]
    doc: I64
    html: list[bool]
    scored: Bools
    sizes: list[int]

    @classmethod
    def of(cls, docs: Sequence[tuple[Sequence[str], bool]], scored: Sequence[Bools] | None = None) -> Batch:
        sizes = [len(u) for u, _ in docs]
        units = [x for u, _ in docs for x in u]
        mask = np.concatenate(scored) if scored is not None and docs else np.ones(len(units), dtype=bool)
        return cls(
            units,
            np.repeat(np.arange(len(docs)), sizes).astype(np.int64),
            [html for _, html in docs],
            mask.astype(bool),
            sizes,
        )

    def split(self, values: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
        return list(np.split(values, np.cumsum(self.sizes)[:-1])) if self.sizes else []


@dataclass(frozen=True)
class LineModel:
    """A linear model over :func:`hashed_features` + :func:`dense_features` of each unit."""

    spec: FeatureSpec
    w_hash: F32  # (2**bits,)
    w_dense: F32  # (len(DENSE),)
    bias: float
    threshold: float = 0.85
    info: dict[str, Any] = field(default_factory=dict)
    category_head: CategoryHead | None = None

    @property
    def version(self) -> str:
        return self.spec.version

    def features(self, batch: Batch) -> tuple[Hashed, F32]:
        texts = [u if keep else "" for u, keep in zip(batch.units, batch.scored.tolist(), strict=True)]
        hashed = hashed_features(texts, self.spec)
        dense = dense_features(batch.units, batch.html, batch.doc, self.spec.max_line_chars, batch.scored)
        return hashed, dense

    def probabilities(self, batch: Batch, hashed: Hashed, dense: F32) -> F64:
        n = len(batch.units)
        weights = self.w_hash[hashed.cols] * hashed.vals
        z = np.asarray(np.bincount(hashed.rows, weights=weights, minlength=n), dtype=np.float64)
        # row by row (not a matrix product, whose rounding depends on the batch's shape): a
        # document scores the same alone and in any batch
        z += (dense.astype(np.float64) * self.w_dense.astype(np.float64)).sum(axis=1) + self.bias
        p = sigmoid(z)
        p[(dense[:, _TOO_LONG] > 0) | ~batch.scored] = 0.0
        return p

    def scores_many(
        self, docs: Sequence[tuple[Sequence[str], bool]], scored: Sequence[Bools] | None = None
    ) -> list[F64]:
        """P(boilerplate) of every unit of several documents in one vectorised pass.

        ``docs``: ``(unit texts, is_html)`` per document, units in text order. ``scored``: per
        document, which units to score (default all); the others, and units longer than
        ``spec.max_line_chars``, get 0. Batching only saves numpy's fixed cost per call: every
        document gets exactly the scores it gets on its own.
        """
        batch = Batch.of(docs, scored)
        if not batch.units:
            return [np.zeros(0) for _ in docs]
        hashed, dense = self.features(batch)
        return batch.split(self.probabilities(batch, hashed, dense))

    def scores(self, units: Sequence[str], is_html: bool = False) -> F64:
        """P(boilerplate) per unit of one document."""
        return self.scores_many([(units, is_html)])[0]

    def categories_of(self, batch: Batch, hashed: Hashed, dense: F32, rows: IntP) -> list[str]:
        """The category head's answer for the units ``rows`` of ``batch`` ("model" without a head)."""
        head = self.category_head
        if head is None or not len(rows):
            return ["model"] * len(rows)
        # rows is sorted and unique: a lookup table by unit index (no sort of every feature's row)
        slot = np.full(len(batch.units), -1, dtype=np.int64)
        slot[rows] = np.arange(len(rows))
        where_all = slot[hashed.rows]
        pick = where_all >= 0
        where = where_all[pick]
        cols = hashed.cols[pick] >> (self.spec.bits - head.bits)
        vals = hashed.vals[pick]
        picked = dense[rows].astype(np.float64)
        z = (picked[:, None, :] * head.w_dense.astype(np.float64)[None, :, :]).sum(axis=2) + head.bias
        for k in range(len(head.categories)):
            z[:, k] += np.bincount(where, weights=head.w_hash[k, cols] * vals, minlength=len(rows))
        return [head.categories[j] for j in np.argmax(z, axis=1).tolist()]

    # --- the artifact -------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "spec": self.spec.to_json(),
            "bias": self.bias,
            "threshold": self.threshold,
            "info": self.info,
        }
        if self.category_head is not None:
            data["categories"] = list(self.category_head.categories)
            data["category_bits"] = self.category_head.bits
        return data

    def save(self, path: str | Path) -> None:
        """Write the artifact: the same model gives the same bytes (fixed entry order and dates)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(self.meta(), sort_keys=True).encode("utf-8"), dtype=np.uint8),
            "w_hash": self.w_hash.astype(np.float16),
            "w_dense": self.w_dense.astype(np.float32),
        }
        head = self.category_head
        if head is not None:
            arrays["cat_w_hash"] = head.w_hash.astype(np.float16)
            arrays["cat_w_dense"] = head.w_dense.astype(np.float32)
            arrays["cat_bias"] = head.bias.astype(np.float32)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, array in arrays.items():
                entry = io.BytesIO()
                np.lib.format.write_array(entry, array, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, entry.getvalue())
        Path(path).write_bytes(buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> LineModel:
        """Read an artifact (``allow_pickle=False``); :class:`ModelError` when it is not one this
        code can run."""
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
        except FileNotFoundError as exc:
            raise ModelError(f"boilerplate model not found: {path}") from exc
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ModelError(f"{path} is not a boilerplate model (.npz): {exc}") from exc
        try:
            meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
            spec = FeatureSpec.from_json(meta["spec"])
            w_hash = arrays["w_hash"].astype(np.float32)
            w_dense = arrays["w_dense"].astype(np.float32)
            if spec.dense != DENSE or w_hash.shape != (1 << spec.bits,) or w_dense.shape != (len(DENSE),):
                raise ValueError(f"features of {spec.version} do not match this code's feature set")
            head = None
            if "categories" in meta:
                categories = tuple(str(c) for c in meta["categories"])
                bits = int(meta["category_bits"])
                head = CategoryHead(
                    categories,
                    bits,
                    arrays["cat_w_hash"].astype(np.float32),
                    arrays["cat_w_dense"].astype(np.float32),
                    arrays["cat_bias"].astype(np.float32),
                )
                k = len(categories)
                if head.w_hash.shape != (k, 1 << bits) or head.w_dense.shape != (k, len(DENSE)):
                    raise ValueError("the category head's arrays do not match its categories")
            return cls(
                spec,
                w_hash,
                w_dense,
                float(meta["bias"]),
                float(meta["threshold"]),
                dict(meta.get("info") or {}),
                head,
            )
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"{path} is not a boilerplate model this version can run: {exc}") from exc
