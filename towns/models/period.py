"""Reporting periods: a month written YYYY-MM (figures are year-to-date to its end)."""

from __future__ import annotations

import re
from datetime import date

_PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_period(raw: object) -> str:
    """Normalise '2018-3', '2018-03', '2018/03', '201803', a date or datetime to '2018-03'."""
    if hasattr(raw, "year") and hasattr(raw, "month"):
        return f"{raw.year:04d}-{raw.month:02d}"
    text = str(raw).strip().replace("/", "-").replace(".", "-").replace("年", "-").rstrip("月")
    if re.fullmatch(r"\d{6}", text):
        text = f"{text[:4]}-{text[4:]}"
    m = _PERIOD.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"'{raw}' is not a month; write it as YYYY-MM, e.g. 2018-03")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def year_month(period: str) -> tuple[int, int]:
    y, m = period.split("-")
    return int(y), int(m)


def period_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"
