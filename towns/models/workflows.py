"""The contracts of the workflows: their ids, inputs, views, Update/Signal names and the types
of the errors they refuse with. Clients (the importer, the CLI, the coming web API) and the
workflows themselves meet here; ``towns.workflows`` holds only the deterministic code.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from .activities import ProposalSummary
from .finding import DEFAULT_PACK, Evaluation, PackRef
from .report import ReportedPeriod, Sanity
from .round import RoundKind
from .town import TownProfile

# the signal an applied decision is sent to its town with (sent by the apply activity)
APPLY_DECISION = "apply_decision"

# ---------------------------------------------------------------- a town

REJECTED = "ReportRejected"


def workflow_id(code: str) -> str:
    return f"town-{code}"


class TownStart(BaseModel):
    profile: TownProfile
    pack_id: str = DEFAULT_PACK
    limits: Sanity = Field(description="plausibility bounds from the rule pack, fixed when the town is registered")
    reported: dict[str, ReportedPeriod] = Field(default_factory=dict)
    latest: Evaluation | None = None
    warnings: int = 0
    last_grade: str | None = None
    decisions: list[str] = Field(default_factory=list, description="rounds whose decision was applied")
    report_due_day: int = Field(default=10, description="a month's report is due on this day of the next month")
    watch_next: str | None = Field(default=None, description="the next month whose report the timer watches")
    overdue: dict[str, str] = Field(default_factory=dict, description="open overdue months → due date")
    registered_at: datetime | None = Field(
        default=None,
        description="when the town was registered (its registry row's registered_at): the first month it owes "
        "a report is reckoned from it (models.period.reporting_from); without it, from the workflow's start",
    )


class ReportOutcome(BaseModel):
    code: str
    period: str
    revision: int
    evaluation: Evaluation | None = Field(default=None, description="None when unchanged (nothing new evaluated)")
    status: str = "accepted"  # accepted | corrected | unchanged


class TownView(BaseModel):
    profile: TownProfile
    pack_id: str
    periods_reported: int
    last_period: str | None
    latest: Evaluation | None
    warnings: int = 0
    last_grade: str | None = None
    decisions: list[str] = Field(default_factory=list)
    watch_next: str | None = None
    overdue: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------- a round

REFUSED = "ApprovalRefused"


def round_id(year: int, kind: str, programme: str = DEFAULT_PACK) -> str:
    """``round-2018-annual``; a programme other than the default has its own: ``round-hz2019-2019-annual``."""
    return f"round-{year}-{kind}" if programme == DEFAULT_PACK else f"round-{programme}-{year}-{kind}"


class RoundStart(BaseModel):
    kind: RoundKind
    year: int
    pack_id: str = DEFAULT_PACK
    city_tax_growth: float | None = None
    started_by: str = "office"
    started_role: str = "office"  # staff (web), os-user (CLI); older rounds: office


class RoundView(BaseModel):
    id: str
    kind: str
    year: int
    state: str
    pack: PackRef | None = None
    proposals: list[ProposalSummary] = Field(default_factory=list)
    overdue: bool = False
    approved_by: str | None = None


# ---------------------------------------------------------------- a bulletin


class BulletinRequest(BaseModel):
    quarter: str | None = None  # None: the quarter just ended (what the schedule asks for)
    by: str = "schedule"
    pack_id: str = DEFAULT_PACK
