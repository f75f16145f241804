"""What the read models share: how times are shown, the as-of cut, and a finding with its clause.

Times are ``datetime`` in the models and ISO 8601 text in JSON, written by ``isoformat()``:
recorded times in UTC (``2018-06-30T09:00:00.123456+00:00``), the as-of moment in the zone it
was given in (``2018-06-30T23:59:59.999999+08:00``). That is the JSON the commands have always
printed (pydantic's own would write ``Z`` for UTC).

**As of** (``--as-of``) is about recording time, what the system had recorded by that moment,
not about the months the figures cover (README, "The auditor's view"). A record is in when it
was recorded (or received, for a rejection) at or before the moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, WithJsonSchema
from sqlalchemy.sql.elements import ColumnElement

from ..models.finding import PackRef
from ..models.times import CST, as_utc
from ..rules.clauses import clause_text


def _aware(t: datetime) -> datetime:
    """A time from the database is naive and UTC (``models.times``); say so."""
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat()


_ISO = WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")

Recorded = Annotated[datetime, AfterValidator(as_utc), PlainSerializer(_iso, return_type=str, when_used="json"), _ISO]
"""A moment something was recorded: UTC; ISO text in JSON (``…+00:00``)."""

Moment = Annotated[datetime, AfterValidator(_aware), PlainSerializer(_iso, return_type=str, when_used="json"), _ISO]
"""A moment in the zone it was given in (the as-of moment); ISO text in JSON."""


def parse_as_of(raw: str) -> datetime:
    """A date (the end of that day) or a date and time; Beijing time (UTC+8) unless an offset is given."""
    text = raw.strip()
    try:
        if len(text) == 10:
            d = datetime.fromisoformat(text).date()
            return datetime.combine(d, time.max, tzinfo=CST)
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{raw}' is not a date: write 2018-06-30 or 2018-06-30T17:00") from None
    return t if t.tzinfo else t.replace(tzinfo=CST)


def recorded_by(column: Any, as_of: datetime) -> ColumnElement[bool]:
    """SQL for "recorded at or before ``as_of``" on a time column.

    Stored times are UTC (naive in SQLite and in PostgreSQL's ``timestamp``): the moment is bound
    as UTC. SQLite compares the text SQLAlchemy writes (which leaves the zone out, so UTC it must
    be); PostgreSQL compares the moment itself.
    """
    return column <= as_utc(as_of)


def recorded_after(column: Any, as_of: datetime) -> ColumnElement[bool]:
    """SQL for "recorded after ``as_of``" (see ``recorded_by``)."""
    return column > as_utc(as_of)


class ClauseFinding(BaseModel):
    """One rule's outcome on a report, with the text of the clause it answers to."""

    rule: str = Field(description="rule id, e.g. pace-provincial")
    clause: str = Field(description="clause id (of the pack's catalogue)")
    clause_zh: str = Field(description="the clause's text in Chinese (empty for a clause not in the catalogue)")
    clause_en: str = Field(description="the clause's text in English (empty for a clause not in the catalogue)")
    passed: bool
    value: float | None = Field(default=None, description="what was measured")
    threshold: float | None = Field(default=None, description="what it was held against")
    inputs: dict[str, Any] = Field(default_factory=dict, description="the figures the rule read")
    reason_zh: str
    reason_en: str
    pack: PackRef = Field(description="the rule pack that judged it (id, version, hash)")


def clause_finding_fields(f: Any) -> dict[str, Any]:
    """The fields of ``ClauseFinding`` for a stored finding, a row of ``findings`` (also the tail of a
    history's finding event)."""
    c = clause_text(f.clause)
    return {
        "rule": f.rule,
        "clause": f.clause,
        "clause_zh": c.zh if c else "",
        "clause_en": c.en if c else "",
        "passed": f.passed,
        "value": f.value,
        "threshold": f.threshold,
        "inputs": f.inputs,
        "reason_zh": f.reason_zh,
        "reason_en": f.reason_en,
        "pack": PackRef(id=f.pack_id, version=f.pack_version, hash=f.pack_hash),
    }


def clause_finding(f: Any) -> ClauseFinding:
    return ClauseFinding(**clause_finding_fields(f))
