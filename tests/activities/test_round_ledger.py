"""A round's city context is recorded once; each proposal refers to it by hash, so the ledger
grows by the same bytes per proposal whatever the number of towns, and the proposals still
replay from what the ledger holds."""

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from tests.factories import report, town
from towns.activities.reports import Reports
from towns.activities.rounds import Rounds
from towns.audit.replay import replay
from towns.audit.verify import verify
from towns.models.activities import BatchRequest, PrepareRequest, TakeRequest
from towns.models.ledger import Keys, LedgerEntry
from towns.models.report import AcceptedReport
from towns.models.round import RoundKind
from towns.models.town import Town

DISTRICTS = ["yuecheng", "keqiao", "shangyu", "zhuji", "shengzhou", "xinchang"]


def seed(engine, n: int) -> list[str]:
    codes = []
    with Session(engine) as s:
        for i in range(n):
            p = town(code=f"SX-B{i:03d}", name=f"镇{i}", district=DISTRICTS[i % len(DISTRICTS)])
            s.add(Town(**p.model_dump(mode="json"), registered_at=datetime.now(UTC), registered_by="test"))
            codes.append(p.code)
        s.commit()
    reports = Reports(engine)
    for i, code in enumerate(codes):
        p = town(code=code, name=f"镇{i}", district=DISTRICTS[i % len(DISTRICTS)])
        sub = report("2018-12", code=code, fai=12.0 + i % 7, tax=1.0 + i % 3, high_tech_enterprises=i % 5)
        reports.take_reports(
            TakeRequest(
                town=p,
                pack_id="sx2018",
                reports=[AcceptedReport(submission=sub, revision=1, received_at=datetime.now(UTC))],
            )
        )
    return codes


def run_round(engine, round_id: str) -> list[LedgerEntry]:
    rounds = Rounds(engine)
    plan = rounds.prepare_round(
        PrepareRequest(
            round_id=round_id,
            kind=RoundKind.annual,
            year=2018,
            pack_id="sx2018",
            city_tax_growth=0.05,
            started_by="王主任",
        )
    )
    assert plan.context is None and plan.context_hash  # the context stays in the ledger, not in the history
    for i in range(0, len(plan.codes), 7):
        rounds.evaluate_round_batch(
            BatchRequest(
                round_id=round_id,
                kind=RoundKind.annual,
                year=2018,
                pack_id="sx2018",
                pack_hash=plan.pack.hash,
                codes=plan.codes[i : i + 7],
                context_hash=plan.context_hash,
            )
        )
    with Session(engine) as s:
        return list(s.exec(select(LedgerEntry).where(LedgerEntry.round_id == round_id)).all())


def test_the_context_is_recorded_once_and_proposals_refer_to_it(engine):
    seed(engine, 40)
    entries = run_round(engine, "round-2018-annual")
    assert sum(e.kind == "context" for e in entries) == 1
    assert sum(e.kind == "proposal" for e in entries) == 40
    context = next(e for e in entries if e.kind == "context")
    assert len(json.loads(context.body)["inputs"]["innovation_scores"]) == 40
    for e in entries:
        if e.kind == "proposal":
            inputs = json.loads(e.body)["inputs"]
            assert "context" not in inputs
            assert inputs["context_ref"] == {
                "key": Keys.context("round-2018-annual"),
                "hash": json.loads(context.body)["inputs_hash"],
            }


def set_state(engine, codes: list[str], state: str) -> None:
    with Session(engine) as s:
        for code in codes:
            t = s.get(Town, code)
            t.state = state
            s.add(t)
        s.commit()


def test_bytes_per_proposal_at_n_and_at_4n(engine):
    codes = seed(engine, 32)
    set_state(engine, codes[8:], "eliminated")  # a round of 8 towns: the others leave its scope
    small = run_round(engine, "round-one")
    set_state(engine, codes[8:], "creating")
    big = run_round(engine, "round-two")
    assert sum(e.kind == "proposal" for e in small) == 8 and sum(e.kind == "proposal" for e in big) == 32
    per_small = sum(len(e.body) for e in small if e.kind == "proposal") / 8
    per_big = sum(len(e.body) for e in big if e.kind == "proposal") / 32
    assert abs(per_big - per_small) < 0.02 * per_small, (per_small, per_big)


def test_proposals_replay_from_the_referenced_context_and_an_altered_one_is_named(engine):
    seed(engine, 10)
    run_round(engine, "round-2018-annual")
    results = replay(engine, round_id="round-2018-annual")
    assert [r.kind for r in results].count("proposal") == 10 and all(r.same for r in results)
    assert verify(engine).ok
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
        row = conn.exec_driver_sql("SELECT seq, body FROM ledger WHERE kind = 'context'").one()
        body = json.loads(row[1])
        body["inputs"]["city_tax_growth"] = 0.5
        conn.exec_driver_sql(
            "UPDATE ledger SET body = %s WHERE seq = %s"
            if engine.dialect.name == "postgresql"
            else "UPDATE ledger SET body = ? WHERE seq = ?",
            (json.dumps(body), row[0]),
        )
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE ledger ENABLE TRIGGER ledger_append_only")
    results = replay(engine, round_id="round-2018-annual")
    proposals = [r for r in results if r.kind == "proposal"]
    assert proposals and all(not r.same and any("altered" in d for d in r.differences) for r in proposals)
    assert not verify(engine).ok
