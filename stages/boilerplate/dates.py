"""Parse the dates that news sites print in bylines and update lines into ISO 8601."""

from __future__ import annotations

import re
from datetime import date, datetime

from pipeline.core.clock import plausible

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            "jan january janvier januar enero gennaio januari janeiro",
            "feb february février fevrier februar febrero febbraio februari fevereiro",
            "mar march mars märz marz marzo maart março",
            "apr april avril abril aprile",
            "may mai mayo maggio mei maio",
            "jun june juin juni junio giugno junho",
            "jul july juillet juli julio luglio julho",
            "aug august août aout agosto augustus",
            "sep sept september septembre septiembre settembre setembro",
            "oct october octobre oktober octubre ottobre oktober outubro",
            "nov november novembre noviembre novembro",
            "dec december décembre decembre dezember diciembre dicembre december dezembro",
        ]
    )
    for m in names.split()
}
_NUMERIC = re.compile(r"\b(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4})\b")
_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
_NAMED_MDY = re.compile(r"\b(?P<mon>[A-Za-zéû]{3,9})\.? (?P<d>\d{1,2}),? (?P<y>\d{4})\b")
_NAMED_DMY = re.compile(r"\b(?P<d>\d{1,2})\.? (?:de )?(?P<mon>[A-Za-zéûä]{3,9})\.? (?:de )?(?P<y>\d{4})\b")
_TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3])[:h.](?P<mi>[0-5]\d)\b(?:\s?(?P<half>[AaPp])\.?\s?[Mm]\b\.?)?")


def _hour(t: re.Match[str]) -> int:
    """The 24-hour hour of a time: ``9:30 pm`` is 21, ``12:05 a.m.`` is 0."""
    hour = int(t["h"])
    half = (t["half"] or "").lower()
    if half and 1 <= hour <= 12:
        return hour % 12 + (12 if half == "p" else 0)
    return hour


def _numeric_day(text: str) -> tuple[date, re.Match[str]] | None:
    for rx in (_ISO, _NUMERIC):
        for m in rx.finditer(text):
            d, mo, y = int(m["d"]), int(m["m"]), int(m["y"])
            if mo > 12 and d <= 12:
                d, mo = mo, d
            try:
                day = date(y, mo, d)
            except ValueError:
                continue
            if plausible(day):
                return day, m
    return None


def _named_day(text: str) -> tuple[date, re.Match[str]] | None:
    for rx in (_NAMED_MDY, _NAMED_DMY):
        for m in rx.finditer(text):
            month = _MONTHS.get(m["mon"].lower())
            if month is None:
                continue
            try:
                day = date(int(m["y"]), month, int(m["d"]))
            except ValueError:
                continue
            if plausible(day):
                return day, m
    return None


def parse_date(text: str) -> str | None:
    """``"11:05, Thu, Aug 10, 2023"`` -> ``"2023-08-10T11:05"``; ``None`` when no date is found.
    A 12-hour time (``"11:05 pm"``, ``"9:30 p.m."``, ``"09:30 PM"``) is read as one.

    Numeric dates are read day-first (the European order every site in scope uses) unless the
    first number cannot be a day. The time is looked for outside the date itself, so
    ``"23.03.2023, 19:08 Uhr"`` is 19:08, not 23:03. A date before 1900 or after today where it is
    latest on Earth (:func:`~pipeline.core.clock.plausible`: ``01/01/0001``, ``9999-12-31``) is no
    date: a placeholder, a typo or a template's.
    """
    found = _numeric_day(text) or _named_day(text)
    if found is None:
        return None
    day, m = found
    t = _TIME.search(text[: m.start()] + " " + text[m.end() :])
    if t:
        return datetime(day.year, day.month, day.day, _hour(t), int(t["mi"])).isoformat(timespec="minutes")
    return day.isoformat()
