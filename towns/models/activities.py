"""The contracts between the workflows and their activities: every activity's name, input and
output, declared once. The workflows call activities by typed reference to these
declarations (``workflow.execute_activity_method(ReportActivities.take_reports, …)``); the
implementations in ``towns.activities`` subclass them, so the type checker holds caller and
callee to one signature, and the worker registers the implementations' methods.

Nothing here touches the world; ``towns.activities`` does.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import activity

from .finding import DEFAULT_PACK, Evaluation, PackRef
from .rejection import Problem
from .report import AcceptedReport
from .round import AnnualContext, CityAggregates, DecisionNotice, Override, RoundKind
from .town import TownProfile

# ---------------------------------------------------------------- monthly reports


class EvaluateRequest(BaseModel):
    town: TownProfile
    report: AcceptedReport
    pack_id: str


class RecordRequest(BaseModel):
    report: AcceptedReport
    evaluation: Evaluation
    town: TownProfile | None = None  # the profile evaluated against (kept in the ledger)


class RefusedRow(BaseModel):
    """A row the town workflow refused: kept raw in the quarantine with its problems."""

    key: str = Field(description="quarantine key: the row's submission id")
    row: str
    code: str | None = None
    period: str | None = None
    source: str | None = None
    submitted_by: str = "unknown"
    raw: dict = Field(default_factory=dict)
    problems: list[Problem]


class TakeRequest(BaseModel):
    town: TownProfile
    pack_id: str
    reports: list[AcceptedReport] = Field(default_factory=list, description="accepted, numbered, in file order")
    refused: list[RefusedRow] = Field(default_factory=list)
    late: list[SupervisionRequest] = Field(default_factory=list, description="overdue months these reports close")
    evaluations: bool = Field(default=False, description="answer with every evaluation (one-report callers)")


class Recorded(BaseModel):
    submission_id: str
    period: str
    revision: int
    failed: list[str]


class TakeResult(BaseModel):
    recorded: list[Recorded]
    latest: Evaluation | None = Field(default=None, description="the evaluation of the latest period recorded")
    evaluations: list[Evaluation] = Field(default_factory=list)


# ---------------------------------------------------------------- report supervision and bulletins


class SupervisionRequest(BaseModel):
    code: str
    period: str
    due: str  # ISO date the report was due
    pack_id: str = DEFAULT_PACK
    received_at: datetime | None = None


class PublishRequest(BaseModel):
    quarter: str
    by: str = "schedule"
    pack_id: str = DEFAULT_PACK


class PublishResult(BaseModel):
    """A bulletin stored (now or before): there is none for a refused quarter (the activity raises)."""

    quarter: str
    published_at: datetime
    published_by: str
    new: bool
    towns: int
    behind_schedule: int
    early_warnings: int
    missing_reports: int


# ---------------------------------------------------------------- assessment rounds

OUT_OF_ORDER = "RoundOutOfOrder"


class PrepareRequest(BaseModel):
    round_id: str
    kind: RoundKind
    year: int
    pack_id: str
    city_tax_growth: float | None = None
    started_by: str
    started_role: str = "office"


class RoundPlan(BaseModel):
    pack: PackRef
    codes: list[str]
    context: AnnualContext | None = Field(
        default=None, description="the city context itself (older builds; now recorded once in the ledger)"
    )
    context_hash: str | None = Field(
        default=None, description="the inputs hash of the round's context entry in the ledger (Keys.context)"
    )
    approval_overdue_days: float


class BatchRequest(BaseModel):
    round_id: str
    kind: RoundKind
    year: int
    pack_id: str
    pack_hash: str = ""
    codes: list[str]
    context: AnnualContext | None = None
    context_hash: str | None = Field(
        default=None, description="instead of the context: the hash of the round's context entry in the ledger"
    )


class ProposalSummary(BaseModel):
    code: str
    proposed_grade: str
    score: float | None = None


class ApplyRequest(BaseModel):
    round_id: str
    kind: RoundKind
    year: int
    pack_id: str
    pack_hash: str = ""
    by: str
    role: str = "office"
    overrides: dict[str, Override]
    codes: list[str]


class ApprovalRecord(BaseModel):
    round_id: str
    by: str
    role: str = "office"
    overrides: list[Override] = []
    note: str = ""


class RoundRef(BaseModel):
    round_id: str
    kind: RoundKind
    year: int
    pack_id: str


# ---------------------------------------------------------------- the activities, declared


class ReportActivities:
    """A town's monthly reports (implemented by ``towns.activities.reports.Reports``)."""

    @activity.defn(name="take_reports")
    def take_reports(self, req: TakeRequest) -> TakeResult:
        """Evaluate and record a file's accepted rows, quarantine its refused rows, close overdue items."""
        raise NotImplementedError

    @activity.defn(name="evaluate_report")
    def evaluate_report(self, req: EvaluateRequest) -> Evaluation:
        """One report's evaluation (workflow runs started before file batches)."""
        raise NotImplementedError

    @activity.defn(name="record_report")
    def record_report(self, req: RecordRequest) -> int:
        """One report's recording (workflow runs started before file batches)."""
        raise NotImplementedError


class BulletinActivities:
    """The quarterly bulletin and report supervision (``towns.activities.bulletins.Bulletins``)."""

    @activity.defn(name="publish_bulletin")
    def publish_bulletin(self, req: PublishRequest) -> PublishResult:
        raise NotImplementedError

    @activity.defn(name="record_overdue")
    def record_overdue(self, req: SupervisionRequest) -> None:
        raise NotImplementedError

    @activity.defn(name="record_late")
    def record_late(self, req: SupervisionRequest) -> None:
        raise NotImplementedError


class RoundActivities:
    """An assessment round (``towns.activities.rounds.Rounds``)."""

    @activity.defn(name="prepare_round")
    def prepare_round(self, req: PrepareRequest) -> RoundPlan:
        raise NotImplementedError

    @activity.defn(name="evaluate_round_batch")
    def evaluate_round_batch(self, req: BatchRequest) -> list[ProposalSummary]:
        raise NotImplementedError

    @activity.defn(name="sum_up_round")
    def sum_up_round(self, ref: RoundRef) -> CityAggregates:
        raise NotImplementedError

    @activity.defn(name="mark_round_overdue")
    def mark_round_overdue(self, ref: RoundRef) -> None:
        raise NotImplementedError

    @activity.defn(name="check_round_order")
    def check_round_order(self, ref: RoundRef) -> list[str]:
        raise NotImplementedError

    @activity.defn(name="apply_round_batch")
    async def apply_round_batch(self, req: ApplyRequest) -> list[DecisionNotice]:
        raise NotImplementedError

    @activity.defn(name="close_round")
    def close_round(self, ref: RoundRef) -> None:
        raise NotImplementedError

    @activity.defn(name="record_approval")
    def record_approval(self, req: ApprovalRecord) -> None:
        raise NotImplementedError
