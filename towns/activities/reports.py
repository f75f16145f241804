"""Activities for monthly reports.

``take_reports`` is what a town workflow runs for a file's rows of one town: it evaluates
the rows the workflow accepted under the rule pack, and records them (revision, findings,
measures, ledger entry), the rows it refused (the quarantine, raw) and the late reports
that close an overdue item — all in one transaction, so a row is either wholly recorded
or not at all. It is idempotent: a retried attempt finds its rows by submission id (or
quarantine key) and answers from what is stored.

``evaluate_report`` and ``record_report`` are the one-report activities of earlier
builds, kept registered for workflow runs that started with them.
"""

from __future__ import annotations

import json

from sqlalchemy import desc, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from ..models import ledger, pack_store
from ..models.activities import EvaluateRequest, Recorded, RecordRequest, ReportActivities, TakeRequest, TakeResult
from ..models.finding import Evaluation, Finding, FindingRow, Measure, MeasureRow, PackRef
from ..models.ledger import Keys, LedgerEntry, ledger_lock
from ..models.period import year_month
from ..models.rejection import Rejection, rejection_row
from ..models.report import AcceptedReport, MonthlyReport
from ..models.tables import table
from ..models.times import now_utc
from ..models.town import TownProfile
from ..rules.library import load_pack_for_period
from ..rules.monthly import evaluate_monthly
from ..rules.pack import RulePack
from .bulletins import add_supervision, late_words
from .support import deterministic, heartbeating, workflow_ref

REPORTS, FINDINGS, MEASURES = table(MonthlyReport), table(FindingRow), table(MeasureRow)


def last_year_tax(session: Session, code: str, period: str) -> float | None:
    y, m = year_month(period)
    row = session.exec(
        select(MonthlyReport)
        .where(MonthlyReport.code == code, MonthlyReport.period == f"{y - 1:04d}-{m:02d}")
        .order_by(desc(col(MonthlyReport.revision)))
    ).first()
    return row.tax if row else None


def add_report(
    session: Session, rep: AcceptedReport, ev: Evaluation, town: TownProfile | None, pack: RulePack | None = None
) -> int:
    """The report revision, its findings and measures and its ledger entry, in the caller's
    transaction; returns the report row's id. Core statements on the session's connection (an
    ORM object per row cost more than the rules)."""
    sub = rep.submission
    recorded = now_utc()
    conn = session.connection()
    inserted = conn.execute(
        insert(REPORTS),
        {
            **sub.figures().model_dump(),
            "code": sub.code,
            "period": sub.period,
            "revision": rep.revision,
            "correction": sub.correction,
            "submitted_by": sub.submitted_by,
            "source": sub.source,
            "submission_id": sub.submission_id,
            "received_at": rep.received_at,
            "recorded_at": recorded,
            "raw": sub.model_dump(mode="json"),
        },
    )
    findings = [
        dict(
            key=f"{sub.submission_id}/{f.rule}",
            submission_id=sub.submission_id,
            code=sub.code,
            period=sub.period,
            revision=rep.revision,
            rule=f.rule,
            clause=f.clause,
            passed=f.passed,
            value=f.value,
            threshold=f.threshold,
            inputs=f.inputs,
            reason_zh=f.reason_zh,
            reason_en=f.reason_en,
            pack_id=ev.pack.id,
            pack_version=ev.pack.version,
            pack_hash=ev.pack.hash,
            recorded_at=recorded,
        )
        for f in ev.findings
    ]
    if findings:
        conn.execute(insert(FINDINGS), findings)
    measures = [
        dict(
            key=f"{sub.submission_id}/{m.name}",
            code=sub.code,
            period=sub.period,
            revision=rep.revision,
            name=m.name,
            clause=m.clause,
            value=m.value,
            inputs=m.inputs,
            note=m.note,
            recorded_at=recorded,
        )
        for m in ev.measures
    ]
    if measures:
        conn.execute(insert(MEASURES), measures)
    current = pack if pack is not None else load_pack_for_period(ev.pack.id, ev.period)
    if current.hash == ev.pack.hash:  # keep the text of the pack this finding set used
        pack_store.remember(session, current)
    failed = [f.rule for f in ev.findings if not f.passed]
    tax_ly = next((m.inputs.get("tax_same_period_last_year") for m in ev.measures if m.name == "tax_growth"), None)
    ledger.append(
        session,
        fresh=True,  # the report row just inserted holds the submission id the key is made from
        kind="findings",
        key=Keys.findings(sub.submission_id),
        code=sub.code,
        period=sub.period,
        actor=sub.submitted_by,
        actor_role=sub.submitted_role,
        outcome=f"{len(ev.findings) - len(failed)} passed, {len(failed)} failed"
        + (f" ({', '.join(failed)})" if failed else ""),
        pack=ev.pack.model_dump(),
        inputs={
            "town": town.model_dump(mode="json") if town else None,
            "figures": sub.figures().model_dump(mode="json"),
            "revision": rep.revision,
            "tax_last_year": tax_ly,
            "submission_id": sub.submission_id,
            "source": sub.source,
            "correction": sub.correction,
        },
        findings=[f.model_dump(mode="json") for f in ev.findings],
        workflow=workflow_ref(),
        event_time=ledger.utc_iso(rep.received_at),
        extra={"measures": [m.model_dump(mode="json") for m in ev.measures]},
    )
    key = inserted.inserted_primary_key
    assert key is not None  # an insert of one row has its key
    return int(key[0])


