"""The quarantine (退回记录, `towns quarantine list`): every refused row, kept raw with its reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models.rejection import Problem, Rejection
from ..models.times import as_utc
from .common import Recorded

RejectedKind = Literal["report", "town"]


class QuarantinedRow(BaseModel):
    """One refused row: when, from which file and row, who sent it, what was wrong, and the row as sent."""

    id: int
    kind: RejectedKind = Field(description="report | town")
    received_at: Recorded
    source: str | None = Field(default=None, description="file and row, e.g. reports.xlsx:12")
    code: str | None = Field(default=None, description="the town code the row gave, if any")
    period: str | None = Field(default=None, description="the month the row gave, if any")
    submitted_by: str
    problems: list[Problem] = Field(description="what was wrong, in English and Chinese")
    raw: dict[str, Any] = Field(default_factory=dict, description="the row as sent")


def quarantine_list(
    engine: Engine, since: datetime | None = None, code: str | None = None, kind: RejectedKind | None = None
) -> list[QuarantinedRow]:
    """The refused rows received at or after ``since``, of town ``code``, of ``kind``; oldest first."""
    q = select(Rejection).order_by(col(Rejection.received_at), col(Rejection.id))
    if since is not None:
        q = q.where(col(Rejection.received_at) >= as_utc(since))  # stored in UTC (see common.recorded_by)
    if code is not None:
        q = q.where(Rejection.code == code)
    if kind is not None:
        q = q.where(Rejection.kind == kind)
    with Session(engine) as s:
        return [
            QuarantinedRow.model_validate(
                dict(
                    id=r.id,
                    kind=r.kind,
                    received_at=r.received_at,
                    source=r.source,
                    code=r.code,
                    period=r.period,
                    submitted_by=r.submitted_by,
                    problems=r.problems,
                    raw=r.raw,
                )
            )
            for r in s.exec(q).all()
        ]
