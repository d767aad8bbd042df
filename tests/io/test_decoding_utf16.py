"""BOM-less UTF-16 whose bytes are not mostly C0 controls (CJK, Hangul, Indic scripts) is read as
UTF-16, and legacy or UTF-8 bytes that UTF-16 happens to read as text are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.record import Status
from pipeline.io.formats.decoding import Undecodable, decode, wide_text
from tests.io.test_readers import read_all

ZH = "北京时间今天上午，国家统计局发布了最新数据。"
ZH_TW = "這是一個中文句子，用來測試編碼檢測。今天天氣很好。"
JA = "港湾当局は土曜日、嵐で桟橋が被害を受けた後、島々の間のフェリー運航を月曜日に再開すると発表しました。"
KO = "서울 시간 오늘 오전, 통계청이 최신 자료를 발표했습니다."
HI = "सरकार ने आज नई आर्थिक नीति की घोषणा की। यह नीति अगले वर्ष से लागू होगी।"
TH = "รัฐบาลประกาศนโยบายเศรษฐกิจใหม่ในวันนี้"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    [
        ZH + "\n",  # was undecodable ("binary data (NUL bytes)")
        (ZH + "\n") * 20,
        ZH,  # one NUL (最 is U+6700)
        ZH_TW + "\r\n",
        JA,  # no NUL at all: was undecodable ("no text encoding fits these bytes")
        JA * 3 + "\r\n",
        KO + "\n",
        HI,  # valid UTF-8 (every byte under 0x80): was read so, "2\tG\t\x15\t?\t..."
        HI + "\r\n",
        TH,  # no NUL, valid UTF-8: was read so
        "<html><head><title>新闻</title></head><body><p>"
        + (ZH + "国内生产总值同比增长，") * 8
        + "</p></body></html>",
    ],
)
def test_bomless_utf16_cjk_and_indic_text_is_read_as_utf16(text: str, codec: str) -> None:
    got = decode(text.encode(codec))
    assert (got.text, got.encoding, got.how) == (text, codec, "detected")


def test_a_bomless_utf16_chinese_text_file_and_japanese_page_are_kept(tmp_path: Path) -> None:
    zh = (ZH + "\r\n") * 20
    ja = "<html><head><title>フェリー運航再開</title></head><body>" + f"<p>{JA}</p>" * 6 + "</body></html>"
    (tmp_path / "zh.txt").write_bytes(zh.encode("utf-16-le"))
    (tmp_path / "ja.html").write_bytes(ja.encode("utf-16-be"))
    got_zh, got_ja = read_all([tmp_path / "zh.txt", tmp_path / "ja.html"])
    assert (got_zh.status, got_zh.raw, got_zh.encoding) == (Status.OK, zh, "utf-16-le")
    assert (got_ja.status, got_ja.encoding) == (Status.OK, "utf-16-be") and JA in got_ja.raw


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        # GB2312's common hanzi (lead bytes B0-D7) read as UTF-16-BE are Hangul syllables, its
        # punctuation Yi syllables: every code unit text, and langdetect finds it more Korean
        # than the GB18030 reading Chinese
        (ZH, "gb2312", "gb18030"),
        ("北京时间今天上午国家统计局发布了最新数据", "gb2312", "gb18030"),
        (ZH + "\n\x1a", "gb2312", "gb18030"),  # a DOS file's closing Ctrl-Z
        ("ということで続けて飲んでいます。", "shift_jis", "cp932"),  # UTF-16-BE: CJK ideographs
        ("台風の後、運航が再開されました。\n\x1a", "shift_jis", "cp932"),
        ("오늘날씨가좋습니다", "euc_kr", "cp949"),  # reads as text in both byte orders
        ("이것은 한국어 문장입니다. 오늘 날씨가 좋습니다.\n", "euc_kr", "cp949"),
    ],
)
def test_legacy_cjk_bytes_that_utf16_reads_as_text_keep_their_codec(
    text: str, codec: str, expected: str
) -> None:
    data = text.encode(codec)
    assert len(data) % 2 == 0
    assert wide_text(data) is None
    got = decode(data)
    assert (got.text, got.encoding) == (text, expected)


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Den andra formen är mer exakt.", "cp1252"),  # UTF-16-BE reads it as CJK
        ("Hoppas att fler gör detsamma!\x1a", "cp1252"),
        ("Napokon, takav će odgajatelj promicati pedagogiju saveza, tj.\x1a", "cp1250"),
    ],
)
def test_single_byte_legacy_text_that_utf16_reads_as_text_keeps_its_code_page(text: str, codec: str) -> None:
    data = text.encode(codec)
    assert len(data) % 2 == 0 and data.decode("utf-16-be")  # a strict reading: no lone surrogate
    got = decode(data)
    assert (got.text, got.encoding) == (text, codec)


@pytest.mark.parametrize(
    "text",
    [
        "Build finished \x1b[32mOK\x1b[0m in 3.2 seconds; all tests passed.",  # 60 bytes
        "Name\x1fValue\x1eAlpha\x1f1\x1eBeta\x1f2\x1eGamma\x1f3\x1e",
        "Ferry services resume.\x00 The harbour said so on Saturday.\x00\n",
        (ZH + "\r\n") * 3,
        (ZH + "\n") * 3 + "\x1a",
    ],
)
def test_utf8_with_control_characters_is_not_read_as_utf16(text: str) -> None:
    data = text.encode()
    assert len(data) % 2 == 0
    assert decode(data).text == text


def test_binary_data_stays_undecodable() -> None:
    with pytest.raises(Undecodable):
        decode(bytes(range(256)) * 4)
    with pytest.raises(Undecodable):
        decode(bytes(range(1, 256)) * 8 + b"\x00")


@pytest.mark.parametrize(("label", "codec"), [("utf-16", "utf-16-le"), ("UTF-16BE", "utf-16-be")])
def test_a_chinese_page_an_http_header_calls_utf16_is_read_so(label: str, codec: str) -> None:
    page = "<html><body><p>" + ZH * 5 + "</p></body></html>"  # too few NULs for the header's check
    got = decode(page.encode(codec), declared=label, transport=True)
    assert (got.text, got.encoding) == (page, codec)