def stored_evaluation(session: Session, submission_id: str) -> Evaluation | None:
    """The evaluation of a recorded report, as its ledger entry keeps it."""
    entry = session.exec(select(LedgerEntry).where(LedgerEntry.key == Keys.findings(submission_id))).first()
    if entry is None:
        return None
    body = json.loads(entry.body)
    return Evaluation(
        code=body["code"],
        period=body["period"],
        revision=body["inputs"]["revision"],
        pack=PackRef.model_validate(body["pack"]),
        findings=[Finding.model_validate(f) for f in body.get("findings") or []],
        measures=[Measure.model_validate(m) for m in body.get("measures") or []],
    )


def _answer(evaluations: list[Evaluation], ids: list[str], want_all: bool) -> TakeResult:
    recorded = [
        Recorded(
            submission_id=sid,
            period=ev.period,
            revision=ev.revision,
            failed=[f.rule for f in ev.findings if not f.passed],
        )
        for sid, ev in zip(ids, evaluations, strict=False)
    ]
    latest = max(evaluations, key=lambda e: (e.period, e.revision), default=None)
    return TakeResult(recorded=recorded, latest=latest, evaluations=evaluations if want_all else [])


class Reports(ReportActivities):
    """The report activities, on the database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @activity.defn(name="take_reports")
    @deterministic
    def take_reports(self, req: TakeRequest) -> TakeResult:
        """Evaluate and record a town's accepted rows, quarantine its refused rows, close overdue items."""
        with heartbeating():
            return self._take(req)

    def _take(self, req: TakeRequest) -> TakeResult:
        """One session, one connection: the reads (last year's taxes, the packs installed), the
        evaluation, then the writes in one transaction under the ledger lock. A retried attempt
        whose transaction committed is found by the report rows' unique submission ids when it
        writes (it is answered from what is stored), not looked up before: one statement less
        for every report."""
        ids = [r.submission.submission_id for r in req.reports]
        with Session(self.engine) as s:
            conn = s.connection()
            taxes = self._last_year_taxes(conn, req)
            batch_tax: dict[str, float | None] = {}
            evaluations = []
            for rep in req.reports:  # in file order: a January in the batch serves the next January
                sub = rep.submission
                y, m = year_month(sub.period)
                before = f"{y - 1:04d}-{m:02d}"
                tax_ly = batch_tax[before] if before in batch_tax else taxes.get(before)
                pack = load_pack_for_period(req.pack_id, sub.period, conn)
                evaluations.append(
                    (evaluate_monthly(req.town, sub.period, rep.revision, sub.figures(), pack, tax_ly), pack)
                )
                batch_tax[sub.period] = sub.tax
            if self.engine.dialect.name == "sqlite":
                # the reads' transaction ends here: SQLite (WAL) cannot turn a read snapshot into a write
                # once another writer has committed, and the writers queue for the lock below
                s.rollback()
            try:
                with ledger_lock(self.engine):
                    for rep, (ev, used) in zip(req.reports, evaluations, strict=True):
                        add_report(s, rep, ev, req.town, used)
                    for r in req.refused:
                        if s.exec(select(Rejection.id).where(Rejection.key == r.key)).first() is None:
                            s.add(
                                rejection_row(
                                    "report",
                                    key=r.key,
                                    code=r.code,
                                    period=r.period,
                                    source=r.source,
                                    by=r.submitted_by,
                                    raw=r.raw,
                                    problems=r.problems,
                                )
                            )
                    workflow = workflow_ref()
                    for late in req.late:
                        add_supervision(s, late, late_words(late), workflow)
                    s.commit()
                pack_store.stored(self.engine, [used for _, used in evaluations])
            except IntegrityError:
                s.rollback()
                done = self._stored(s, ids, req)
                if done is None:
                    raise ApplicationError(
                        f"town {req.town.code}: the database already holds other revisions of "
                        f"{sorted({r.submission.period for r in req.reports})} than the town's workflow knows; "
                        "its records and the database are out of step (was the database restored or replaced?)",
                        type="OutOfStep",
                        non_retryable=True,
                    ) from None
                return done
        return _answer([ev for ev, _ in evaluations], ids, req.evaluations)

    def _stored(self, s: Session, ids: list[str], req: TakeRequest) -> TakeResult | None:
        """The answer from the database when this batch is recorded already, else None."""
        conn = s.connection()
        if ids:
            found = conn.execute(select(REPORTS.c.submission_id).where(REPORTS.c.submission_id.in_(ids))).all()
            if len({sid for (sid,) in found}) < len(ids):
                return None
        elif req.refused:
            keys = [r.key for r in req.refused]
            if len(s.exec(select(Rejection.key).where(col(Rejection.key).in_(keys))).all()) < len(keys):
                return None
        else:
            return None
        evaluations = [stored_evaluation(s, sid) for sid in ids]
        return _answer([e for e in evaluations if e is not None], ids, req.evaluations)

    @staticmethod
    def _last_year_taxes(conn: Connection, req: TakeRequest) -> dict[str, float | None]:
        """Tax of the same month last year (latest revision), for every month of the batch, in one query."""
        wanted = set()
        for rep in req.reports:
            y, m = year_month(rep.submission.period)
            wanted.add(f"{y - 1:04d}-{m:02d}")
        latest: dict[str, tuple[int, float | None]] = {}
        if wanted:
            rows = conn.execute(
                select(REPORTS.c.period, REPORTS.c.revision, REPORTS.c.tax).where(
                    REPORTS.c.code == req.town.code, REPORTS.c.period.in_(sorted(wanted))
                )
            ).all()
            for period, revision, tax in rows:
                if period not in latest or revision > latest[period][0]:
                    latest[period] = (revision, tax)
        return {p: tax for p, (_, tax) in latest.items()}

    # ---------------------------------------------------------------- one report at a time (earlier builds)

    @activity.defn(name="evaluate_report")
    @deterministic
    def evaluate_report(self, req: EvaluateRequest) -> Evaluation:
        sub = req.report.submission
        with Session(self.engine) as session:
            tax_ly = last_year_tax(session, sub.code, sub.period)
        return evaluate_monthly(
            req.town,
            sub.period,
            req.report.revision,
            sub.figures(),
            load_pack_for_period(req.pack_id, sub.period, self.engine),
            tax_ly,
        )

    @activity.defn(name="record_report")
    @deterministic
    def record_report(self, req: RecordRequest) -> int:
        """Store the report revision, its findings and measures in one transaction; returns the report row id."""
        sub = req.report.submission
        with ledger_lock(self.engine), Session(self.engine) as session:
            existing = session.exec(
                select(MonthlyReport).where(MonthlyReport.submission_id == sub.submission_id)
            ).first()
            if existing:
                assert existing.id is not None  # a stored row has its id
                return existing.id
            row_id = add_report(session, req.report, req.evaluation, req.town)
            try:
                session.commit()
            except IntegrityError:
                # a concurrent attempt of the same activity got there first
                session.rollback()
                existing = session.exec(
                    select(MonthlyReport).where(MonthlyReport.submission_id == sub.submission_id)
                ).first()
                if existing is None:
                    raise
                assert existing.id is not None  # a stored row has its id
                return existing.id
            return row_id
