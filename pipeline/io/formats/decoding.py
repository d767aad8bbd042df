"""Bytes to text, never crashing: BOM, then the declared charset, then UTF-8, then detection.

The declared charset comes from the HTTP ``Content-Type`` header (WARC) or from the document
itself (``<meta charset>``, ``<meta http-equiv>``, ``<?xml encoding>``). A label is read as
browsers read it (the WHATWG Encoding Standard, :data:`_WEB_SUPERSETS`): a declared
``iso-8859-1``/``ascii`` as ``cp1252``, ``shift_jis`` as ``cp932``, ``gb2312`` as ``gb18030``,
``euc-kr`` as ``cp949``, ``iso-8859-9`` as ``cp1254``, ``tis-620`` as ``cp874``. A declared single-byte charset is
overruled when the bytes are valid UTF-8 with non-ASCII characters: mislabelled UTF-8 pages are
common, while legacy text that happens to be valid multi-byte UTF-8 is vanishingly rare.

Undeclared legacy bytes: among what charset-normalizer proposes (the single-byte code pages
browsers know, the WHATWG Encoding Standard's, and multi-byte codecs) and :data:`COMMON_LEGACY`,
the reading whose character n-grams look most like some language wins
(:func:`plausibility`, langdetect's profiles); ``cp1252``, the web's default, wins a tie.
charset-normalizer alone cannot tell short French from ``cp1250`` (è read as č) nor short Czech
or Turkish from ``cp1252`` (ř read as ø, ş as þ).

BOM-less UTF-16 is read so when its bytes are mostly C0 controls (:func:`bomless_utf16`: Latin,
Cyrillic, Greek text), or, bytes that are not UTF-8 or are UTF-8 with C0 controls, when one byte
order reads a sample of them as text that looks more like a language than any reading of theirs
as text in another codec (:func:`wide_text`: CJK, Hangul, Indic scripts).

The result records which codec was used (Python's canonical name, e.g. ``utf-8``, ``cp1252``)
and how it was chosen, so the output can say per record how its bytes were read.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pipeline.core.langprofiles import extract_ngrams, profiles

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([\w:.-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: WHATWG: these labels mean windows-1252 on the web.
_AS_CP1252 = {"latin-1", "iso8859-1", "ascii"}
#: WHATWG: the encodings browsers read these (Python canonical) codecs' labels as, supersets that
#: read some bytes differently: Python's ``shift_jis`` reads ``81 60`` as U+301C where browsers
#: (Windows-31J) read U+FF5E, ``81 7C`` as U+2212 for U+FF0D, and fails on NEC's ``87 40`` (①);
#: ``gb2312`` reads ``A1 AA`` as U+2015 for the em dash; ``iso8859-9`` and ``tis-620`` read
#: ``0x80-0x9F`` as C1 controls where windows-1254/874 have curly quotes and the euro sign. A page
#: written into JSONL, CSV or Parquet by a scraper that decoded it as a browser does must read the
#: same from its bytes (a file, a tar member, a WARC record).
_WEB_SUPERSETS = {
    **dict.fromkeys(_AS_CP1252, "cp1252"),
    "shift_jis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
}
#: WHATWG labels Python's codec registry does not know, by their codec.
_WEB_LABELS = {
    **dict.fromkeys(("windows-31j", "x-sjis"), "cp932"),
    **dict.fromkeys(("x-gbk", "csgb2312", "iso-ir-58"), "gb18030"),
    **dict.fromkeys(("windows-949",), "cp949"),
    **dict.fromkeys(("windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(("iso-8859-8-i", "csiso88598i", "logical"), "iso8859-8"),
    **dict.fromkeys(("x-mac-roman",), "mac-roman"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac-cyrillic"),
    **dict.fromkeys(("koi8-ru",), "koi8-u"),
}
#: The single-byte encodings of the WHATWG Encoding Standard (what browsers decode), by Python's
#: canonical names: the readings a detection chooses from (not DOS or HP code pages).
WEB_SINGLE_BYTE = frozenset(
    {f"cp{n}" for n in (866, 874, *range(1250, 1259))}
    | {f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)}
    | {"koi8-r", "koi8-u", "mac-roman", "mac-cyrillic"}
)
#: Read and compared always, whatever charset-normalizer proposes: the legacy code pages most
#: text on the web was written in (it misses KOI8-R and ISO-8859-15 on short text).
COMMON_LEGACY = ("cp1250", "cp1251", "koi8-r", "cp1253", "cp1254", "cp1257", "iso8859-15")
#: Read when charset-normalizer proposes nothing at all, which it does for short or repetitive
#: CJK text (a one-sentence Shift_JIS file): the multi-byte legacy codecs whose strict reading of
#: the whole input, without control characters, is text, not binary data. Korean (``cp949``) is
#: left out: its reading of Shift_JIS bytes scores as plausible as Japanese.
CJK_LEGACY = ("cp932", "euc_jp", "gb18030", "big5")
#: C0 control characters no text holds (tab, line feed, form feed, carriage return aside).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DETECT_BYTES = 200_000
_SNIFF_BYTES = 4096
#: How far into a document a ``<meta charset>`` is looked for: the whole ``<head>`` (to the first
#: ``</head>`` or ``<body``), up to this many bytes (heads of 10-30 KB of scripts and styles are
#: common; browsers look at 1,024 bytes only, then re-parse when they meet a later declaration).
HEAD_CAP = 1 << 16
_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.I)
#: How many bytes of the input :func:`plausibility` reads in each candidate code page: taken
#: where the bytes that are not ASCII are (:func:`non_ascii_sample`), since ASCII reads alike in
#: every candidate and a page's first kilobytes are often all ASCII markup.
_PLAUSIBILITY_BYTES = 1000
#: ASCII context kept on each side of a run of non-ASCII bytes in the sample.
_SAMPLE_CONTEXT = 24
_NON_ASCII_RUN = re.compile(rb"[\x80-\xff]+")
#: UTF-8 with a few bytes that are not (a byte flipped, a character cut where the page was pasted
#: together, a CESU-8 surrogate) is still UTF-8: read so, each bad sequence one U+FFFD, when its
#: well-formed non-ASCII characters are at least this many times its runs of bad bytes. Legacy text has
#: almost none of the former (in ``cp1252`` an accent is a lone high byte) and GBK or Shift_JIS
#: text about one in ten, so this ratio never takes them for UTF-8; without it, one stray byte
#: sent a UTF-8 page to detection, which read all its accents as another code page.
MOSTLY_UTF8_RATIO = 4
#: BOM-less UTF-16 under a transport label: at least one in this many of its high bytes is NUL
#: (markup and Latin text put one in nearly every one).
_UTF16_NUL_SHARE = 4
#: BOM-less UTF-16 read byte by byte is mostly C0 controls: NUL, the high byte of every ASCII
#: character, and 0x04 of every Cyrillic one (0x03 Greek, 0x05 Hebrew, 0x06 Arabic ...). Text in
#: any 8-bit encoding has hardly any: at least this share of the bytes calls for a UTF-16 reading.
_UTF16_CONTROL_SHARE = 0.2
_C0_BYTES = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20)])
#: How many bytes of undeclared bytes that are neither UTF-8 nor a control-heavy UTF-16
#: (:func:`wide_text`: CJK, Indic) are read as UTF-16 to judge them, and of those how many are
#: scored against the 8-bit readings of the same bytes.
_WIDE_SAMPLE = 4096
_WIDE_SCORED = 2 * _PLAUSIBILITY_BYTES
#: Legacy multi-byte codecs whose strict reading of NUL-free bytes keeps them from being taken for
#: UTF-16: a UTF-16 reading cannot be weighed against theirs (GB2312's common hanzi, lead bytes
#: B0-D7, read as UTF-16 are Hangul syllables, which langdetect finds more Korean than the hanzi
#: Chinese). ``gb18030`` reads GBK and GB2312, ``cp932`` Shift_JIS.
_WIDE_RIVALS = (*CJK_LEGACY, "cp949")
#: Legacy text may hold a stray C0 control (a DOS file's closing Ctrl-Z, a terminal escape): two,
#: and one more in every this many characters, still leave a legacy reading text. Never a NUL,
#: which UTF-16 puts beside every ASCII character; its NUL-free bytes (CJK) read byte by byte hold
#: a control in about one in twenty (code units whose low byte is below 0x20).
_STRAY_CONTROLS = 64
#: Unicode categories no text is written in: unassigned code points, private use, surrogates.
_NOT_TEXT = frozenset({"Cn", "Co", "Cs"})
_REPLACEMENT = "\ufffd"
_REPLACEMENT_RUN = re.compile(_REPLACEMENT + "+")


class Undecodable(ValueError):
    """Bytes that no candidate encoding turns into plausible text (binary data)."""


class How(StrEnum):
    BOM = "bom"
    DECLARED = "declared"
    UTF8 = "utf-8"
    DETECTED = "detected"


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    how: How


def canonical_codec(label: str | None) -> str | None:
    """Python's canonical name of the codec a charset label means on the web (WHATWG:
    :data:`_WEB_SUPERSETS`, :data:`_WEB_LABELS`), or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'")
    if (web := _WEB_LABELS.get(label.lower())) is not None:
        return web
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    return _WEB_SUPERSETS.get(name, name)


