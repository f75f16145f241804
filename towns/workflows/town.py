"""TownWorkflow: one per town (id ``town-<code>``), alive for the town's whole life.

Monthly reports arrive as Updates: ``submit_reports`` carries one file's rows for the town,
``submit_report`` one report (the REST API, tests). A town takes its reports one Update at
a time (a workflow lock), so two files for the same months never interleave: the first
file's rows are taken, the second's are answered against them ("unchanged" when the
figures are the same, "already reported" or a new revision when they differ). Each row
is checked against the town and the reports already taken — the same pure checks the
importer runs — and answered: accepted, corrected (a new revision), unchanged (the same
figures as the latest revision: nothing new is recorded, so re-running a file is safe) or
rejected with its problems. One activity then evaluates and records the accepted rows and
quarantines the rejected ones, in one transaction.

Approved decisions of assessment rounds arrive as the ``apply_decision`` signal and change
the town's tier, state and warning count. The workflow continues as new at each year end
(and whenever Temporal suggests it), carrying what it remembers: every period reported,
so that a month reported years ago is still known.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from ..models.activities import (
        BulletinActivities,
        EvaluateRequest,
        RecordRequest,
        RefusedRow,
        ReportActivities,
        SupervisionRequest,
        TakeRequest,
        TakeResult,
    )
    from ..models.period import next_month, period_of, report_deadline, reporting_from
    from ..models.rejection import Problem
    from ..models.report import (
        AcceptedReport,
        BatchOutcome,
        ReportBatch,
        ReportedPeriod,
        ReportRow,
        ReportSubmission,
        RowAnswer,
    )
    from ..models.round import DecisionNotice
    from ..models.times import CST
    from ..models.town import ON_LIST_STATES, TownProfile
    from ..models.workflows import APPLY_DECISION, REJECTED, ReportOutcome, TownStart, TownView
    from ..rules.report_checks import check_report  # pure: the same checks the importer runs
    from .options import HEARTBEAT_TIMEOUT, ActivityOptions, LocalActivityOptions

ACTIVITY_OPTIONS: ActivityOptions = {
    "start_to_close_timeout": timedelta(seconds=60),
    "retry_policy": RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(seconds=30)),
}
# taking a file's rows: the activity heartbeats, so a crashed worker's attempt is taken over by
# another within seconds; retried while the database is away (about ten minutes)
TAKE_OPTIONS: ActivityOptions = {
    "start_to_close_timeout": timedelta(minutes=5),
    "heartbeat_timeout": HEARTBEAT_TIMEOUT,
    "retry_policy": RetryPolicy(maximum_attempts=40, maximum_interval=timedelta(seconds=15)),
}
# the same as a local activity (no heartbeat: the worker running it holds the workflow task);
# retried with backoff while the database is away (about ten minutes)
LOCAL_TAKE_OPTIONS: LocalActivityOptions = {
    "start_to_close_timeout": timedelta(minutes=5),
    "retry_policy": RetryPolicy(maximum_attempts=40, maximum_interval=timedelta(seconds=15)),
}
YEAR_END_PATCH = "year-end-continue-as-new"
LOCAL_TAKE_PATCH = "take-reports-local-activity"
OVERDUE_PATCH = "overdue-report-timers"
SERIAL_PATCH = "reports-one-update-at-a-time"
OWED_FROM_PATCH = "reports-owed-from-registration"
# v7: one marker, at a run's start, for every path above (each patch cost a marker and a search-
# attribute upsert: two at a run's start and one at its first report); a run recorded before it
# replays the patches one by one
CURRENT_PATCH = "town-v7-current-paths"
WATCHED_STATES = ON_LIST_STATES
CLOSED_STATES = ("eliminated", "rejected")


def refusal(problems: list[Problem]) -> ApplicationError:
    """A report refused with its problems (the client reads them from the error's details)."""
    return ApplicationError(
        "; ".join(f"{p.field}: {p.en}" for p in problems),
        [p.model_dump() for p in problems],
        type=REJECTED,
        non_retryable=True,
    )


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
        self._registered_at = start.registered_at
        self._lock = asyncio.Lock()  # one report Update at a time
        self._current: bool | None = None  # CURRENT_PATCH, asked once per run

    def _on_current_paths(self) -> bool:
        """Whether this run takes every patched path without asking each patch (``CURRENT_PATCH``):
        asked once, by whichever runs first (the main method, or a handler in the same activation)."""
        if self._current is None:
            self._current = workflow.patched(CURRENT_PATCH)
        return self._current

    @workflow.run
    async def run(self, start: TownStart) -> None:
        suggested = lambda: workflow.info().is_continue_as_new_suggested()  # noqa: E731
        if self._on_current_paths() or workflow.patched(OVERDUE_PATCH):
            await self._watch_reports(suggested)
        elif workflow.patched(YEAR_END_PATCH):
            # a fresh run each year keeps histories short and carries the year's state forward
            until = next_year_end(workflow.now()) - workflow.now()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(suggested, timeout=until)
        else:
            await workflow.wait_condition(suggested)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(self._carry())

    def _owed_from(self, since: datetime) -> str:
        """The first month whose report the town owes, for a town on a list since ``since``
        (``models.period.reporting_from``, the rule the bulletin's missing reports follow too)."""
        return reporting_from(self._profile.listed_year, since, self._due_day)

    async def _watch_reports(self, suggested: Callable[[], bool]) -> None:
        """Until the year ends: a durable timer for each month's report; a missed due date is an
        overdue finding.

        The months watched are the months the town owes (``reporting_from``): from the first
        month whose report was not yet due when the town was registered — the previous month's
        when it was registered by that report's due day — and never before January of its
        listed year. A town not on a list owes no report: when a decision puts it on one, the
        same rule runs from that moment, not from the months it was waiting. (Before the
        ``reports-owed-from-registration`` patch: from the month the watching started, and
        from the month a town was put on a list.)"""
        owed_from = self._on_current_paths() or workflow.patched(OWED_FROM_PATCH)
        year_end = next_year_end(workflow.now())
        if self._watch_next is None:
            if owed_from:
                self._watch_next = self._owed_from(self._registered_at or workflow.now())
            else:
                self._watch_next = period_of(workflow.now().astimezone(CST))
        watched = lambda: self._profile.state.value in WATCHED_STATES  # noqa: E731
        while not suggested() and workflow.now() < year_end:
            month = self._watch_next
            if month in self._reported:
                self._watch_next = next_month(month)
                continue
            was_watched = watched()
            if not was_watched and not owed_from:
                # a town not on a list owes no report: when a decision puts it on one, watching
                # starts from that month, not from the months it was waiting
                self._watch_next = month = period_of(workflow.now().astimezone(CST))
            deadline = min(report_deadline(month, self._due_day), year_end) if was_watched else year_end
            wait = deadline - workflow.now()
            if wait > timedelta(0):

                def changed(month: str = month, was: bool = was_watched) -> bool:
                    return month in self._reported or suggested() or watched() != was

                try:
                    await workflow.wait_condition(changed, timeout=wait)
                    if owed_from and not was_watched and watched():
                        # put on a list just now: it owes the months the rule gives from this moment
                        self._watch_next = max(month, self._owed_from(workflow.now()))
                    continue
                except TimeoutError:
                    pass
            if workflow.now() >= year_end and deadline == year_end:
                break
            if month not in self._reported and self._profile.state.value in WATCHED_STATES:
                due = (report_deadline(month, self._due_day) - timedelta(days=1)).date().isoformat()
                await workflow.execute_activity_method(
                    BulletinActivities.record_overdue,
                    SupervisionRequest(code=self._profile.code, period=month, due=due, pack_id=self._pack_id),
                    **ACTIVITY_OPTIONS,
                )
                self._overdue[month] = due
            self._watch_next = next_month(month)

    def _carry(self) -> TownStart:
        # every period reported (a few hundred bytes a month): a month reported years ago is still
        # known, so sending it again is answered "unchanged" or "already reported", never taken twice
        return TownStart(
            profile=self._profile,
            pack_id=self._pack_id,
            limits=self._limits,
            reported=self._reported,
            latest=self._latest,
            warnings=self._warnings,
            last_grade=self._last_grade,
            decisions=self._decisions[-20:],
            report_due_day=self._due_day,
            watch_next=self._watch_next,
            overdue=self._overdue,
        )

    def _problems(
        self,
        sub: ReportSubmission,
        reported: dict[str, ReportedPeriod] | None = None,
        neighbours: dict[str, ReportedPeriod] | None = None,
    ) -> list[Problem]:
        problems = check_report(
            sub,
            self._profile,
            self._reported if reported is None else reported,
            period_of(workflow.now()),
            self._limits.max_fai_ytd,
            self._limits.max_tax_ytd,
            neighbours,
        )
        if self._profile.state.value in CLOSED_STATES:
            problems.append(
                Problem(
                    field="code",
                    en=f"town {sub.code} is {self._profile.state.value}: it no longer reports",
                    zh=f"小镇 {sub.code} 已{self._profile.state.zh}，不再报送",
                )
            )
        if sub.period in self._pending:
            problems.append(
                Problem(
                    field="period",
                    en=f"a report for {sub.period} is being processed; send it again in a moment",
                    zh=f"{sub.period} 的报表正在处理，请稍后重试",
                )
            )
        return problems

    @workflow.update  # the Update is named after the method: submit_reports
    async def submit_reports(self, batch: ReportBatch) -> BatchOutcome:
        """A file's rows for this town, answered row by row (see the module docstring)."""
        async with self._lock:
            outcome, _ = await self._take(batch.rows, evaluations=False)
        return outcome

    @submit_reports.validator
    def _validate_batch(self, batch: ReportBatch) -> None:
        wrong = sorted({r.submission.code for r in batch.rows if r.submission.code != self._profile.code})
        if batch.code != self._profile.code or wrong:
            raise ApplicationError(
                f"rows for {wrong or batch.code} sent to town {self._profile.code}", type=REJECTED, non_retryable=True
            )

    async def _take(self, rows: list[ReportRow], evaluations: bool) -> tuple[BatchOutcome, TakeResult]:
        """Check, number and answer each row against what is taken so far; record in one activity.

        The year-to-date comparisons use the town's months as they will be after the file (the
        rows it takes), worked out to a fixed point: a row refused changes its neighbours' view."""
        now = workflow.now()
        for i, r in enumerate(rows):
            if not r.submission.submission_id:  # one id per report, for idempotent recording
                rows[i] = r.model_copy(
                    update={"submission": r.submission.model_copy(update={"submission_id": f"wf-{workflow.uuid4()}"})}
                )
        taking = set(range(len(rows)))
        for _ in range(len(rows) + 1):
            planned = dict(self._reported)
            for i in sorted(taking):
                planned[rows[i].submission.period] = self._remembered(rows[i].submission, 0)
            answers, accepted, refused, reported = self._judge(rows, planned, now)
            now_taking = {i for i, a in enumerate(answers) if a.status in ("accepted", "corrected")}
            if now_taking == taking:
                break
            taking = now_taking
        taken = {a.submission.period for a in accepted}
        late = [
            SupervisionRequest(code=self._profile.code, period=p, due=due, pack_id=self._pack_id, received_at=now)
            for p, due in sorted(self._overdue.items())
            if p in taken
        ]
        result = TakeResult(recorded=[])
        if accepted or refused:
            take = TakeRequest(
                town=self._profile,
                pack_id=self._pack_id,
                reports=accepted,
                refused=refused,
                late=late,
                evaluations=evaluations,
            )
            if self._on_current_paths() or workflow.patched(LOCAL_TAKE_PATCH):
                # a local activity: the same idempotent work, run by the worker that holds the
                # Update, without a round trip through the task queue (a crashed worker's attempt
                # is run again by the worker that takes over the workflow task)
                result = await workflow.execute_local_activity_method(
                    ReportActivities.take_reports, take, **LOCAL_TAKE_OPTIONS
                )
            else:
                result = await workflow.execute_activity_method(ReportActivities.take_reports, take, **TAKE_OPTIONS)
        self._reported = reported
        failed = {r.submission_id: r.failed for r in result.recorded}
        for a, sub in zip(answers, (r.submission for r in rows), strict=True):
            if a.status in ("accepted", "corrected"):
                a.failed_rules = failed.get(sub.submission_id, [])
        if result.latest is not None and (
            self._latest is None
            or (result.latest.period, result.latest.revision) >= (self._latest.period, self._latest.revision)
        ):
            self._latest = result.latest
        for req in late:  # a late report closes its overdue item
            self._overdue.pop(req.period, None)
        return BatchOutcome(code=self._profile.code, answers=answers), result

    def _remembered(self, sub: ReportSubmission, revision: int) -> ReportedPeriod:
        return ReportedPeriod(
            period=sub.period,
            revision=revision,
            fai=sub.fai,
            industry_fai=sub.industry_fai,
            nongov_fai=sub.nongov_fai,
            tax=sub.tax,
            submission_id=sub.submission_id,
            digest=sub.digest(),
        )

    def _judge(
        self, rows: list[ReportRow], planned: dict[str, ReportedPeriod], now: datetime
    ) -> tuple[list[RowAnswer], list[AcceptedReport], list[RefusedRow], dict[str, ReportedPeriod]]:
        """One pass over a file's rows in order: each answered against the rows before it (revisions,
        duplicates) and against ``planned`` (year-to-date neighbours)."""
        reported = dict(self._reported)
        answers: list[RowAnswer] = []
        accepted: list[AcceptedReport] = []
        refused: list[RefusedRow] = []
        for r in rows:
            sub = r.submission
            earlier = reported.get(sub.period)
            if earlier is not None and earlier.digest == sub.digest():
                answers.append(RowAnswer(row=r.row, period=sub.period, status="unchanged", revision=earlier.revision))
                continue
            problems = self._problems(sub, reported, planned)
            if problems:
                answers.append(RowAnswer(row=r.row, period=sub.period, status="rejected", problems=problems))
                refused.append(
                    RefusedRow(
                        key=sub.submission_id,
                        row=r.row,
                        code=sub.code,
                        period=sub.period,
                        source=sub.source,
                        submitted_by=sub.submitted_by,
                        raw=r.raw,
                        problems=problems,
                    )
                )
                continue
            revision = earlier.revision + 1 if earlier else 1
            reported[sub.period] = self._remembered(sub, revision)
            accepted.append(AcceptedReport(submission=sub, revision=revision, received_at=now))
            answers.append(
                RowAnswer(
                    row=r.row, period=sub.period, status="corrected" if revision > 1 else "accepted", revision=revision
                )
            )
        return answers, accepted, refused, reported

    @workflow.update  # named submit_report
    async def submit_report(self, sub: ReportSubmission) -> ReportOutcome:
        if self._on_current_paths() or workflow.patched(SERIAL_PATCH):
            async with self._lock:
                outcome, result = await self._take(
                    [ReportRow(row=sub.source or "1", raw=sub.model_dump(mode="json"), submission=sub)],
                    evaluations=True,
                )
            answer = outcome.answers[0]
            if answer.status == "rejected":  # kept in the quarantine by the activity
                raise refusal(answer.problems)
            return ReportOutcome(
                code=sub.code,
                period=sub.period,
                revision=answer.revision or 0,
                evaluation=result.evaluations[0] if result.evaluations else None,
                status=answer.status,
            )
        problems = self._problems(sub)  # again: another update may have landed since validation
        if problems:
            raise refusal(problems)
        earlier = self._reported.get(sub.period)
        revision = earlier.revision + 1 if earlier else 1
        accepted = AcceptedReport(submission=sub, revision=revision, received_at=workflow.now())
        self._pending.add(sub.period)
        try:
            evaluation = await workflow.execute_activity_method(
                ReportActivities.evaluate_report,
                EvaluateRequest(town=self._profile, report=accepted, pack_id=self._pack_id),
                **ACTIVITY_OPTIONS,
            )
            await workflow.execute_activity_method(
                ReportActivities.record_report,
                RecordRequest(report=accepted, evaluation=evaluation, town=self._profile),
                **ACTIVITY_OPTIONS,
            )
        finally:
            self._pending.discard(sub.period)
        self._reported[sub.period] = ReportedPeriod(
            period=sub.period,
            revision=revision,
            fai=sub.fai,
            industry_fai=sub.industry_fai,
            nongov_fai=sub.nongov_fai,
            tax=sub.tax,
            submission_id=sub.submission_id,
        )
        if self._latest is None or (sub.period, revision) >= (self._latest.period, self._latest.revision):
            self._latest = evaluation
        if sub.period in self._overdue:  # a late report closes its overdue item
            await workflow.execute_activity_method(
                BulletinActivities.record_late,
                SupervisionRequest(
                    code=sub.code,
                    period=sub.period,
                    due=self._overdue[sub.period],
                    pack_id=self._pack_id,
                    received_at=accepted.received_at,
                ),
                **ACTIVITY_OPTIONS,
            )
            self._overdue.pop(sub.period, None)
        return ReportOutcome(code=sub.code, period=sub.period, revision=revision, evaluation=evaluation)

    @submit_report.validator
    def _validate_report(self, sub: ReportSubmission) -> None:
        earlier = self._reported.get(sub.period)
        if earlier is not None and earlier.digest == sub.digest():
            return  # the same figures again: answered "unchanged"
        problems = self._problems(sub)
        if problems:
            raise refusal(problems)

    @workflow.signal(name=APPLY_DECISION)
    def apply_decision(self, notice: DecisionNotice) -> None:
        """An approved decision: the round has recorded it; the town takes on its effects."""
        if notice.round_id in self._decisions:
            return  # re-sent by a retried activity
        e = notice.effects
        update: dict[str, Any] = {"state": e.state, "tier": e.tier}
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
        return TownView(
            profile=self._profile,
            pack_id=self._pack_id,
            periods_reported=len(self._reported),
            last_period=max(self._reported, default=None),
            latest=self._latest,
            warnings=self._warnings,
            last_grade=self._last_grade,
            decisions=self._decisions,
            watch_next=self._watch_next,
            overdue=self._overdue,
        )
