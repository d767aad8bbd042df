"""Which dates a document can carry: none before :data:`EARLIEST_DATE` (a year 0001 or 1850 in a
byline is a placeholder or a typo) and none after today where it is latest on Earth
(:func:`latest_date`). Shared by the HTML metadata (htmldate's ``max_date``) and the dates parsed
from bylines and update lines, so that both agree on what a date is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

#: The furthest ahead of UTC a time zone is (UTC+14, the Line Islands).
MAX_UTC_OFFSET = timedelta(hours=14)
#: The earliest date taken for a document's own (digitised archives reach back a century).
EARLIEST_DATE = date(1900, 1, 1)


def latest_date() -> date:
    """Today's date where it is latest on Earth (UTC+14). A page of a zone ahead of the machine,
    read the day it is published, carries a date after the machine's today; no page published so
    far carries one after this."""
    return (datetime.now(UTC) + MAX_UTC_OFFSET).date()


def plausible(day: date) -> bool:
    """Whether ``day`` can be a document's date: from :data:`EARLIEST_DATE` to :func:`latest_date`."""
    return EARLIEST_DATE <= day <= latest_date()