def charset_from_header(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a ``Content-Type`` header value."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def charset_from_markup(data: bytes) -> str | None:
    """The charset an HTML/XML document declares: ``<?xml encoding>`` at its start, or the first
    ``<meta charset>``/``<meta http-equiv>`` in its head: the first 4 KiB, or further up to the end
    of the ``<head>`` (``</head>`` or ``<body``) within :data:`HEAD_CAP` bytes."""
    head = data[:_SNIFF_BYTES]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    if m is None and len(data) > _SNIFF_BYTES:
        capped = data[:HEAD_CAP]
        end = _HEAD_END.search(capped)
        m = _META_CHARSET.search(capped, 0, end.start() if end else len(capped))
    return m.group(1).decode("ascii", "replace") if m else None


def non_ascii_sample(data: bytes, size: int = _PLAUSIBILITY_BYTES) -> bytes:
    """About ``size`` bytes of ``data`` that tell code pages apart: the runs of non-ASCII bytes
    with a little ASCII context each (words around them), joined by spaces, from the first such
    run on. ``data`` itself (its first ``size`` bytes) when it is ASCII."""
    pieces: list[bytes] = []
    total = 0
    end = 0
    for m in _NON_ASCII_RUN.finditer(data, 0, _DETECT_BYTES):
        start = max(m.start() - _SAMPLE_CONTEXT, end)
        if pieces and start > end:
            pieces.append(b" ")  # a gap: the pieces are not one text
        end = min(m.end() + _SAMPLE_CONTEXT, len(data))
        pieces.append(data[start:end])
        total += end - start
        if total >= size:
            break
    return b"".join(pieces) if pieces else data[:size]


def _is_single_byte(codec: str) -> bool:
    return codecs.lookup(codec).name not in {"utf-8", "utf-16", "utf-32"} and not codec.startswith(
        ("utf-16", "utf-32", "shift_jis", "euc", "gb", "big5", "cp932", "cp949", "cp950", "iso2022", "hz")
    )


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def mostly_utf8(data: bytes) -> str | None:
    """``data`` read as UTF-8 with U+FFFD for its bad sequences, when it is UTF-8 but for a few of
    them (:data:`MOSTLY_UTF8_RATIO`); None otherwise."""
    text = data.decode("utf-8", errors="replace")
    bad = len(_REPLACEMENT_RUN.findall(text))  # a cut or CESU-8 character is one run
    good = len(text) - len(text.encode("ascii", errors="ignore")) - text.count(_REPLACEMENT)
    return text if good >= MOSTLY_UTF8_RATIO * max(bad, 1) else None


def utf16_by_transport(data: bytes, codec: str) -> Decoded | None:
    """BOM-less ``data`` a transport header (HTTP ``Content-Type``) calls UTF-16, read so when its
    bytes are UTF-16: WHATWG honours that label from the transport layer (``utf-16`` is little
    endian), only a page's own declaration of it is ignored. None when the bytes are not UTF-16
    (their ASCII characters would put a NUL in every other byte)."""
    order = "utf-16-be" if codec == "utf-16-be" else "utf-16-le"
    high = data[0::2] if order == "utf-16-be" else data[1::2]
    if len(data) % 2 or high.count(0) < len(high) // _UTF16_NUL_SHARE:
        return None
    text = _try(data, order)
    return None if text is None else Decoded(text, order, How.DECLARED)


def bomless_utf16(data: bytes) -> Decoded | None:
    """``data`` as UTF-16 without a BOM (a text file some Windows tools save so), when its bytes
    are mostly C0 controls (:data:`_UTF16_CONTROL_SHARE`), in the byte order whose reading of it
    all is text (no control characters) most like a language; None when neither is. Read as
    UTF-8, its Latin text came out right once the NULs were dropped, its Cyrillic or Greek as
    ASCII garbage."""
    if b"\x00" not in data[:_SNIFF_BYTES]:
        return None  # UTF-16 puts a NUL beside every space, digit and line break
    head = data[:_DETECT_BYTES]
    controls = len(head) - len(head.translate(None, _C0_BYTES))
    if len(data) % 2 or controls < _UTF16_CONTROL_SHARE * len(head):
        return None
    readings = {
        codec: text for codec in ("utf-16-le", "utf-16-be") if (text := _try(data, codec)) is not None
    }
    scores = {
        codec: plausibility(text[:_PLAUSIBILITY_BYTES])
        for codec, text in readings.items()
        if not _CONTROL.search(text)
    }
    best = max(scores, key=scores.__getitem__, default=None)  # the wrong order reads as CJK
    return None if best is None or scores[best] <= 0 else Decoded(readings[best], best, How.DETECTED)


def wide_text(data: bytes, utf8: str | None = None) -> Decoded | None:
    """``data`` as BOM-less UTF-16 whose bytes are not mostly C0 controls (:func:`bomless_utf16`
    takes those): text in scripts whose code units have two non-zero bytes (CJK, Hangul), or a
    high byte that is a tab or line break (Devanagari ``09``, Gurmukhi ``0A``, Telugu ``0C``).
    Judged on a bounded sample: one byte order must read every code unit as text
    (:func:`_utf16_text`: no unpaired surrogate, C0 control, unassigned or private-use code
    point), and that reading must look more like a language (:func:`plausibility`) than the
    other order's, than every reading of the same bytes as text in an 8-bit code page and than
    ``utf8``, their reading as UTF-8 when they are valid UTF-8 (with C0 controls: ASCII text read
    as UTF-16 is CJK, plausible enough when the control characters rule out every 8-bit rival).
    Bytes that one of :data:`_WIDE_RIVALS` reads as text are left to detection: its reading
    cannot be weighed against UTF-16's. A NUL byte (UTF-16 puts one beside every space, digit
    and line break) is a control in every legacy reading, so a UTF-16 text with any ASCII in it
    has no rival. None when the bytes are not so read."""
    if len(data) % 2:
        return None
    sample = data[:_WIDE_SAMPLE]
    if any(_reads_as_text(sample, codec) for codec in _WIDE_RIVALS):
        return None
    readings = {order: text for order in ("utf-16-le", "utf-16-be") if (text := _utf16_text(sample, order))}
    if not readings:
        return None
    scored = data[:_WIDE_SCORED]
    scores = {order: plausibility(text[: len(scored) // 2]) for order, text in readings.items()}
    best = max(scores, key=scores.__getitem__)
    rivals = {scored.decode(codec) for codec in WEB_SINGLE_BYTE if _reads_as_text(scored, codec)}
    if utf8 is not None:
        rivals.add(utf8[: len(scored)])
    if scores[best] <= max([0.0, *map(plausibility, rivals)]):
        return None
    text = _try(data, best)
    return Decoded(data.decode(best, errors="replace") if text is None else text, best, How.DETECTED)


def _utf16_text(sample: bytes, order: str) -> str | None:
    """``sample``, the head of a BOM-less input, read as UTF-16 in byte ``order`` when every code
    unit of it is text; a surrogate pair the sample's end cuts is dropped."""
    text = _try(sample, order)
    if text is None and len(sample) >= 2:
        text = _try(sample[:-2], order)  # the first half of a surrogate pair at the cut
    if not text or _CONTROL.search(text) or any(unicodedata.category(c) in _NOT_TEXT for c in text):
        return None
    return text


def _reads_as_text(sample: bytes, codec: str) -> bool:
    """Whether ``codec`` reads ``sample``, the head of an input, strictly (a character the
    sample's end cuts is not counted against it), without a NUL and with hardly any other C0
    control (:data:`_STRAY_CONTROLS`)."""
    try:
        text = codecs.getincrementaldecoder(codec)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return "\x00" not in text and len(_CONTROL.findall(text)) <= 2 + len(text) // _STRAY_CONTROLS


def decode(data: bytes, *, declared: str | None = None, transport: bool = False) -> Decoded:
    """Decode ``data``; raises :class:`Undecodable` only for binary data (NUL-heavy, undetectable).
    ``transport``: ``declared`` comes from a transport header, not from the document itself."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(bom_codec, errors="replace"), bom_codec, How.BOM)
    codec = canonical_codec(declared)
    utf16 = codec in {"utf-16", "utf-16-le", "utf-16-be"}
    if transport and utf16 and (by_transport := utf16_by_transport(data, str(codec))) is not None:
        return by_transport
    if (wide := bomless_utf16(data)) is not None:
        return wide
    if codec in {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}:
        codec = None  # a BOM-less page that can declare itself in ASCII is not UTF-16 (WHATWG)
    utf8 = _try(data, "utf-8")
    if utf8 is None and (codec in {None, "utf-8"} or _is_single_byte(str(codec))):
        utf8 = mostly_utf8(data)
    if codec is not None and codec != "utf-8":
        if utf8 is not None and not utf8.isascii() and _is_single_byte(codec):
            return Decoded(utf8, "utf-8", How.UTF8)
        text = _try(data, codec)
        if text is None and codec == "cp1252":
            text = data.decode("latin-1")  # the 5 bytes cp1252 leaves undefined
        if text is not None:
            return Decoded(text, codec, How.DECLARED)
    if utf8 is not None and _CONTROL.search(utf8, 0, _WIDE_SAMPLE) and (wide := wide_text(data, utf8)):
        return wide  # UTF-16 of Devanagari, Thai, Cyrillic ... can be all bytes below 0x80
    if utf8 is not None:
        return Decoded(utf8, "utf-8", How.DECLARED if codec == "utf-8" else How.UTF8)
    if (wide := wide_text(data)) is not None:
        return wide
    if data.count(b"\x00") > len(data) // 100:
        raise Undecodable("binary data (NUL bytes)")
    from charset_normalizer import from_bytes

    results = from_bytes(data[:_DETECT_BYTES])
    best = results.best()
    if best is None or best.encoding is None:
        return undetected_multibyte(data)
    found = canonical_codec(best.encoding) or best.encoding
    # what charset-normalizer proposes: web code pages and multi-byte (CJK) codecs, not DOS's
    proposed = [c for r in results if (c := canonical_codec(r.encoding)) and _comparable(c)]
    # a multi-byte proposal may be a sibling's (EUC-JP bytes proposed as GB18030): read them all
    multibyte = CJK_LEGACY if any(not _is_single_byte(c) for c in proposed) else ()
    candidates = list(dict.fromkeys(("cp1252", *proposed, *multibyte, *COMMON_LEGACY)))
    # most plausible first; sorted() is stable, so a tie keeps the order above (cp1252 first)
    for codec in sorted(candidates, key=_scorer(non_ascii_sample(data))):
        if (text := _try(data, codec)) is not None:
            return Decoded(text, codec, How.DETECTED)
    return Decoded(data.decode(found, errors="replace"), found, How.DETECTED)


def undetected_multibyte(data: bytes) -> Decoded:
    """``data`` charset-normalizer found no reading for, in the most plausible of
    :data:`CJK_LEGACY` that reads all of it as text; raises :class:`Undecodable` when none does
    (binary data: random bytes are never valid Shift_JIS, EUC-JP, GB18030 or Big5 for long)."""
    score = _scorer(non_ascii_sample(data))
    for codec in sorted(CJK_LEGACY, key=score):
        text = _try(data, codec)
        if text is not None and score(codec) < 0 and not _CONTROL.search(text):
            return Decoded(text, codec, How.DETECTED)
    raise Undecodable("no text encoding fits these bytes")


def _comparable(codec: str) -> bool:
    """A codec worth a reading: a web code page, or a multi-byte one other than UTF-16/32 (which
    a page without a BOM is not, WHATWG)."""
    return codec in WEB_SINGLE_BYTE or not (_is_single_byte(codec) or codec.startswith("utf"))


def _scorer(head: bytes) -> Callable[[str], float]:
    """A sort key for code pages: minus the :func:`plausibility` of ``head`` read in each (code
    pages that read it alike are scored once)."""
    seen: dict[str, float] = {}

    def key(codec: str) -> float:
        try:
            text = head.decode(codec, errors="ignore")
        except LookupError:
            return 0.0
        if text not in seen:
            seen[text] = plausibility(text)
        return -seen[text]

    return key


def plausibility(text: str) -> float:
    """How much ``text`` looks like a language: over its known character 1-3-grams (langdetect's
    profiles, :mod:`pipeline.core.langprofiles`), the best language's summed log-likelihood above a
    floor, per character. A wrong code page turns letters into ones no language puts there, and
    their n-grams drop out. Per character, so that a multi-byte reading (half as many characters
    for the same bytes) is not outscored by a single-byte one made of twice as many random
    letters; single-byte readings of the same bytes have the same length, so among them it is
    the sum that counts."""
    import numpy as np

    grams = extract_ngrams(text, profiles().ids)
    if not grams:
        return 0.0
    ids, counts = np.unique(np.asarray(grams), return_counts=True)
    return float((_log_table()[ids] * counts[:, None]).sum(axis=0).max()) / len(text)


@lru_cache(maxsize=1)
def _log_table() -> Any:
    """log p(n-gram | language) over the floor p = 1e-7, never below 0 (an n-gram a language
    hardly uses counts nothing for it, rather than against it)."""
    import numpy as np

    return np.maximum(np.log(np.maximum(profiles().table, 1e-12)) - np.log(1e-7), 0.0)
