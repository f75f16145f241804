"""TownWorkflow: one per town (id ``town-<code>``), alive for the town's whole life.

Monthly reports arrive as the ``submit_report`` Update. Its validator checks the report
against the town and the reports already accepted (so bad input never enters history);
the handler numbers the revision, runs the evaluation activity and the recording
activity, and keeps the latest findings for the ``state`` query. Approved decisions of
assessment rounds arrive as the ``apply_decision`` signal and change the town's tier,
state and warning count. The workflow continues as new at each year end (and whenever
Temporal suggests it), carrying what it remembers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Optional

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ..models.times import CST
    from ..activities.bulletins import SupervisionRequest
    from ..activities.reports import EvaluateRequest, RecordRequest
    from ..intake.checks import ReportedPeriod, check_report
    from ..models.finding import Evaluation
    from ..models.period import period_of
    from ..models.report import AcceptedReport, ReportSubmission
    from ..models.round import DecisionNotice
    from ..models.town import ON_LIST_STATES, TownProfile
    from ..rules.pack import DEFAULT_PACK, Sanity

ACTIVITY_OPTIONS = dict(
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30)),
)
REJECTED = "ReportRejected"
YEAR_END_PATCH = "year-end-continue-as-new"
OVERDUE_PATCH = "overdue-report-timers"
WATCHED_STATES = ON_LIST_STATES
CLOSED_STATES = ("eliminated", "rejected")


def workflow_id(code: str) -> str:
    return f"town-{code}"


class TownStart(BaseModel):
    profile: TownProfile
    pack_id: str = DEFAULT_PACK
    limits: Sanity = Field(description="plausibility bounds from the rule pack, fixed when the town is registered")
    reported: dict[str, ReportedPeriod] = Field(default_factory=dict)
    latest: Optional[Evaluation] = None
    warnings: int = 0
    last_grade: Optional[str] = None
    decisions: list[str] = Field(default_factory=list, description="rounds whose decision was applied")
    report_due_day: int = Field(default=10, description="a month's report is due on this day of the next month")
    watch_next: Optional[str] = Field(default=None, description="the next month whose report the timer watches")
    overdue: dict[str, str] = Field(default_factory=dict, description="open overdue months → due date")


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
    warnings: int = 0
    last_grade: Optional[str] = None
    decisions: list[str] = Field(default_factory=list)
    watch_next: Optional[str] = None
    overdue: dict[str, str] = Field(default_factory=dict)


def next_month(period: str) -> str:
    y, m = (int(x) for x in period.split("-"))
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def report_deadline(period: str, due_day: int) -> datetime:
    """The end of the due day (Beijing time): the report for month M is due on day D of month M+1."""
    y, m = (int(x) for x in next_month(period).split("-"))
    return datetime(y, m, due_day, tzinfo=CST) + timedelta(days=1)


def next_year_end(now: datetime) -> datetime:
    """Midnight starting 1 January of next year, Beijing time (UTC+8)."""
    return datetime(now.astimezone(CST).year + 1, 1, 1, tzinfo=CST)


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
        self._warnings = start.warnings
        self._last_grade = start.last_grade
        self._decisions = list(start.decisions)
        self._due_day = start.report_due_day
        self._watch_next = start.watch_next
        self._overdue: dict[str, str] = dict(start.overdue)

    @workflow.run
    async def run(self, start: TownStart) -> None:
        suggested = lambda: workflow.info().is_continue_as_new_suggested()  # noqa: E731
        if workflow.patched(OVERDUE_PATCH):
            await self._watch_reports(suggested)
        elif workflow.patched(YEAR_END_PATCH):
            # a fresh run each year keeps histories short and carries the year's state forward
            until = next_year_end(workflow.now()) - workflow.now()
            try:
                await workflow.wait_condition(suggested, timeout=until)
            except asyncio.TimeoutError:
                pass
        else:
            await workflow.wait_condition(suggested)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._carry())

    async def _watch_reports(self, suggested) -> None:
        """Until the year ends: a durable timer for each month's report; a missed due date is an
        overdue finding (SX2018-S3). Months before the town was registered are not watched."""
        year_end = next_year_end(workflow.now())
        if self._watch_next is None:
            self._watch_next = period_of(workflow.now().astimezone(CST))
        watched = lambda: self._profile.state.value in WATCHED_STATES  # noqa: E731
        while not suggested() and workflow.now() < year_end:
            month = self._watch_next
            if month in self._reported:
                self._watch_next = next_month(month)
                continue
            was_watched = watched()
            if not was_watched:
                # a town not on a list owes no report: when a decision puts it on one, watching
                # starts from that month, not from the months it was waiting
                self._watch_next = month = period_of(workflow.now().astimezone(CST))
            deadline = min(report_deadline(month, self._due_day), year_end) if was_watched else year_end
            wait = deadline - workflow.now()
            if wait > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: month in self._reported or suggested() or watched() != was_watched, timeout=wait)
                    continue
                except asyncio.TimeoutError:
                    pass
            if workflow.now() >= year_end and deadline == year_end:
                break
            if month not in self._reported and self._profile.state.value in WATCHED_STATES:
                due = (report_deadline(month, self._due_day) - timedelta(days=1)).date().isoformat()
                await workflow.execute_activity(
                    "record_overdue", SupervisionRequest(code=self._profile.code, period=month, due=due,
                                                         pack_id=self._pack_id), **ACTIVITY_OPTIONS)
                self._overdue[month] = due
            self._watch_next = next_month(month)

    def _carry(self) -> TownStart:
        # keep this year's and last year's periods: enough for the year-to-date checks
        years = sorted({p[:4] for p in self._reported})[-2:]
        kept = {p: r for p, r in self._reported.items() if p[:4] in years}
        return TownStart(profile=self._profile, pack_id=self._pack_id, limits=self._limits, reported=kept,
                         latest=self._latest, warnings=self._warnings, last_grade=self._last_grade,
                         decisions=self._decisions[-20:], report_due_day=self._due_day,
                         watch_next=self._watch_next, overdue=self._overdue)

    def _problems(self, sub: ReportSubmission) -> list:
        problems = check_report(sub, self._profile, self._reported, period_of(workflow.now()),
                                self._limits.max_fai_ytd, self._limits.max_tax_ytd)
        if self._profile.state.value in CLOSED_STATES:
            problems.append({"field": "code", "en": f"town {sub.code} is {self._profile.state.value}: it no longer reports",
                             "zh": f"小镇 {sub.code} 已{self._profile.state.zh}，不再报送"})
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
                "record_report", RecordRequest(report=accepted, evaluation=evaluation, town=self._profile), result_type=int,
                **ACTIVITY_OPTIONS)
        finally:
            self._pending.discard(sub.period)
        self._reported[sub.period] = ReportedPeriod(
            period=sub.period, revision=revision, fai=sub.fai, industry_fai=sub.industry_fai,
            nongov_fai=sub.nongov_fai, tax=sub.tax, submission_id=sub.submission_id)
        if self._latest is None or (sub.period, revision) >= (self._latest.period, self._latest.revision):
            self._latest = evaluation
        if sub.period in self._overdue:  # a late report closes its overdue item
            await workflow.execute_activity(
                "record_late", SupervisionRequest(code=sub.code, period=sub.period, due=self._overdue[sub.period],
                                                  pack_id=self._pack_id, received_at=accepted.received_at),
                **ACTIVITY_OPTIONS)
            self._overdue.pop(sub.period, None)
        return ReportOutcome(code=sub.code, period=sub.period, revision=revision, evaluation=evaluation)

    @submit_report.validator
    def _validate_report(self, sub: ReportSubmission) -> None:
        problems = self._problems(sub)
        if problems:
            raise ApplicationError("; ".join(f"{p['field']}: {p['en']}" for p in problems), problems,
                                   type=REJECTED, non_retryable=True)

    @workflow.signal(name="apply_decision")
    def apply_decision(self, notice: DecisionNotice) -> None:
        """An approved decision: the round has recorded it; the town takes on its effects."""
        if notice.round_id in self._decisions:
            return  # re-sent by a retried activity
        e = notice.effects
        update = {"state": e.state, "tier": e.tier}
        if e.listed_year is not None:
            update["listed_year"] = e.listed_year
        if e.creation_years is not None:
            update["creation_years"] = e.creation_years
        self._profile = TownProfile.model_validate({**self._profile.model_dump(), **update})
        self._warnings = e.warnings
        if notice.kind == "annual":
            self._last_grade = notice.grade
        self._decisions.append(notice.round_id)

    @workflow.query(name="state")
    def state(self) -> TownView:
        return TownView(profile=self._profile, pack_id=self._pack_id, periods_reported=len(self._reported),
                        last_period=max(self._reported, default=None), latest=self._latest,
                        warnings=self._warnings, last_grade=self._last_grade, decisions=self._decisions,
                        watch_next=self._watch_next, overdue=self._overdue)
