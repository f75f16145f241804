"""A town's history (`towns history`), the auditor's view: every report, finding (with its
clause's text), rejection and decision, in the order recorded.

Events are a union discriminated on ``kind``. Each report, finding and decision carries the
sequence number of its entry in the decision ledger (``ledger_seq``; None if it has none), so
an auditor can check it against ``towns audit verify``. A history is read in five statements
(seven as of a moment), whatever the number of events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..models.finding import FindingRow, PackRef
from ..models.ledger import Keys, LedgerEntry
from ..models.rejection import Problem, Rejection
from ..models.report import MonthlyReport
from ..models.round import DecisionRow, Grade, RoundKind
from ..models.tables import table
from ..models.times import as_utc
from ..models.town import Town
from ..models.vocab import TownState
from .common import Moment, Recorded, clause_finding_fields, recorded_by
from .rounds import DecisionEffects, TownStanding
from .towns import ReportFigures, as_it_stood, first_later_decisions, registry_row, report_figures


class ReportEvent(BaseModel):
    """A monthly report (one revision) was recorded."""

    kind: Literal["report"] = "report"
    time: Recorded = Field(description="when it was recorded")
    period: str = Field(description="the month, YYYY-MM; figures are year to date")
    revision: int
    correction: bool
    submitted_by: str
    source: str | None = Field(default=None, description="the file and row it came from")
    submission_id: str
    figures: ReportFigures
    ledger_seq: int | None = None


class FindingEvent(BaseModel):
    """A rule judged a report: the finding, with the text of its clause."""

    kind: Literal["finding"] = "finding"
    time: Recorded = Field(description="when it was recorded")
    period: str
    revision: int = Field(description="the report revision judged")
    submission_id: str = Field(description="the report judged")
    rule: str
    clause: str
    clause_zh: str
    clause_en: str
    passed: bool
    value: float | None = None
    threshold: float | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    reason_zh: str
    reason_en: str
    pack: PackRef
    ledger_seq: int | None = None


class RejectionEvent(BaseModel):
    """A row for the town was refused (kept raw in the quarantine)."""

    kind: Literal["rejection"] = "rejection"
    time: Recorded = Field(description="when it was received")
    period: str | None = None
    source: str | None = None
    submitted_by: str
    problems: list[Problem] = Field(description="what was wrong, in English and Chinese")
    raw: dict[str, Any] = Field(default_factory=dict, description="the row as sent")


class DecisionEvent(BaseModel):
    """A round's decision was applied to the town."""

    kind: Literal["decision"] = "decision"
    time: Recorded = Field(description="when it was recorded")
    period: str = Field(description="the year judged")
    round: str = Field(description="round id")
    round_kind: RoundKind
    grade: Grade = Field(description="the final (approved) grade")
    grade_zh: str
    proposed_grade: Grade
    score: float | None = None
    by: str = Field(description="who approved")
    reason: str = Field(default="", description="why an override changed the proposed grade")
    before: TownStanding
    effects: DecisionEffects
    pack: PackRef
    ledger_seq: int | None = None


AnyEvent = ReportEvent | FindingEvent | RejectionEvent | DecisionEvent
HistoryEvent = Annotated[AnyEvent, Field(discriminator="kind")]
"""One event of a history; ``kind`` says which."""


class AsOfStanding(BaseModel):
    """The town's registry fields as they stood at the as-of moment."""

    state: TownState
    tier: str
    warnings: int
    last_grade: Grade | None = None
    listed_year: int | None = None
    creation_years: int


class TownHistory(BaseModel):
    """What `towns history` shows: a town's events in the order recorded.

    ``as_of`` and ``state`` are there only for a history as of a moment (recording time); the
    JSON leaves them out otherwise, as it always has (``exclude_if``)."""

    code: str
    events: list[HistoryEvent]
    as_of: Moment | None = Field(
        default=None, exclude_if=lambda v: v is None, description="the recording time shown, when not now"
    )
    state: AsOfStanding | None = Field(
        default=None, exclude_if=lambda v: v is None, description="the town as it stood at as_of"
    )


