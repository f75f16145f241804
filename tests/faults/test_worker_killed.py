"""A worker killed (SIGKILL) in the middle of an annual round's evaluation, and again in the
middle of its apply; a new worker takes over. The round completes within a minute, each town
has exactly one applied decision, and the ledger verifies."""

import asyncio

from sqlmodel import Session, select

from tests.faults.conftest import TASK_QUEUE, client_of, prepared, until
from towns.audit.verify import verify
from towns.intake.service import register_town, submit_batch
from towns.models.report import ReportBatch, ReportRow, ReportSubmission
from towns.models.round import Approval, DecisionRow, ProposalRow, RoundKind, RoundRow
from towns.models.town import TownProfile
from towns.models.workflows import RoundStart, RoundView, workflow_id
from towns.workflows.round import RoundWorkflow
from towns.workflows.town import TownWorkflow

TOWNS = 12


async def load(client, engine, prefix: str, n: int = TOWNS) -> list[str]:
    codes = [f"{prefix}-{i:02d}" for i in range(n)]
    await asyncio.gather(
        *(
            register_town(
                client,
                engine,
                TownProfile(
                    code=c,
                    name=f"镇{i}",
                    district="keqiao",
                    tier="provincial_creation",
                    industry="fashion",
                    listed_year=2016,
                    planned_investment=50,
                ),
                "fault-test",
                TASK_QUEUE,
            )
            for i, c in enumerate(codes)
        )
    )
    for i, c in enumerate(codes):  # half of them miss the investment target (a warning)
        fai = 20.0 if i % 2 else 5.0
        await submit_batch(
            client,
            ReportBatch(
                code=c,
                rows=[
                    ReportRow(
                        row="2",
                        submission=ReportSubmission(
                            code=c,
                            period="2017-12",
                            fai=fai,
                            industry_fai=fai * 0.8,
                            nongov_fai=fai * 0.9,
                            tax=1.0,
                            submitted_by="fault-test",
                            submission_id=f"{c}:2017-12",
                        ),
                    )
                ],
            ),
            update_id=f"{c}:2017-12",
        )
    return codes


async def test_worker_killed_mid_evaluation_and_mid_apply(temporal, workers, tmp_path):
    engine = prepared(f"sqlite:///{tmp_path / 'towns.db'}")
    pool = workers(f"sqlite:///{tmp_path / 'towns.db'}")
    first = pool.start(pauses="evaluate_round_batch:before")
    client = await client_of(temporal)
    codes = await load(client, engine, "KILL")

    rid = "round-2017-annual"
    handle = await client.start_workflow(
        RoundWorkflow.run,
        RoundStart(kind=RoundKind.annual, year=2017, city_tax_growth=0.0),
        id=rid,
        task_queue=TASK_QUEUE,
    )
    await until(lambda: (tmp_path / "evaluate_round_batch.before").exists(), 60, "evaluation started")
    pool.kill(first)
    second = pool.start(pauses="apply_round_batch:after")
    took = await until(lambda: _state(engine, rid) == "proposed", 60, "the round proposed after the kill")
    print(f"evaluation resumed and finished {took:.1f} s after the new worker started")
    assert took < 30
    with Session(engine) as s:
        assert len(s.exec(select(ProposalRow).where(ProposalRow.round_id == rid)).all()) == TOWNS

    approving = asyncio.ensure_future(
        handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
    )
    await until(lambda: (tmp_path / "apply_round_batch.after").exists(), 60, "apply done, not yet answered")
    pool.kill(second)
    pool.start()
    took = await until(lambda: _state(engine, rid) == "applied", 60, "the round applied after the second kill")
    print(f"apply resumed and finished {took:.1f} s after the new worker started")
    assert took < 30
    view = await asyncio.wait_for(approving, 60)
    assert view.state == "applied"

    with Session(engine) as s:
        decisions = s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).all()
    assert sorted(d.code for d in decisions) == codes  # exactly one decision per town
    for code in codes:  # and each town's workflow took it once
        seen = (await client.get_workflow_handle(workflow_id(code)).query(TownWorkflow.state)).decisions
        assert seen.count(rid) == 1
    report = verify(engine)
    assert report.ok, report.problems


def _state(engine, rid: str):
    with Session(engine) as s:
        row = s.get(RoundRow, rid)
        return row.state if row else None
