"""RoundWorkflow: one assessment round (id ``round-<year>-<kind>``).

prepare (pin the pack, gather the towns, city context) → evaluate in batched activities →
sum up the city → wait for approval (a durable timer marks an overdue approval, it never
approves) → apply the decisions in batches (each batch signals its towns) → close.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ..models.activities import (
        ApplyRequest,
        ApprovalRecord,
        BatchRequest,
        PrepareRequest,
        ProposalSummary,
        RoundActivities,
        RoundPlan,
        RoundRef,
    )
    from ..models.round import GRADES_BY_KIND, Approval, Grade, Override
    from ..models.workflows import REFUSED, RoundStart, RoundView
    from .options import HEARTBEAT_TIMEOUT, ActivityOptions

BATCH_SIZE = 200
# Activities heartbeat (activities.support): a crashed worker's attempt is taken over by another
# within seconds of the heartbeat timeout, not after a start-to-close of minutes. Retried for about
# a quarter of an hour while the database or the server is away; deterministic errors are not.
ACTIVITY: ActivityOptions = {
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": HEARTBEAT_TIMEOUT,
    "retry_policy": RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
}
ORDER_PATCH = "approval-checks-year-order"


@workflow.defn(name="RoundWorkflow")
class RoundWorkflow:
    @workflow.init
    def __init__(self, start: RoundStart) -> None:
        self._start = start
        self._id = workflow.info().workflow_id  # round-<year>-<kind> from the CLI
        self._state = "evaluating"
        self._plan: RoundPlan | None = None
        self._proposals: dict[str, ProposalSummary] = {}
        self._approval: Approval | None = None
        self._overdue = False

    def _ref(self) -> RoundRef:
        return RoundRef(round_id=self._id, kind=self._start.kind, year=self._start.year, pack_id=self._start.pack_id)

    @workflow.run
    async def run(self, start: RoundStart) -> RoundView:
        self._plan = await workflow.execute_activity_method(
            RoundActivities.prepare_round,
            PrepareRequest(
                round_id=self._id,
                kind=start.kind,
                year=start.year,
                pack_id=start.pack_id,
                city_tax_growth=start.city_tax_growth,
                started_by=start.started_by,
                started_role=start.started_role,
            ),
            **ACTIVITY,
        )
        codes = self._plan.codes
        batches = [codes[i : i + BATCH_SIZE] for i in range(0, len(codes), BATCH_SIZE)]
        results = await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    RoundActivities.evaluate_round_batch,
                    BatchRequest(
                        round_id=self._id,
                        kind=start.kind,
                        year=start.year,
                        pack_id=start.pack_id,
                        pack_hash=self._plan.pack.hash,
                        codes=batch,
                        context=self._plan.context,  # older builds: the context itself
                        context_hash=self._plan.context_hash,  # now: recorded once, referred to
                    ),
                    **ACTIVITY,
                )
                for batch in batches
            )
        )
        self._proposals = {p.code: p for batch in results for p in batch}
        await workflow.execute_activity_method(RoundActivities.sum_up_round, self._ref(), **ACTIVITY)
        self._state = "proposed"

        try:
            await workflow.wait_condition(
                lambda: self._approval is not None, timeout=timedelta(days=self._plan.approval_overdue_days)
            )
        except TimeoutError:
            self._overdue = True
            await workflow.execute_activity_method(RoundActivities.mark_round_overdue, self._ref(), **ACTIVITY)
            await workflow.wait_condition(lambda: self._approval is not None)

        approval = self._approval
        assert approval is not None  # the wait above ends only when it is set
        await workflow.execute_activity_method(
            RoundActivities.record_approval,
            ApprovalRecord(
                round_id=self._id, by=approval.by, role=approval.role, overrides=approval.overrides, note=approval.note
            ),
            **ACTIVITY,
        )
        overrides = {o.code: o for o in approval.overrides}
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    RoundActivities.apply_round_batch,
                    ApplyRequest(
                        round_id=self._id,
                        kind=start.kind,
                        year=start.year,
                        pack_id=start.pack_id,
                        pack_hash=self._plan.pack.hash,
                        by=approval.by,
                        role=approval.role,
                        overrides={c: o for c, o in overrides.items() if c in batch},
                        codes=batch,
                    ),
                    **ACTIVITY,
                )
                for batch in batches
            )
        )
        await workflow.execute_activity_method(RoundActivities.close_round, self._ref(), **ACTIVITY)
        self._state = "applied"
        return self.view()

    def _refusals(self, approval: Approval) -> list[str]:
        problems = []
        if self._state == "evaluating":
            problems.append("the round is still evaluating; wait for its proposals (towns round show)")
        if self._approval is not None or self._state == "applied":
            problems.append(f"the round was already approved by {self._approval.by if self._approval else '?'}")
        if not approval.by.strip():
            problems.append("--by NAME is required: who approves")
        allowed = GRADES_BY_KIND[self._start.kind]
        seen = set()
        for o in approval.overrides:
            if o.code not in self._proposals:
                problems.append(f"override for {o.code}: the town is not in this round")
            if o.code in seen:
                problems.append(f"override for {o.code} given twice")
            seen.add(o.code)
            try:
                grade = Grade.parse(o.grade)
                if grade not in allowed:
                    raise ValueError
            except ValueError:
                problems.append(
                    f"override {o.code}={o.grade}: not a grade of a {self._start.kind.value} round "
                    f"(one of {', '.join(sorted(g.value for g in allowed))})"
                )
            if not o.reason.strip():
                problems.append(f"override {o.code}={o.grade} has no reason: every override needs --reason TEXT")
        return problems

    @workflow.update  # named approve
    async def approve(self, approval: Approval) -> RoundView:
        problems = self._refusals(approval)
        if not problems and workflow.patched(ORDER_PATCH):
            # a decision for a later year applied since the proposals were made: this round would undo it
            problems = await workflow.execute_activity_method(
                RoundActivities.check_round_order, self._ref(), **ACTIVITY
            )
            problems = problems or self._refusals(approval)  # another approval may have landed meanwhile
        if problems:
            raise ApplicationError("; ".join(problems), problems, type=REFUSED, non_retryable=True)
        self._approval = Approval(
            by=approval.by,
            role=approval.role,
            note=approval.note,
            overrides=[
                Override(code=o.code, grade=Grade.parse(o.grade).value, reason=o.reason) for o in approval.overrides
            ],
        )
        await workflow.wait_condition(lambda: self._state == "applied")
        return self.view()

    @approve.validator
    def _validate_approval(self, approval: Approval) -> None:
        problems = self._refusals(approval)
        if problems:
            raise ApplicationError("; ".join(problems), problems, type=REFUSED, non_retryable=True)

    @workflow.update  # named proposals_ready
    async def proposals_ready(self) -> RoundView:
        """Returns once the proposals are ready (for `towns round start --wait`)."""
        await workflow.wait_condition(lambda: self._state != "evaluating")
        return self.view()

    @workflow.query(name="view")
    def view(self) -> RoundView:
        return RoundView(
            id=self._id,
            kind=self._start.kind.value,
            year=self._start.year,
            state=self._state,
            pack=self._plan.pack if self._plan else None,
            proposals=sorted(self._proposals.values(), key=lambda p: p.code),
            overdue=self._overdue,
            approved_by=self._approval.by if self._approval else None,
        )
