"""Assessment rounds as `towns round show|list` show them, from our database.

A round (``round-<year>-<kind>``) proposes a grade per town (``proposals``), waits for approval
and applies one decision per town (``decisions``). ``round_detail`` reads a round in three
statements, ``round_list`` every round in two.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models.finding import DEFAULT_PACK, Finding, PackRef
from ..models.round import DecisionRow, Grade, ProposalRow, RoundKind, RoundRow, later_decisions, order_problems
from ..models.town import Town
from ..models.vocab import TownState
from .common import Recorded

RoundState = Literal["evaluating", "proposed", "applied"]
"""evaluating: gathering records and proposing; proposed: waiting for approval; applied: decided."""


class DecisionEffects(BaseModel):
    """What a decision does to its town when applied (its registry fields after it)."""

    state: TownState
    tier: str
    warnings: int = Field(description="consecutive annual warnings after the decision")
    listed_year: int | None = Field(default=None, description="the year listed (set by an admission)")
    creation_years: int | None = Field(default=None, description="the creation period (set by an admission)")
    acceptance_failures: int = Field(default=0, description="acceptance rounds failed after the decision")


class TownStanding(BaseModel):
    """A town's registry fields just before a decision was applied (a decision's ``before``).
    Every decision records all of them; a field is None only in a record that left it out."""

    state: TownState | None = None
    tier: str | None = None
    warnings: int | None = None
    last_grade: Grade | None = None
    listed_year: int | None = None
    creation_years: int | None = None
    acceptance_failures: int | None = None


class RoundCity(BaseModel):
    """The round's city-wide aggregates and findings (the pack's city checks, and approval-overdue)."""

    values: dict[str, Any] = Field(default_factory=dict, description="totals, district quotas, city tax growth, …")
    findings: list[Finding] = Field(default_factory=list)


class RoundTown(BaseModel):
    """One town of a round: what was proposed and, once approved, what was decided."""

    code: str
    name: str = Field(description="the town's name (empty if it is no longer registered)")
    tier: str = Field(description="the tier the town was assessed in")
    proposed_grade: Grade
    proposed_grade_zh: str
    final_grade: Grade | None = Field(default=None, description="the approved grade; None until approved")
    final_grade_zh: str | None = None
    score: float | None = Field(default=None, description="annual score (points); None for other kinds")
    findings: list[Finding] = Field(default_factory=list, description="the findings the proposal rests on")
    reason: str = Field(default="", description="why an override changed the proposed grade")
    by: str | None = Field(default=None, description="who approved")
    effects: DecisionEffects | None = Field(default=None, description="what the decision does to the town")
    inputs: dict[str, Any] = Field(default_factory=dict, description="the inputs snapshot the proposal used")


class RoundDetail(BaseModel):
    """What `towns round show` shows of a round."""

    id: str = Field(description="round-<year>-<kind>")
    kind: RoundKind
    kind_zh: str
    year: int = Field(description="the year assessed")
    state: RoundState
    pack: PackRef = Field(description="the rule pack the round pinned")
    started_by: str
    started_at: Recorded
    approved_by: str | None = None
    approved_at: Recorded | None = None
    overdue: bool = Field(description="its approval is overdue")
    city_tax_growth: float | None = Field(default=None, description="the city-wide tax growth the office gave")
    city: RoundCity
    towns: list[RoundTown]


class RoundSummary(BaseModel):
    """One line of `towns round list`."""

    id: str
    kind: RoundKind
    year: int
    state: RoundState
    towns: int = Field(description="towns proposed")
    started_by: str
    approved_by: str | None = None
    overdue: bool
    pack: str = Field(description="rule pack id and version, e.g. 'sx2018 2018.2'")


def round_detail(engine: Engine, round_id: str) -> RoundDetail | None:
    """A round with its towns (by code), or None when there is no such round."""
    with Session(engine) as s:
        row = s.get(RoundRow, round_id)
        if row is None:
            return None
        proposals = s.exec(
            select(ProposalRow, Town.name)
            .outerjoin(Town, col(Town.code) == col(ProposalRow.code))
            .where(ProposalRow.round_id == round_id)
            .order_by(col(ProposalRow.code))
        ).all()
        decisions = {d.code: d for d in s.exec(select(DecisionRow).where(DecisionRow.round_id == round_id)).all()}
    towns = []
    for p, name in proposals:
        prop = p.proposal
        d = decisions.get(p.code)
        towns.append(
            RoundTown.model_validate(
                dict(
                    code=p.code,
                    name=name or "",
                    tier=prop["tier"],
                    proposed_grade=prop["proposed_grade"],
                    proposed_grade_zh=Grade.parse(prop["proposed_grade"]).zh,
                    final_grade=d.final_grade if d else None,
                    final_grade_zh=Grade.parse(d.final_grade).zh if d else None,
                    score=prop.get("score"),
                    findings=prop.get("findings", []),
                    reason=d.reason if d else "",
                    by=d.by if d else None,
                    effects=d.effects if d else prop.get("effects"),
                    inputs=prop.get("inputs", {}),
                )
            )
        )
    return RoundDetail.model_validate(
        dict(
            id=row.id,
            kind=row.kind,
            kind_zh=RoundKind.parse(row.kind).zh,
            year=row.year,
            state=row.state,
            pack=PackRef(id=row.pack_id, version=row.pack_version, hash=row.pack_hash),
            started_by=row.started_by,
            started_at=row.started_at,
            approved_by=row.approved_by,
            approved_at=row.approved_at,
            overdue=row.overdue,
            city_tax_growth=row.city_tax_growth,
            city=row.city or RoundCity(),
            towns=towns,
        )
    )


def round_list(engine: Engine) -> list[RoundSummary]:
    """Every round, by year and start."""
    with Session(engine) as s:
        rows = s.exec(select(RoundRow).order_by(col(RoundRow.year), col(RoundRow.started_at))).all()
        counts: dict[str, int] = dict(
            s.exec(select(ProposalRow.round_id, func.count()).group_by(col(ProposalRow.round_id))).all()
        )
    return [
        RoundSummary.model_validate(
            dict(
                id=r.id,
                kind=r.kind,
                year=r.year,
                state=r.state,
                towns=counts.get(r.id, 0),
                started_by=r.started_by,
                approved_by=r.approved_by,
                overdue=r.overdue,
                pack=f"{r.pack_id} {r.pack_version}",
            )
        )
        for r in rows
    ]


def order_refusals(engine: Engine, kind: RoundKind, year: int, programme: str = DEFAULT_PACK) -> list[str]:
    """Why a round for ``year`` would come too late for some of its towns (empty when it would not):
    a decision for a later year has been applied to them (decisions apply in year order)."""
    # imported here: the round workflow's contracts bring Temporal, the scope the round rules (the
    # reads of `towns status` and `towns history` need neither)
    from ..models.workflows import round_id
    from ..rules.library import load_programme
    from ..rules.scope import in_scope

    pack = load_programme(engine, programme, date(year, 12, 31))
    with Session(engine) as s:
        scope = [t.code for t in s.exec(select(Town)).all() if in_scope(t, kind, year, pack)]
        return order_problems(later_decisions(s, scope, kind.value, year), round_id(year, kind.value, programme))
