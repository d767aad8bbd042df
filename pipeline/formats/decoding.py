"""Bytes to text, never crashing: BOM, then the declared charset, then UTF-8, then detection.

The declared charset comes from the HTTP ``Content-Type`` header (WARC) or from the document
itself (``<meta charset>``, ``<meta http-equiv>``, ``<?xml encoding>``). Like browsers, a
declared ``iso-8859-1``/``ascii`` is read as ``cp1252``. A declared single-byte charset is
overruled when the bytes are valid UTF-8 with non-ASCII characters: mislabelled UTF-8 pages are
common, while legacy text that happens to be valid multi-byte UTF-8 is vanishingly rare.

The result records which codec was used (Python's canonical name, e.g. ``utf-8``, ``cp1252``)
and how it was chosen, so the output can say per record how its bytes were read.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
_DETECT_BYTES = 200_000
_SNIFF_BYTES = 4096
_TIE_CHAOS = 0.1
_TIE_COHERENCE = 0.1
_WESTERN = frozenset(
    "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿŒœŠšŽžŸ\u00a0€‘’‚“”„–—…•«»°·©®™§¶ªº¡¿"
)


#: The bytes where cp1254 has ğ ı ş Ğ İ Ş (see :func:`_turkish`).
_TURKISH_BYTES = re.compile(rb"[\xd0\xdd\xde\xf0\xfd\xfe]")
#: Letters of the languages written with those bytes in other codecs, which Turkish does not use.
_NOT_TURKISH = frozenset("áéíóúæøåèìòùãšžÁÉÍÓÚÆØÅÈÌÒÙÃŠŽ")


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
    """Python's canonical codec name for a charset label, or None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    return "cp1252" if name in _AS_CP1252 else name


def charset_from_header(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a ``Content-Type`` header value."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def charset_from_markup(data: bytes) -> str | None:
    """The charset an HTML/XML document declares in its first bytes."""
    head = data[:_SNIFF_BYTES]
    m = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def _is_single_byte(codec: str) -> bool:
    return codecs.lookup(codec).name not in {"utf-8", "utf-16", "utf-32"} and not codec.startswith(
        ("utf-16", "utf-32", "shift_jis", "euc", "gb", "big5", "cp932", "cp949", "cp950", "iso2022", "hz")
    )


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, *, declared: str | None = None) -> Decoded:
    """Decode ``data``; raises :class:`Undecodable` only for binary data (NUL-heavy, undetectable)."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(bom_codec, errors="replace"), bom_codec, How.BOM)
    codec = canonical_codec(declared)
    if codec in {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}:
        codec = None  # a BOM-less page that can declare itself in ASCII is not UTF-16 (WHATWG)
    utf8 = _try(data, "utf-8")
    if codec is not None and codec != "utf-8":
        if utf8 is not None and not utf8.isascii() and _is_single_byte(codec):
            return Decoded(utf8, "utf-8", How.UTF8)
        text = _try(data, codec)
        if text is None and codec == "cp1252":
            text = data.decode("latin-1")  # the 5 bytes cp1252 leaves undefined
        if text is not None:
            return Decoded(text, codec, How.DECLARED)
    if utf8 is not None:
        return Decoded(utf8, "utf-8", How.DECLARED if codec == "utf-8" else How.UTF8)
    if data.count(b"\x00") > len(data) // 100:
        raise Undecodable("binary data (NUL bytes)")
    from charset_normalizer import from_bytes

    results = from_bytes(data[:_DETECT_BYTES])
    best = results.best()
    if best is None or best.encoding is None:
        raise Undecodable("no text encoding fits these bytes")
    if any(canonical_codec(r.encoding) == "cp1254" for r in results) and (turkish := _turkish(data)):
        return Decoded(turkish, "cp1254", How.DETECTED)
    if any(_as_good_cp1252(r, best) for r in results):
        text = _try(data, "cp1252")
        if text is not None and _western(text):
            return Decoded(text, "cp1252", How.DETECTED)
    found = canonical_codec(best.encoding) or best.encoding
    return Decoded(data.decode(found, errors="replace"), found, How.DETECTED)


def _turkish(data: bytes) -> str | None:
    """The cp1254 reading of ``data`` if it reads as Turkish, else None.

    cp1254 differs from cp1252 (and the cp125x family around it) where Turkish has ğ ı ş Ğ İ Ş:
    cp1252 has the Icelandic ð ý þ there, cp1250 đ ý ţ. charset-normalizer scores short Turkish
    text as well in those codecs, and cp1252's reading passes as Western text ("baþkenti" for
    "başkenti"). So bytes with one of those six are Turkish unless the cp1254 reading also has
    a letter Turkish never writes but its neighbours do (Icelandic á æ, Czech é, Croatian è š,
    Romanian ã as cp1254 shows ă).
    """
    if _TURKISH_BYTES.search(data) is None:
        return None
    text = _try(data, "cp1254")
    if text is None or any(c in _NOT_TURKISH for c in text):
        return None
    return text


def _western(text: str) -> bool:
    """Every non-ASCII character is a Western European letter or common typography."""
    return all(c.isascii() or c in _WESTERN for c in text)


def _as_good_cp1252(candidate: Any, best: Any) -> bool:
    """cp1252 (the web's default legacy charset) wins a near tie when its reading is plain Western
    text: short French or German text scores as well as cp1250/cp1257 for charset-normalizer,
    which would turn è into č and à into ŕ."""
    return bool(
        canonical_codec(candidate.encoding) == "cp1252"
        and candidate.chaos <= best.chaos + _TIE_CHAOS
        and candidate.coherence >= best.coherence - _TIE_COHERENCE
    )
