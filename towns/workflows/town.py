"""TownWorkflow: one per town (id ``town-<code>``), alive for the town's whole life.

Monthly reports arrive as the ``submit_report`` Update. Its validator checks the report
against the town and the reports already accepted (so bad input never enters history);
the handler numbers the revision, runs the evaluation activity and the recording
activity, and keeps the latest findings for the ``state`` query. The workflow continues
as new when Temporal suggests it, carrying what it remembers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Optional

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ..activities.reports import EvaluateRequest, RecordRequest
    from ..intake.checks import ReportedPeriod, check_report
    from ..models.finding import Evaluation
    from ..models.period import period_of
    from ..models.report import AcceptedReport, ReportSubmission
    from ..models.town import TownProfile
    from ..rules.pack import DEFAULT_PACK, Sanity

ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30)),
)
REJECTED = "ReportRejected"


def workflow_id(code: str) -> str:
    return f"town-{code}"


class TownStart(BaseModel):
    profile: TownProfile
    pack_id: str = DEFAULT_PACK
    limits: Sanity = Field(description="plausibility bounds from the rule pack, fixed when the town is registered")
    reported: dict[str, ReportedPeriod] = Field(default_factory=dict)
    latest: Optional[Evaluation] = None


class ReportOutcome(BaseModel):
    code: str
    period: str
    revision: int
    evaluation: Evaluation


class TownView(BaseModel):
    profile: TownProfile
    pack_id: str
    periods_reported: int
    last_period: Optional[str]
    latest: Optional[Evaluation]


@workflow.defn(name="TownWorkflow")
class TownWorkflow:
    @workflow.init
    def __init__(self, start: TownStart) -> None:
        self._profile = start.profile
        self._pack_id = start.pack_id
        self._limits = start.limits
        self._reported: dict[str, ReportedPeriod] = dict(start.reported)
        self._latest = start.latest
        self._pending: set[str] = set()

    @workflow.run
    async def run(self, start: TownStart) -> None:
        await workflow.wait_condition(lambda: workflow.info().is_continue_as_new_suggested())
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._carry())

    def _carry(self) -> TownStart:
        # keep this year's and last year's periods: enough for the year-to-date checks
        years = sorted({p[:4] for p in self._reported})[-2:]
        kept = {p: r for p, r in self._reported.items() if p[:4] in years}
        return TownStart(profile=self._profile, pack_id=self._pack_id, limits=self._limits, reported=kept,
                         latest=self._latest)

    def _problems(self, sub: ReportSubmission) -> list:
        problems = check_report(sub, self._profile, self._reported, period_of(workflow.now()),
                                self._limits.max_fai_ytd, self._limits.max_tax_ytd)
        if sub.period in self._pending:
            problems.append({"field": "period", "en": f"a report for {sub.period} is being processed; send it again in a moment",
                             "zh": f"{sub.period} 的报表正在处理，请稍后重试"})
        return [p if isinstance(p, dict) else p.model_dump() for p in problems]

    @workflow.update(name="submit_report")
    async def submit_report(self, sub: ReportSubmission) -> ReportOutcome:
        problems = self._problems(sub)  # again: another update may have landed since validation
        if problems:
            raise ApplicationError("; ".join(f"{p['field']}: {p['en']}" for p in problems), problems,
                                   type=REJECTED, non_retryable=True)
        earlier = self._reported.get(sub.period)
        revision = earlier.revision + 1 if earlier else 1
        accepted = AcceptedReport(submission=sub, revision=revision, received_at=workflow.now())
        self._pending.add(sub.period)
        try:
            evaluation = await workflow.execute_activity(
                "evaluate_report", EvaluateRequest(town=self._profile, report=accepted, pack_id=self._pack_id),
                result_type=Evaluation, **ACTIVITY_OPTIONS)
            await workflow.execute_activity(
                "record_report", RecordRequest(report=accepted, evaluation=evaluation), result_type=int,
                **ACTIVITY_OPTIONS)
        finally:
            self._pending.discard(sub.period)
        self._reported[sub.period] = ReportedPeriod(
            period=sub.period, revision=revision, fai=sub.fai, industry_fai=sub.industry_fai,
            nongov_fai=sub.nongov_fai, tax=sub.tax, submission_id=sub.submission_id)
        if self._latest is None or (sub.period, revision) >= (self._latest.period, self._latest.revision):
            self._latest = evaluation
        return ReportOutcome(code=sub.code, period=sub.period, revision=revision, evaluation=evaluation)

    @submit_report.validator
    def _validate_report(self, sub: ReportSubmission) -> None:
        problems = self._problems(sub)
        if problems:
            raise ApplicationError("; ".join(f"{p['field']}: {p['en']}" for p in problems), problems,
                                   type=REJECTED, non_retryable=True)

    @workflow.query(name="state")
    def state(self) -> TownView:
        return TownView(profile=self._profile, pack_id=self._pack_id, periods_reported=len(self._reported),
                        last_period=max(self._reported, default=None), latest=self._latest)
