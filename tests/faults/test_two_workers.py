"""Two workers on one task queue, on PostgreSQL, during a round: no decision is applied twice and
the ledger verifies."""

import asyncio

from sqlmodel import Session, select
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from tests.faults.conftest import TASK_QUEUE, client_of, prepared
from tests.faults.test_worker_killed import load
from towns.audit.verify import verify
from towns.models.ledger import LedgerEntry
from towns.models.round import Approval, DecisionRow, RoundKind
from towns.models.workflows import RoundStart, RoundView, workflow_id
from towns.workflows.round import RoundWorkflow
from towns.workflows.town import TownWorkflow


async def test_two_workers_on_postgresql_apply_each_decision_once(temporal, workers, pg_database):
    engine = prepared(pg_database)
    pool = workers(pg_database)
    pool.start()
    pool.start()
    client = await client_of(temporal)
    await until_async(lambda: pollers(client), lambda n: n == 2, 60, "both workers polling")
    codes = await load(client, engine, "TWO", n=30)

    rid = "round-2017-annual"
    handle = await client.start_workflow(
        RoundWorkflow.run,
        RoundStart(kind=RoundKind.annual, year=2017, city_tax_growth=0.0),
        id=rid,
        task_queue=TASK_QUEUE,
    )
    await asyncio.wait_for(handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView), 120)
    view = await asyncio.wait_for(
        handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView), 120
    )
    assert view.state == "applied"

    with Session(engine) as s:
        decisions = s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).all()
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.round_id == rid, LedgerEntry.kind == "decision")).all()
    assert sorted(d.code for d in decisions) == codes
    assert sorted(e.code for e in entries) == codes
    for code in codes:
        seen = (await client.get_workflow_handle(workflow_id(code)).query(TownWorkflow.state)).decisions
        assert seen.count(rid) == 1
    report = verify(engine)
    assert report.ok, report.problems


async def pollers(client) -> int:
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return len({p.identity for p in resp.pollers})


async def until_async(get, ok, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not ok(await get()):
        if loop.time() > end:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.2)
