"""Activities of the quarterly evaluation and of report supervision:
publish a quarter's bulletin (once), record an overdue report, record a late one.

``publish_bulletin`` refuses a quarter that has not ended, whose last month's reports are not
yet due, or in which no town was on a creation list, with a non-retryable ``ApplicationError`` of type ``BulletinRefused`` (a
retry would not change the answer) and stores nothing. "Now" is the Temporal server's time
when the attempt was scheduled (``activity.info().current_attempt_scheduled_time``, in
Beijing time), the same clock as the workflow's ``workflow.now()`` that picks the quarter
just ended for the schedule; on a real server it is the wall clock, on the time-skipping
test server the skipped time. Its date is the bulletin's issue date, and only that: the
content is as of the quarter (``compute_bulletin``), so publishing later gives the same
bulletin but for the date it was issued on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ..bulletin.compute import (
    BulletinRefused,
    QuarterError,
    beijing_today,
    compute_bulletin,
    parse_quarter,
    quarter_end,
)
from ..models import ledger
from ..models.activities import BulletinActivities, PublishRequest, PublishResult, SupervisionRequest
from ..models.bulletin import BulletinRow
from ..models.finding import FindingRow
from ..models.ledger import Keys, ledger_lock
from ..rules.library import load_pack_for_period, load_programme
from ..rules.pack import RulePack
from .support import deterministic, workflow_ref


def _result(row: BulletinRow, new: bool) -> PublishResult:
    c = row.content
    return PublishResult(
        quarter=row.quarter,
        published_at=row.published_at,
        published_by=row.published_by,
        new=new,
        towns=len(c["towns"]),
        behind_schedule=sum(t["behind_schedule"] for t in c["towns"]),
        early_warnings=len(c["early_warnings"]),
        missing_reports=len(c["missing_reports"]),
    )


def bulletin_pack(engine: Engine, pack_id: str, year: int, q: int) -> RulePack:
    """The programme as in force on the quarter's last day."""
    return load_programme(engine, pack_id, quarter_end(year, q) - timedelta(days=1))


class Bulletins(BulletinActivities):
    """The bulletin and supervision activities, on the database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name="publish_bulletin")
    @deterministic
    def publish_bulletin(self, req: PublishRequest) -> PublishResult:
        """Compute and store the quarter's bulletin, unless it was published already (then: that one).
        A quarter not ended yet, or without a town on a list, is refused: nothing is stored."""
        try:
            year, q = parse_quarter(req.quarter)
        except QuarterError as exc:  # retrying will not mend it
            raise ApplicationError(str(exc), type="BulletinRefused", non_retryable=True) from None
        quarter = f"{year}Q{q}"
        with Session(self.engine) as s:
            existing = s.get(BulletinRow, (quarter, req.pack_id))
            if existing is not None:
                return _result(existing, new=False)
        pack = bulletin_pack(self.engine, req.pack_id, year, q)
        info = activity.info() if activity.in_activity() else None
        issued_on = beijing_today(info.current_attempt_scheduled_time if info else None)
        try:
            bulletin = compute_bulletin(self.engine, quarter, pack, issued_on=issued_on)
        except BulletinRefused as exc:
            raise ApplicationError(str(exc), type="BulletinRefused", non_retryable=True) from None
        row = BulletinRow(
            quarter=quarter,
            programme=req.pack_id,
            content=bulletin.model_dump(mode="json"),
            pack_hash=pack.hash,
            published_at=datetime.now(UTC),
            published_by=req.by,
            workflow_id=(info.workflow_id if info else None) or "",  # "" outside a workflow
        )
        with Session(self.engine) as s:
            if s.get(BulletinRow, (quarter, req.pack_id)) is None:  # first writer wins
                s.add(row)
                s.commit()
            stored = s.get(BulletinRow, (quarter, req.pack_id))
            assert stored is not None  # this attempt's row, or the first writer's
            return _result(
                stored, new=stored.workflow_id == row.workflow_id and stored.published_at == row.published_at
            )

    def _supervision(self, req: SupervisionRequest, words: Supervision) -> None:
        with ledger_lock(self.engine), Session(self.engine) as s:
            add_supervision(s, req, words, workflow_ref())
            s.commit()

    @activity.defn(name="record_overdue")
    @deterministic
    def record_overdue(self, req: SupervisionRequest) -> None:
        self._supervision(req, overdue_words(req))

    @activity.defn(name="record_late")
    @deterministic
    def record_late(self, req: SupervisionRequest) -> None:
        self._supervision(req, late_words(req))


# ---------------------------------------------------------------- report supervision


class Supervision(BaseModel):
    """A finding about a report's timeliness: what it says, in both languages."""

    rule: str
    passed: bool
    en: str
    zh: str
    inputs: dict


def overdue_words(req: SupervisionRequest) -> Supervision:
    return Supervision(
        rule="report-overdue",
        passed=False,
        en=f"the report for {req.period} was due on {req.due} and has not arrived",
        zh=f"{req.period} 月报应于 {req.due} 前报送，至今未报",
        inputs={"due": req.due},
    )


def late_words(req: SupervisionRequest) -> Supervision:
    received = ledger.utc_iso(req.received_at)
    return Supervision(
        rule="report-late",
        passed=True,
        en=f"the report for {req.period}, due on {req.due}, arrived late on {received[:10]}; the overdue item is closed",
        zh=f"{req.period} 月报（应于 {req.due} 前报送）已于 {received[:10]} 补报，逾期事项关闭",
        inputs={"due": req.due, "received_at": received},
    )


def add_supervision(s: Session, req: SupervisionRequest, w: Supervision, workflow: dict | None) -> None:
    """Record the finding and its ledger entry in the caller's transaction (idempotent on its key)."""
    pack = load_pack_for_period(req.pack_id, req.period, s.get_bind().engine)
    clause = pack.programme.calendar_clause  # monthly statistics are due by the programme's calendar
    sid = Keys.supervision(w.rule, req.code, req.period)
    if s.exec(select(FindingRow).where(FindingRow.key == sid)).first() is not None:
        return
    s.add(
        FindingRow(
            key=sid,
            submission_id=sid,
            code=req.code,
            period=req.period,
            revision=0,
            rule=w.rule,
            clause=clause,
            passed=w.passed,
            inputs=w.inputs,
            reason_en=w.en,
            reason_zh=w.zh,
            pack_id=pack.pack.id,
            pack_version=pack.pack.version,
            pack_hash=pack.hash,
            recorded_at=datetime.now(UTC),
        )
    )
    ledger.append(
        s,
        kind="supervision",
        key=Keys.findings(sid),
        code=req.code,
        period=req.period,
        outcome=w.rule,
        pack=pack.ref.model_dump(),
        inputs=w.inputs,
        findings=[
            {
                "rule": w.rule,
                "clause": clause,
                "passed": w.passed,
                "value": None,
                "threshold": None,
                "reason_en": w.en,
                "reason_zh": w.zh,
                "inputs": w.inputs,
            }
        ],
        workflow=workflow,
    )
