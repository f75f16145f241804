"""Activities for monthly reports: evaluate with the rule pack, then record.

Both are idempotent: evaluation only reads, and recording keys every row on the
submission id, so a retried activity (or a re-delivered report) leaves one row.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel
from sqlalchemy import desc
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from ..models import ledger
from ..models.finding import Evaluation, FindingRow, MeasureRow
from ..models import pack_store
from ..models.ledger import ledger_lock
from ..models.period import year_month
from ..models.report import AcceptedReport, MonthlyReport
from ..models.town import TownProfile
from ..models.times import now_utc
from ..rules.monthly import evaluate_monthly
from ..rules.pack import load_pack


class EvaluateRequest(BaseModel):
    town: TownProfile
    report: AcceptedReport
    pack_id: str


class RecordRequest(BaseModel):
    report: AcceptedReport
    evaluation: Evaluation
    town: Optional[TownProfile] = None  # the profile evaluated against (kept in the ledger)


def last_year_tax(session: Session, code: str, period: str) -> Optional[float]:
    y, m = year_month(period)
    row = session.exec(
        select(MonthlyReport)
        .where(MonthlyReport.code == code, MonthlyReport.period == f"{y - 1:04d}-{m:02d}")
        .order_by(desc(MonthlyReport.revision))
    ).first()
    return row.tax if row else None


class ReportActivities:
    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name="evaluate_report")
    def evaluate_report(self, req: EvaluateRequest) -> Evaluation:
        sub = req.report.submission
        with Session(self.engine) as session:
            tax_ly = last_year_tax(session, sub.code, sub.period)
        return evaluate_monthly(req.town, sub.period, req.report.revision, sub.figures(), load_pack(req.pack_id), tax_ly)

    @activity.defn(name="record_report")
    def record_report(self, req: RecordRequest) -> int:
        """Store the report revision, its findings and measures in one transaction; returns the report row id."""
        sub, ev = req.report.submission, req.evaluation
        with ledger_lock(self.engine), Session(self.engine) as session:
            existing = session.exec(select(MonthlyReport).where(MonthlyReport.submission_id == sub.submission_id)).first()
            if existing:
                return existing.id
            recorded = now_utc()
            row = MonthlyReport(
                **sub.figures().model_dump(), code=sub.code, period=sub.period, revision=req.report.revision,
                correction=sub.correction, submitted_by=sub.submitted_by, source=sub.source,
                submission_id=sub.submission_id, received_at=req.report.received_at, recorded_at=recorded,
                raw=sub.model_dump(mode="json"),
            )
            session.add(row)
            for f in ev.findings:
                session.add(FindingRow(
                    key=f"{sub.submission_id}/{f.rule}", submission_id=sub.submission_id, code=sub.code,
                    period=sub.period, revision=req.report.revision, rule=f.rule, clause=f.clause, passed=f.passed,
                    value=f.value, threshold=f.threshold, inputs=f.inputs, reason_zh=f.reason_zh,
                    reason_en=f.reason_en, pack_id=ev.pack.id, pack_version=ev.pack.version,
                    pack_hash=ev.pack.hash, recorded_at=recorded,
                ))
            for m in ev.measures:
                session.add(MeasureRow(
                    key=f"{sub.submission_id}/{m.name}", code=sub.code, period=sub.period,
                    revision=req.report.revision, name=m.name, clause=m.clause, value=m.value,
                    inputs=m.inputs, note=m.note, recorded_at=recorded,
                ))
            current = load_pack(ev.pack.id)
            if current.hash == ev.pack.hash:  # keep the text of the pack this finding set used
                pack_store.remember(session, current)
            failed = [f.rule for f in ev.findings if not f.passed]
            info = activity.info() if activity.in_activity() else None
            tax_ly = next((m.inputs.get("tax_same_period_last_year") for m in ev.measures if m.name == "tax_growth"),
                          None)
            ledger.append(
                session, kind="findings", key=f"findings:{sub.submission_id}", code=sub.code, period=sub.period,
                actor=sub.submitted_by, actor_role="reporter",
                outcome=f"{len(ev.findings) - len(failed)} passed, {len(failed)} failed"
                        + (f" ({', '.join(failed)})" if failed else ""),
                pack=ev.pack.model_dump(),
                inputs={"town": req.town.model_dump(mode="json") if req.town else None,
                        "figures": sub.figures().model_dump(mode="json"), "revision": req.report.revision,
                        "tax_last_year": tax_ly, "submission_id": sub.submission_id, "source": sub.source,
                        "correction": sub.correction},
                findings=[f.model_dump(mode="json") for f in ev.findings],
                workflow={"id": info.workflow_id, "run_id": info.workflow_run_id} if info else None,
                event_time=ledger.utc_iso(req.report.received_at),
                extra={"measures": [m.model_dump(mode="json") for m in ev.measures]})
            try:
                session.commit()
            except IntegrityError:
                # a concurrent attempt of the same activity got there first
                session.rollback()
                existing = session.exec(select(MonthlyReport).where(MonthlyReport.submission_id == sub.submission_id)).first()
                if existing is None:
                    raise
                return existing.id
            session.refresh(row)
            return row.id
