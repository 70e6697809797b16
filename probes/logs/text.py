"""Untrusted log bytes made into safe text, and log timestamps made into ISO 8601.

Log lines reach terminals and JSON: control characters (ESC above all) are replaced before any
other code sees the text. Timestamps come in many locales (`22-Nov-2026`, `nov. 22, 2026 ... PM`,
`11月 22, 2026 ... 午前`, `06/11/2013`); only stamps that carry a full date become ISO 8601.
"""

from __future__ import annotations

import re

from probes.logs.model import TEXT_CAP

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REPLACEMENT = "\ufffd"

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "jan janv january janvier januar jänner enero ene gennaio gen janeiro",
        "feb febr february février fevrier februar febrero febbraio fev fevereiro",
        "mar march mars märz marz marzo março",
        "apr april avr avril abr abril aprile",
        "may mai mayo maggio mag maio",
        "jun june juin juni junio giugno giu junho",
        "jul july juil juillet juli julio luglio lug julho",
        "aug august août aout ago agosto",
        "sep sept september septembre septiembre settembre set setembro",
        "oct october octobre okt oktober octubre ottobre ott out outubro",
        "nov november novembre noviembre novembro",
        "dec december décembre decembre dez dezember dic diciembre dicembre dezembro",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_PM = {"pm", "p.m.", "p. m.", "nachm.", "午後", "下午", "오후"}
_AM = {"am", "a.m.", "a. m.", "vorm.", "午前", "上午", "오전"}

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
_JUL_ONE = re.compile(
    r"(\d{1,2})-([^\W\d_]{3,5}\.?)-(\d{4}) (\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
)
_JUL_TWO = re.compile(
    r"(?:([^\W\d_]{3,9}\.?|\d{1,2}[月월])\s+(\d{1,2}),\s+(\d{4})|(\d{1,2})/(\d{1,2})/(\d{4}))"
    r"\s+(\d{1,2}):(\d{2}):(\d{2})(?:\s+(.*))?"
)


def clean(raw: bytes | bytearray | memoryview) -> str:
    """Decode untrusted log bytes: invalid UTF-8 and control characters become U+FFFD."""
    text = bytes(raw).decode("utf-8", "replace")
    if text.isprintable():  # every character _CONTROL replaces is non-printable: nothing to do
        return text
    if text.replace("\t", " ").replace("\n", " ").isprintable():  # a folded stack trace
        return text
    return _CONTROL.sub(REPLACEMENT, text)


def cap(text: str, limit: int = TEXT_CAP) -> str:
    """The text cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _month(name: str) -> int | None:
    """Month number from a (possibly localized, abbreviated) month name or `11月`."""
    name = name.lower().rstrip(".")
    if name[-1:] in ("月", "월"):
        return int(name[:-1]) if name[:-1].isdigit() else None
    return _MONTHS.get(name) or _MONTHS.get(name[:3])


def _iso(
    year: int, month: int, day: int, clock: tuple[int, int, int], frac: str | None
) -> str | None:
    """ISO 8601 text for valid date and time fields, else None."""
    hour, minute, second = clock
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    stamp = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return f"{stamp}.{frac}" if frac else stamp


_ISO_DATES: dict[str, bool] = {}
"""`2016-01-28` -> whether it is a valid date; a log holds few distinct days."""


def iso_from_iso_like(text: str) -> str | None:
    """`2016-01-28 14:34:13,252` (log4j, Carbon, Spring Boot, JSON) as ISO 8601.

    The usual shape (millis, no zone) takes a fast road like `iso_from_jul_one_line`."""
    if (
        len(text) == 23
        and text[4] == "-"
        and text[7] == "-"
        and text[10] in " T"
        and text[13] == ":"
        and text[16] == ":"
        and text[19] in ".,"
        and text.isascii()
    ):
        day, clock, frac = text[:10], text[11:19], text[20:]
        digits = day[:4] + day[5:7] + day[8:] + clock[:2] + clock[3:5] + clock[6:] + frac
        if digits.isdigit() and clock[:2] < "24" and clock[3:5] < "60" and clock[6:] < "61":
            valid = _ISO_DATES.get(day)
            if valid is None:
                valid = _slow_iso_like(day + " 00:00:00") is not None
                if len(_ISO_DATES) >= 4096:  # untrusted text: a bound on what it can cost
                    _ISO_DATES.clear()
                _ISO_DATES[day] = valid
            return f"{day}T{clock}.{frac}" if valid else None
    return _slow_iso_like(text)


def _slow_iso_like(text: str) -> str | None:
    m = _ISO.match(text)
    if not m:
        return None
    clock = (int(m.group(4)), int(m.group(5)), int(m.group(6)))
    return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)), clock, m.group(7))


_JUL_DATES: dict[str, str] = {}
"""`22-Nov-2026` -> `2026-11-22` ("" when it is no date): a log holds few distinct days."""


def _jul_date(day: str) -> str:
    """The ISO date of a OneLineFormatter day, cached; "" when it is not a valid date."""
    date = _JUL_DATES.get(day)
    if date is None:
        iso = _slow_jul_one_line(day + " 00:00:00")
        date = iso[:10] if iso else ""
        if len(_JUL_DATES) >= 4096:  # untrusted text: a bound on what it can cost
            _JUL_DATES.clear()
        _JUL_DATES[day] = date
    return date


def iso_from_jul_one_line(text: str) -> str | None:
    """`22-Nov-2026 11:59:01.358` (Tomcat's OneLineFormatter) as ISO 8601.

    The usual shape (two-digit day, millis) takes a fast road: the day from a cache, the clock
    checked by comparing digit pairs. Anything else takes the general one."""
    if (
        len(text) == 24
        and text[2] == "-"
        and text[11] == " "
        and text[14] == ":"
        and text[17] == ":"
        and text[20] in ".,"
        and text.isascii()
    ):
        clock = text[12:20]
        digits = clock[:2] + clock[3:5] + clock[6:8] + text[21:]
        if digits.isdigit() and clock[:2] < "24" and clock[3:5] < "60" and clock[6:8] < "61":
            date = _jul_date(text[:11])
            return f"{date}T{clock}.{text[21:]}" if date else None
    return _slow_jul_one_line(text)


def _slow_jul_one_line(text: str) -> str | None:
    m = _JUL_ONE.match(text)
    if not m or (month := _month(m.group(2))) is None:
        return None
    clock = (int(m.group(4)), int(m.group(5)), int(m.group(6)))
    return _iso(int(m.group(3)), month, int(m.group(1)), clock, m.group(7))


def iso_from_jul_two_line(text: str) -> str | None:
    """The stamp of JUL's SimpleFormatter header (`Jan 17, 2016 11:21:32 AM`) as ISO 8601.

    Slash dates (`06/11/2013 9:55:47 PM`, Java 6 medium format of en_AU-like locales) are read
    day first unless the second number cannot be a month.
    """
    m = _JUL_TWO.match(text)
    if not m:
        return None
    if m.group(1):
        month = _month(m.group(1))
        day, year = int(m.group(2)), int(m.group(3))
    else:
        day, month, year = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if month > 12 >= day:
            day, month = month, day
    if month is None:
        return None
    hour = int(m.group(7))
    rest = (m.group(10) or "").lower()
    if hour < 12 and any(rest == p or rest.startswith(p + " ") for p in _PM):
        hour += 12
    elif hour == 12 and any(rest == a or rest.startswith(a + " ") for a in _AM):
        hour = 0
    return _iso(year, month, day, (hour, int(m.group(8)), int(m.group(9))), None)
