"""Reporting periods: a month written YYYY-MM (figures are year-to-date to its end), and when a
town owes the report for one.

**When a report is due.** The report for month M is due on day ``due_day`` (pack parameter
``report_due_day``) of month M+1; it is overdue once that day is over in Beijing time
(``report_deadline``: 00:00 on the next day, UTC+8).

**From which month a town reports** (``reporting_from``): a town owes the report for month M
when it was registered (or put on a creation list) before that report's deadline — so a town
registered on or before the due day of a month owes the previous month's report too — and
never a month before January of its listed year. The town workflow watches these months for
overdue reports and the quarterly bulletin counts them missing: both ask this one function.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta

from pydantic_core import PydanticCustomError

from .rejection import bilingual
from .times import CST, as_utc

_PERIOD = re.compile(r"^(\d{4})-(\d{1,2})$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
EXAMPLE = "write it as YYYY-MM, e.g. 2018-03"
EXAMPLE_ZH = "请按 YYYY-MM 填写，例如 2018-03"


def _not_a_month(raw: object) -> PydanticCustomError:
    return bilingual("period", f"{raw!r} is not a month; {EXAMPLE}", f"“{raw}”不是有效的月份，{EXAMPLE_ZH}")


def _from_number(raw: float | int) -> str:
    """A month typed into a spreadsheet as a number: 201803, 2018.03, 2018.3.

    Excel keeps no trailing zero, so 2019.10 (October) is stored as 2019.1 — the same
    number as January typed 2019.1. That one reading is refused, never guessed."""
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _not_a_month(raw)
        if raw.is_integer():
            raw = int(raw)
    if isinstance(raw, int):
        return parse_period(str(raw))
    whole, _, frac = repr(raw).partition(".")
    if frac == "1":
        raise bilingual(
            "period_ambiguous",
            f"{raw} is a number in the spreadsheet, so it cannot tell October (2019.10, which Excel stores as "
            f"{whole}.1) from January; format the month cells as text, or write {whole}-10 or {whole}-01",
            f"单元格中的 {raw} 是数值：Excel 会把 {whole}.10（10月）存成 {whole}.1，无法区分 1 月和 10 月；"
            f"请把月份单元格设为文本，或写成 {whole}-10 / {whole}-01",
        )
    return parse_period(f"{whole}-{frac}")


def parse_period(raw: object) -> str:
    """Normalise '2018-3', '2018-03', '2018/03', '2018.03', '201803', '2018年3月', '2018-03-31', a date or
    datetime, or a number typed in a spreadsheet to '2018-03'; a bilingual error otherwise."""
    if isinstance(raw, bool):
        raise _not_a_month(raw)
    if isinstance(raw, (int, float)):
        return _from_number(raw)
    if hasattr(raw, "year") and hasattr(raw, "month"):
        return f"{raw.year:04d}-{raw.month:02d}"
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    text = text.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").replace("日", "").rstrip("-")
    if re.fullmatch(r"\d{6}", text):
        text = f"{text[:4]}-{text[4:]}"
    d = _DATE.match(text)
    if d:  # a day of the month: its month (an office often writes the month's last day)
        try:
            date(int(d.group(1)), int(d.group(2)), int(d.group(3)))
        except ValueError:
            raise _not_a_month(raw) from None
        text = f"{d.group(1)}-{d.group(2)}"
    m = _PERIOD.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise _not_a_month(raw)
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def year_month(period: str) -> tuple[int, int]:
    y, m = period.split("-")
    return int(y), int(m)


def period_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def next_month(period: str) -> str:
    y, m = year_month(period)
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def previous_month(period: str) -> str:
    y, m = year_month(period)
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def report_due_date(period: str, due_day: int) -> date:
    """The day (Beijing time) the report for ``period`` is due: day ``due_day`` of the next month."""
    y, m = year_month(next_month(period))
    return date(y, m, due_day)


def report_deadline(period: str, due_day: int) -> datetime:
    """The end of the due day, Beijing time: from this moment the report for ``period`` is overdue."""
    return datetime.combine(report_due_date(period, due_day), datetime.min.time(), tzinfo=CST) + timedelta(days=1)


def reporting_from(listed_year: int | None, registered_at: datetime, due_day: int) -> str:
    """The first month ('YYYY-MM') whose report a town owes: the earliest month whose report was
    still not due when the town was registered (its deadline, the end of day ``due_day`` of the
    next month in Beijing time, after ``registered_at``), and never before January of
    ``listed_year`` (when given).

    Registered on 9 May 2018 (due day 10): April's report, due 10 May, is owed → '2018-04'.
    Registered on 11 May 2018: April's was already due → '2018-05'. A naive ``registered_at``
    is UTC, as the database hands it back; it is read in Beijing time (2018-05-10T16:30Z is
    already 11 May in Beijing)."""
    local = as_utc(registered_at).astimezone(CST)
    this = period_of(local)
    owed = previous_month(this) if local < report_deadline(previous_month(this), due_day) else this
    if listed_year is not None:
        owed = max(owed, f"{listed_year:04d}-01")
    return owed
