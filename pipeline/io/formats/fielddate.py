"""A record's own date (``reader.date_field``, ``--date-field``) as the output's ``date``.

The value an input gives for the date is read as:

* an ISO 8601 date (``2023-08-10``, ``20230810``) -> ``YYYY-MM-DD``;
* an ISO 8601 date and time, with or without a zone (``2023-08-10T07:15:00Z``,
  ``2023-08-10 07:15+02:00``) or an RFC 2822 one (``Thu, 10 Aug 2023 07:15:00 GMT``) ->
  ``YYYY-MM-DDTHH:MM`` in the value's own local time: the zone is dropped, not converted, as
  the dates read from bylines (``stages/boilerplate/dates.py``) keep the time the page printed;
* a Parquet/Arrow date (``YYYY-MM-DD``) or timestamp (``YYYY-MM-DDTHH:MM``, a zoned one in its
  zone's local time, as Arrow gives it);
* an integer of eight digits that spells a date (``20230810``, as exports write ``YYYYMMDD``) ->
  ``YYYY-MM-DD`` (one that spells none is no date); another number (a JSON number, or a string of
  digits as CSV holds it) of at least 10^8 is an epoch: seconds, or milliseconds when its
  magnitude is at least 10^11 (as seconds, the year 5138), in UTC. A smaller one (``0``, a year
  ``2023``, a month ``202308``) is no date.

A value that is none of these, or whose day is before 1900 or after today's date where it is
latest on Earth (:func:`pipeline.core.clock.plausible`, as for htmldate and bylines), is no
date: :func:`field_date` answers None and the record is kept, flagged :data:`BAD_DATE_FLAG` by
the reader.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from pipeline.core.clock import plausible

#: The flag of a record whose date field held a value that is no plausible date (ignored).
BAD_DATE_FLAG = "date_field_ignored"

#: Epoch numbers of at least this magnitude are milliseconds (as seconds: the year 5138).
_MILLIS_FROM = 10**11
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_TEXT = re.compile(r"-?\d{1,16}(?:\.\d+)?")
#: The integers read as ``YYYYMMDD`` (as epoch seconds: 1970); one that spells no date is none.
_YYYYMMDD = range(1900_01_01, 2999_12_32)
#: Smaller epoch numbers are no date a dump holds (0 is a placeholder, 2023 a year, 202308 a
#: month): 10^8 seconds is 1973-03-03.
_EPOCH_FROM = 10**8


def _from_number(number: float) -> date | datetime | None:
    if number == int(number) and int(number) in _YYYYMMDD:
        value = int(number)
        try:
            return date(value // 10000, value // 100 % 100, value % 100)
        except ValueError:
            return None
    if abs(number) < _EPOCH_FROM:
        return None
    return _from_epoch(number)


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    seconds = number / 1000 if abs(number) >= _MILLIS_FROM else number
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _from_text(text: str) -> date | datetime | None:
    text = text.strip()
    if not text or len(text) > 100:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if _EPOCH_TEXT.fullmatch(text):
        return _from_number(float(text))
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parsed(value: Any) -> date | datetime | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return _from_text(value)
    return None


def is_missing(value: Any) -> bool:
    """No value at all (absent, null or empty): not a bad date, just none."""
    return value is None or (isinstance(value, str | bytes) and not value.strip())


def field_date(value: Any) -> str | None:
    """The output ``date`` of a date field's value: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (the
    value's local time), or None when the value is missing, unparsable or implausible."""
    try:
        got = _parsed(value)
    except (ValueError, OverflowError):
        return None
    if got is None:
        return None
    if isinstance(got, datetime):
        return got.strftime("%Y-%m-%dT%H:%M") if plausible(got.date()) else None
    return got.isoformat() if plausible(got) else None