# events of one time are shown report, finding, rejection, decision
_ORDER = {"report": 0, "finding": 1, "rejection": 2, "decision": 3}


def registered(engine: Engine, code: str) -> bool:
    """Whether a town of this code is registered (one Core statement, for a command's first read)."""
    towns = table(Town)
    with engine.connect() as conn:
        return conn.execute(select(towns.c.code).where(towns.c.code == code)).first() is not None


def history(engine: Engine, code: str, as_of: datetime | None = None) -> TownHistory:
    """Every report, finding, rejection and decision of a town, ordered by when it was recorded
    (by ``as_of`` when given: what had been recorded by then, and the town as it stood).

    Read with Core statements on the tables, not ORM queries (see ``towns.queries``)."""
    reports, findings, rejections = table(MonthlyReport), table(FindingRow), table(Rejection)
    decisions, ledger = table(DecisionRow), table(LedgerEntry)

    def rows(t: Any, time_col: str) -> Any:
        q = select(t).where(t.c.code == code)
        if as_of is not None:
            q = q.where(recorded_by(t.c[time_col], as_of))
        return conn.execute(q).all()

    found: list[tuple[tuple[datetime, int, int], AnyEvent]] = []

    def add(t: datetime, row_id: int | None, event: AnyEvent) -> None:
        found.append(((as_utc(t), _ORDER[event.kind], row_id or 0), event))

    with engine.connect() as conn:
        entries = conn.execute(select(ledger.c.key, ledger.c.seq).where(ledger.c.code == code)).all()
        seqs: dict[str, int] = {e.key: e.seq for e in entries}
        for r in rows(reports, "recorded_at"):
            add(
                r.recorded_at,
                r.id,
                ReportEvent(
                    time=r.recorded_at,
                    period=r.period,
                    revision=r.revision,
                    correction=r.correction,
                    submitted_by=r.submitted_by,
                    source=r.source,
                    submission_id=r.submission_id,
                    figures=ReportFigures(**report_figures(r)),
                    ledger_seq=seqs.get(Keys.findings(r.submission_id)),
                ),
            )
        for f in rows(findings, "recorded_at"):
            add(
                f.recorded_at,
                f.id,
                FindingEvent(
                    time=f.recorded_at,
                    period=f.period,
                    revision=f.revision,
                    submission_id=f.submission_id,
                    **clause_finding_fields(f),
                    ledger_seq=seqs.get(Keys.findings(f.submission_id)),
                ),
            )
        for j in rows(rejections, "received_at"):
            add(
                j.received_at,
                j.id,
                RejectionEvent.model_validate(
                    dict(
                        time=j.received_at,
                        period=j.period,
                        source=j.source,
                        submitted_by=j.submitted_by,
                        problems=j.problems,
                        raw=j.raw,
                    )
                ),
            )
        for d in rows(decisions, "recorded_at"):
            add(
                d.recorded_at,
                d.id,
                DecisionEvent.model_validate(
                    dict(
                        time=d.recorded_at,
                        period=str(d.year),
                        round=d.round_id,
                        round_kind=d.kind,
                        grade=d.final_grade,
                        grade_zh=Grade.parse(d.final_grade).zh,
                        proposed_grade=d.proposed_grade,
                        score=d.score,
                        by=d.by,
                        reason=d.reason,
                        before=d.before,
                        effects=d.effects,
                        pack=PackRef(id=d.pack_id, version=d.pack_version, hash=d.pack_hash),
                        ledger_seq=seqs.get(Keys.decision(d.round_id, code)),
                    )
                ),
            )
        standing = None
        if as_of is not None:
            town = registry_row(conn, code)
            if town is not None:
                stood = as_it_stood(town, first_later_decisions(conn, as_of, only=code).get(code))
                standing = AsOfStanding.model_validate({k: stood[k] for k in AsOfStanding.model_fields})
    found.sort(key=lambda e: e[0])
    return TownHistory(code=code, events=[e for _, e in found], as_of=as_of, state=standing)
