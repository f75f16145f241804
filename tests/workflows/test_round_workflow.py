"""RoundWorkflow's own logic with mocked activities (no database): what an approval may say, the
year-order check at approval, and the overdue timer. The database side of rounds is tested in
test_lifecycle.py and test_round_order.py."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from towns.models.activities import (
    ApplyRequest,
    ApprovalRecord,
    BatchRequest,
    PrepareRequest,
    ProposalSummary,
    RoundActivities,
    RoundPlan,
    RoundRef,
)
from towns.models.finding import PackRef
from towns.models.round import Approval, CityAggregates, DecisionNotice, Override, RoundKind
from towns.models.workflows import RoundStart, RoundView
from towns.worker import activity_methods
from towns.workflows.round import RoundWorkflow


class InMemoryRounds(RoundActivities):
    """The round's activities as a test wants them: a fixed plan, proposals, and a record of the calls."""

    def __init__(self, later: list[str] | None = None):
        self.calls: list[str] = []
        self.later = later or []  # what check_round_order answers

    @activity.defn(name="prepare_round")
    def prepare_round(self, req: PrepareRequest) -> RoundPlan:
        self.calls.append("prepare")
        return RoundPlan(pack=PackRef(id="sx2018", version="t", hash="h"), codes=["A", "B"], approval_overdue_days=14)

    @activity.defn(name="evaluate_round_batch")
    def evaluate_round_batch(self, req: BatchRequest) -> list[ProposalSummary]:
        return [ProposalSummary(code=c, proposed_grade="warning" if c == "B" else "good") for c in req.codes]

    @activity.defn(name="sum_up_round")
    def sum_up_round(self, ref: RoundRef) -> CityAggregates:
        return CityAggregates()

    @activity.defn(name="mark_round_overdue")
    def mark_round_overdue(self, ref: RoundRef) -> None:
        self.calls.append("overdue")

    @activity.defn(name="check_round_order")
    def check_round_order(self, ref: RoundRef) -> list[str]:
        self.calls.append("check")
        return list(self.later)

    @activity.defn(name="apply_round_batch")
    async def apply_round_batch(self, req: ApplyRequest) -> list[DecisionNotice]:
        self.calls.append(f"apply {sorted(req.codes)} overrides {sorted(req.overrides)}")
        return []

    @activity.defn(name="close_round")
    def close_round(self, ref: RoundRef) -> None:
        self.calls.append("close")

    @activity.defn(name="record_approval")
    def record_approval(self, req: ApprovalRecord) -> None:
        self.calls.append(f"approved by {req.by}")


async def started(env, rounds: InMemoryRounds, executor):
    queue = f"rounds-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        env.client,
        task_queue=queue,
        workflows=[RoundWorkflow],
        activities=activity_methods(rounds),
        activity_executor=executor,
    )
    handle = await env.client.start_workflow(
        RoundWorkflow.run,
        RoundStart(kind=RoundKind.annual, year=2018, started_by="t"),
        id=f"round-mock-{uuid.uuid4().hex[:8]}",
        task_queue=queue,
    )
    return worker, handle


async def test_an_approval_is_refused_for_what_it_says_and_nothing_is_applied(env):
    rounds = InMemoryRounds()
    with ThreadPoolExecutor(4) as ex:
        worker, handle = await started(env, rounds, ex)
        async with worker:
            await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
            for approval, says in [
                (Approval(by=" "), "--by NAME is required"),
                (Approval(by="王主任", overrides=[Override(code="Z", grade="pass", reason="r")]), "not in this round"),
                (
                    Approval(by="王主任", overrides=[Override(code="B", grade="named", reason="r")]),
                    "not a grade of a annual round",
                ),
                (Approval(by="王主任", overrides=[Override(code="B", grade="pass", reason="")]), "needs --reason"),
                (
                    Approval(
                        by="王主任",
                        overrides=[
                            Override(code="B", grade="pass", reason="r"),
                            Override(code="B", grade="good", reason="r"),
                        ],
                    ),
                    "given twice",
                ),
            ]:
                with pytest.raises(WorkflowUpdateFailedError) as exc:
                    await handle.execute_update(RoundWorkflow.approve, approval, result_type=RoundView)
                assert says in str(exc.value.cause), (says, exc.value.cause)
            assert not any(c.startswith(("approved", "apply", "check")) for c in rounds.calls)  # validators refused

            view = await handle.execute_update(
                RoundWorkflow.approve,
                Approval(by="王主任", overrides=[Override(code="B", grade="pass", reason="台风")]),
                result_type=RoundView,
            )
            assert (view.state, view.approved_by) == ("applied", "王主任")
            assert rounds.calls[-4:] == ["check", "approved by 王主任", "apply ['A', 'B'] overrides ['B']", "close"]


async def test_a_later_years_decision_refuses_the_approval_and_the_round_keeps_waiting(env):
    rounds = InMemoryRounds(later=["round-2019-annual is already applied to 1 of its towns (A)"])
    with ThreadPoolExecutor(4) as ex:
        worker, handle = await started(env, rounds, ex)
        async with worker:
            await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
            with pytest.raises(WorkflowUpdateFailedError) as exc:
                await handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
            assert "round-2019-annual" in str(exc.value.cause)
            view = await handle.query(RoundWorkflow.view)
            assert (view.state, view.approved_by) == ("proposed", None)
            assert "approved by 王主任" not in rounds.calls
            rounds.later = []  # (the later decision was a mistake and is gone: an approval now goes through)
            view = await handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
            assert view.state == "applied"


async def test_an_unapproved_round_is_marked_overdue_and_never_approves_itself(own_env):
    rounds = InMemoryRounds()
    with ThreadPoolExecutor(4) as ex:
        worker, handle = await started(own_env, rounds, ex)
        async with worker:
            await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
            await own_env.sleep(timedelta(days=13))
            assert not (await handle.query(RoundWorkflow.view)).overdue
            await own_env.sleep(timedelta(days=2))
            view = await handle.query(RoundWorkflow.view)
            assert view.overdue and view.state == "proposed" and rounds.calls.count("overdue") == 1
            await own_env.sleep(timedelta(days=365))
            assert (await handle.query(RoundWorkflow.view)).state == "proposed"  # never by itself
            view = await handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
            assert view.state == "applied"
