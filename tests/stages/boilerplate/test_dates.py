"""Dates printed in bylines and update lines, parsed to ISO 8601."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.clock import latest_date
from stages.boilerplate.dates import parse_date


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("11:05, Thu, Aug 10, 2023", "2023-08-10T11:05"),
        ("00:06, Tue, Oct 18, 2022", "2022-10-18T00:06"),
        ("23.03.2023, 19:08 Uhr", "2023-03-23T19:08"),
        ("22/01/2022 à 13h01", "2022-01-22T13:01"),
        ("30/01/2021 - 22:14", "2021-01-30T22:14"),
        ("11-11-2023, 18:50", "2023-11-11T18:50"),
        ("2021-10-20", "2021-10-20"),
        ("12 mars 2023", "2023-03-12"),
        ("3 de enero de 2022", "2022-01-03"),
        ("March 5, 2021", "2021-03-05"),
        ("05/13/2022", "2022-05-13"),  # 13 cannot be a month: read month-first
        ("11:05 pm, Thu, Aug 10, 2023", "2023-08-10T23:05"),
        ("11/19/2019 09:30 PM", "2019-11-19T21:30"),
        ("Aug 10, 2023 at 9:30 p.m.", "2023-08-10T21:30"),
        ("Aug 10, 2023 12:05 a.m.", "2023-08-10T00:05"),
        ("Aug 10, 2023 12:40 PM", "2023-08-10T12:40"),
        ("Aug 10, 2023 7:15 AM EST", "2023-08-10T07:15"),
    ],
)
def test_parse_date(text: str, iso: str) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "31/02/2022",
        "Thu, Aug 99, 2023",
        "Mon 12:30",
        # a placeholder, a typo or a template's: no date (they made partitions day=9999-12-31)
        "Updated 9999-12-31",
        "Published 01/01/0001",
        "Posted March 12, 1850",
        "Updated Jan 1, 2999",
    ],
)
def test_no_date(text: str) -> None:
    assert parse_date(text) is None


@given(st.text(max_size=80))
def test_parse_date_never_crashes(text: str) -> None:
    out = parse_date(text)
    assert out is None or out[:4].isdigit()


def test_a_placeholder_date_gives_way_to_a_real_one_on_the_line() -> None:
    assert parse_date("Updated 9999-12-31, published 2023-08-10") == "2023-08-10"


def test_the_latest_date_is_today_where_it_is_latest_on_earth() -> None:
    latest = latest_date()
    assert parse_date(latest.strftime("%d.%m.%Y")) == latest.isoformat()
    assert parse_date((latest + timedelta(days=1)).strftime("%d.%m.%Y")) is None
