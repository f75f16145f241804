"""Time conventions: stored in UTC; the office works in Beijing time (UTC+8).

SQLite (and PostgreSQL columns without a time zone) hand stored times back naive: they
are UTC, and ``as_utc`` says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))  # China Standard Time, Beijing


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_utc(t: datetime) -> datetime:
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def iso_utc(t: datetime | None) -> str | None:
    return None if t is None else as_utc(t).isoformat()
