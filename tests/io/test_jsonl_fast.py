"""JSONL lines are read with orjson where its answer is ``json``'s, and by ``json`` where it
might not be: every line gives the record the standard library's reading gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.config import ReaderConfig
from pipeline.io.formats.jsonl import _exact_line, _fast_object, _jsonl_line
from pipeline.io.formats.records import Origin

CONFIG = ReaderConfig(keep_fields=("meta", "n"))
ORIGIN = Origin("dump.jsonl", 7)

LINES = [
    b'{"id": "a", "text": "plain"}\n',
    b'{"id": "a", "text": "crlf"}\r\n',
    b'\xef\xbb\xbf{"id": "bom", "text": "a BOM before the first record"}\n',
    b'{"id": 123456789012345678901234567890, "text": "an id of 30 digits"}\n',
    b'{"id": "n", "text": "t", "n": 18446744073709551616}\n',  # 2**64: a float to orjson
    b'{"id": "n", "text": "t", "n": 18446744073709551615}\n',  # 2**64 - 1: an int to both
    b'{"id": "m", "text": "t", "meta": {"deep": [1, {"big": -99999999999999999999}]}}\n',
    b'{"id": "f", "text": "t", "n": 1e19}\n',
    b'{"id": "f", "text": "t", "n": 1.5e300}\n',
    b'{"id": "nan", "text": "t", "n": NaN}\n',
    b'{"id": "inf", "text": "t", "n": 1e400}\n',
    b'{"id": "s", "text": "lone \\ud800 surrogate"}\n',
    b'{"id": "z", "text": "a NUL \\u0000 escape"}\n',
    b'{"id": "d", "text": "a", "id": "d2"}\n',  # the last of a repeated key
    b'{"id": "u", "text": "bad \xff byte"}\n',
    b'{"id": "j", "text": unquoted}\n',
    b'["not", "an", "object"]\n',
    b'{"id": "w", "text": 5}\n',
    b'{"id": "m"}\n',
    b'{"id": "h", "text": "<html><body><p>HTML in the text field</p></body></html>"}\n',
    b'{"id": "e", "text": "", "html": ""}\n',
    b"[" * 3000 + b"]" * 3000 + b"\n",
    b'{"id": "x", "text": "' + "\u00e9\u4e2d\U0001f600".encode() * 1000 + b'"}\n',
]


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_a_line_reads_as_the_standard_library_reads_it(line: bytes) -> None:
    assert _jsonl_line(line, ORIGIN, CONFIG) == _exact_line(line, ORIGIN, CONFIG)


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": 123456789012345678901234567890, "text": "t"}',
        b'{"text": "t", "meta": [{"n": 99999999999999999999}]}',
        b'{"text": "t", "n": NaN}',
        b'{"text": "lone \\udc00"}',
        b"[1]",
    ],
)
def test_orjson_leaves_to_json_what_it_might_read_otherwise(line: bytes) -> None:
    assert _fast_object(line) is None


def test_orjson_reads_an_ordinary_record() -> None:
    assert _fast_object(b'{"id": "a", "text": "t", "n": 12, "x": 1.5}\n') == {
        "id": "a",
        "text": "t",
        "n": 12,
        "x": 1.5,
    }


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(text=st.text(), extra=st.dictionaries(st.sampled_from(["id", "meta", "n", "url"]), _JSON, max_size=4))
def test_any_record_reads_as_the_standard_library_reads_it(text: str, extra: dict[str, Any]) -> None:
    line = json.dumps({"text": text, **extra}).encode() + b"\n"
    assert _jsonl_line(line, ORIGIN, CONFIG) == _exact_line(line, ORIGIN, CONFIG)
