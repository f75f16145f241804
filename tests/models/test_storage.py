"""Storage on SQLite and PostgreSQL: reports, findings, quarantine, history."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from tests.factories import report, town
from towns.activities.reports import Reports
from towns.models.activities import EvaluateRequest, RecordRequest
from towns.models.finding import FindingRow, MeasureRow
from towns.models.report import AcceptedReport, MonthlyReport
from towns.models.town import Town
from towns.queries import history, town_status

pytestmark = pytest.mark.storage  # the database is the point here: both SQLite and PostgreSQL


def accepted(sub, revision=1):
    return AcceptedReport(submission=sub, revision=revision, received_at=datetime.now(UTC))


def register(engine, **over):
    t = town(**over)
    with Session(engine) as s:
        s.add(Town(**t.model_dump(mode="json"), registered_at=datetime.now(UTC)))
        s.commit()
    return t


def test_record_is_idempotent_under_retries(engine):
    acts = Reports(engine)
    t = register(engine)
    rep = accepted(report(period="2018-06", fai=5.0, industry_fai=4.0, nongov_fai=4.5))
    ev = acts.evaluate_report(EvaluateRequest(town=t, report=rep, pack_id="sx2018"))
    first = acts.record_report(RecordRequest(report=rep, evaluation=ev))
    again = acts.record_report(RecordRequest(report=rep, evaluation=ev))
    assert first == again
    with Session(engine) as s:
        assert len(s.exec(select(MonthlyReport)).all()) == 1
        assert len(s.exec(select(FindingRow)).all()) == 3
        assert len(s.exec(select(MeasureRow)).all()) == 1


def test_tax_growth_uses_last_years_latest_revision(engine):
    acts = Reports(engine)
    t = register(engine)
    for rev, tax in ((1, 2.0), (2, 1.0)):  # last year's June, corrected down to 1.0
        sub = report(period="2017-06", tax=tax, correction=rev > 1, submission_id=f"ly{rev}")
        ev = acts.evaluate_report(EvaluateRequest(town=t, report=accepted(sub, rev), pack_id="sx2018"))
        acts.record_report(RecordRequest(report=accepted(sub, rev), evaluation=ev))
    ev = acts.evaluate_report(
        EvaluateRequest(town=t, report=accepted(report(period="2018-06", tax=1.5)), pack_id="sx2018")
    )
    growth = next(m for m in ev.measures if m.name == "tax_growth")
    assert growth.value == 0.5 and growth.inputs["tax_same_period_last_year"] == 1.0


def test_history_and_status_read_back(engine):
    acts = Reports(engine)
    t = register(engine)
    for period, fai in (("2018-01", 0.5), ("2018-02", 3.0)):
        rep = accepted(report(period=period, fai=fai, industry_fai=fai * 0.8, nongov_fai=fai * 0.9))
        acts.record_report(
            RecordRequest(
                report=rep, evaluation=acts.evaluate_report(EvaluateRequest(town=t, report=rep, pack_id="sx2018"))
            )
        )
    h = history(engine, t.code)
    kinds = [e.kind for e in h.events]
    assert kinds == ["report", "finding", "finding", "finding"] * 2
    assert [e.period for e in h.events if e.kind == "report"] == ["2018-01", "2018-02"]
    jan_pace = next(
        e for e in h.events if e.kind == "finding" and e.period == "2018-01" and e.rule == "pace-provincial"
    )
    assert jan_pace.passed is False and jan_pace.clause == "SX2018-G3" and jan_pace.clause_zh
    with Session(engine) as s:
        st = town_status(engine, s.get(Town, t.code))
    assert st.last_period == "2018-02" and st.failed == [] and st.tier == "provincial_creation"


def test_a_fresh_database_takes_a_batch_of_months_and_stores_its_pack_once(engine):
    """The first file ever, several months of one town in one batch: every month is recorded and the
    text of each pack used stored once (a month under a pack already added in the same transaction
    used to add it again, and the batch failed on the pack's key, attempt after attempt); taken
    again, nothing is added."""
    from towns.models.activities import TakeRequest
    from towns.models.ledger import LedgerEntry
    from towns.models.pack_store import StoredPack, _seen_stored

    _seen_stored.pop(engine, None)  # as a new worker process: nothing known to be stored
    t = register(engine, code="SX-FRESH")

    def month(m, fai, revision=1):
        sub = report(code=t.code, period=f"2018-0{m}", fai=fai, industry_fai=0.8 * fai, nongov_fai=0.9 * fai)
        return accepted(
            sub.model_copy(update={"correction": revision > 1, "submission_id": f"f:{m}:{revision}"}), revision
        )

    # February twice (a row and its correction in one file): two findings sets under one pack
    months = [month(1, 1.0), month(2, 2.0), month(2, 2.5, revision=2)]
    req = TakeRequest(town=t, pack_id="sx2018", reports=months)
    first = Reports(engine)._take(req)
    assert [(r.period, r.revision) for r in first.recorded] == [("2018-01", 1), ("2018-02", 1), ("2018-02", 2)]
    _seen_stored.pop(engine, None)
    assert Reports(engine)._take(req) == first  # a retried attempt: answered from what is stored
    with Session(engine) as s:
        used = [f.pack_hash for f in s.exec(select(FindingRow).where(FindingRow.code == t.code)).all()]
        assert sorted(p.hash for p in s.exec(select(StoredPack)).all()) == sorted(set(used))
        assert len(s.exec(select(MonthlyReport).where(MonthlyReport.code == t.code)).all()) == 3
        assert len(s.exec(select(LedgerEntry).where(LedgerEntry.code == t.code)).all()) == 3
