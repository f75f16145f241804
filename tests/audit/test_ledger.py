"""The ledger: verify catches any single altered, removed or swapped row; replay agrees;
the PostgreSQL trigger refuses UPDATE and DELETE."""

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from tests.office import Office
from towns.audit.replay import replay
from towns.audit.verify import verify
from towns.models.ledger import LedgerEntry
from towns.models.round import Override

pytestmark = pytest.mark.storage  # the database is the point here: both SQLite and PostgreSQL


@pytest.fixture
async def scenario(env, engine, worker):
    """Two towns over three years: reports, annual rounds with an override, an acceptance."""
    office = Office(env, engine, worker)
    steady = await office.register("LS", listed_year=2016)
    slow = await office.register("LW", listed_year=2016)
    for year in (2016, 2017, 2018):
        await office.december(steady, year, fai=20, tax=1.0 + 0.3 * (year - 2016))
        await office.december(slow, year, fai=5 if year < 2018 else 18, tax=1.0)
        overrides = [Override(code=slow, grade="pass", reason="核实后调整")] if year == 2018 else []
        await office.round("annual", year, city_tax_growth=0.0, overrides=overrides)
    await office.round("acceptance", 2018)
    return office, steady, slow


def tamper(engine, sql, **params):
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only"))
        conn.execute(text(sql), params)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ledger ENABLE TRIGGER ledger_append_only"))


def entries(engine):
    with Session(engine) as s:
        return s.exec(select(LedgerEntry).order_by(LedgerEntry.seq)).all()


async def test_intact_ledger_verifies_and_replays(scenario, engine):
    report = verify(engine)
    assert report.ok, report.problems
    kinds = {e.kind for e in entries(engine)}
    assert kinds == {"findings", "context", "proposal", "approval", "override", "decision"}
    results = replay(engine)
    assert results and all(r.same for r in results), [r for r in results if not r.same]
    assert {r.kind for r in results} == {"findings", "proposal", "decision"}


async def test_altered_entry_is_named(scenario, engine):
    e = next(x for x in entries(engine) if x.kind == "decision")
    body = json.loads(e.body)
    body["outcome"] = "excellent"
    tamper(engine, "UPDATE ledger SET body = :b WHERE seq = :s", b=json.dumps(body), s=e.seq)
    report = verify(engine)
    assert not report.ok
    assert report.problems[0].where == f"ledger seq {e.seq}" and "content altered" in report.problems[0].what


async def test_removed_entry_is_caught(scenario, engine):
    middle = entries(engine)[3]
    tamper(engine, "DELETE FROM ledger WHERE seq = :s", s=middle.seq)
    first = verify(engine).problems[0]
    assert first.where == f"ledger seq {middle.seq + 1}" and "removed" in first.what


async def test_removed_newest_entry_is_caught(scenario, engine):
    last = entries(engine)[-1]
    tamper(engine, "DELETE FROM ledger WHERE seq = :s", s=last.seq)
    problems = verify(engine).problems
    assert any(p.where == "ledger head" and "newest entries were removed" in p.what for p in problems)


async def test_swapped_entries_are_caught(scenario, engine):
    a, b = entries(engine)[1:3]
    tamper(engine, "UPDATE ledger SET body = :b, hash = :h WHERE seq = :s", b=b.body, h=b.hash, s=a.seq)
    tamper(engine, "UPDATE ledger SET body = :b, hash = :h WHERE seq = :s", b=a.body, h=a.hash, s=b.seq)
    first = verify(engine).problems[0]
    assert first.where == f"ledger seq {a.seq}"


async def test_edited_decision_row_is_named(scenario, engine):
    _office, _steady, slow = scenario
    tamper(
        engine,
        "UPDATE decisions SET final_grade = 'excellent' WHERE code = :c AND kind = 'annual' AND year = 2018",
        c=slow,
    )
    problems = verify(engine).problems
    assert len(problems) == 1
    assert problems[0].where.startswith("decisions row") and slow in problems[0].where
    assert "final_grade is 'excellent'" in problems[0].what and "'pass'" in problems[0].what


async def test_replay_reports_a_difference(scenario, engine):
    e = next(x for x in entries(engine) if x.kind == "proposal" and x.outcome == "warning")
    body = json.loads(e.body)
    body["inputs"]["record"]["december"][str(body["inputs"]["year"])]["fai"] = 30.0
    tamper(engine, "UPDATE ledger SET body = :b WHERE seq = :s", b=json.dumps(body), s=e.seq)
    (result,) = replay(engine, seq=e.seq)
    assert not result.same and any("proposed grade recorded 'warning'" in d for d in result.differences)


@pytest.mark.parametrize("sql", ["UPDATE ledger SET outcome = 'x'", "DELETE FROM ledger"])
def test_postgresql_trigger_refuses_update_and_delete(pg_url, sql):
    from towns.models import ledger
    from towns.models.db import install_guards, make_engine

    eng = make_engine(pg_url)
    install_guards(eng)
    with Session(eng) as s:
        ledger.append(s, kind="approval", key=f"trigger-test:{sql}", actor="tester", outcome="test")
        s.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with eng.begin() as conn:
            conn.execute(text(sql))
    with Session(eng) as s:
        assert s.exec(select(LedgerEntry).where(LedgerEntry.key == f"trigger-test:{sql}")).first() is not None
    eng.dispose()
