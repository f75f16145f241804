"""Assessment rounds: contracts between the round workflow, its activities and the rules,
and the tables that keep rounds, proposals and decisions.

A round (``round-<year>-<kind>``) pins a rule pack, gathers each town's record, proposes
a grade per town with findings and a score, waits for office staff to approve (with
overrides that carry a reason), and applies the decisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy import select as core_select
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, col, select

from .finding import Finding
from .ledger import referenced_inputs
from .period import year_month
from .report import Figures, MonthlyReport
from .tables import table
from .town import Town, TownProfile, profile_of
from .vocab import Vocab


class RoundKind(Vocab):
    application = ("application", "创建申报审核")
    annual = ("annual", "年度考核")
    acceptance = ("acceptance", "验收命名")


class Grade(Vocab):
    excellent = ("excellent", "优秀")
    good = ("good", "良好")
    pass_ = ("pass", "合格")
    warning = ("warning", "警告")
    demoted = ("demoted", "降格")
    eliminated = ("eliminated", "淘汰")
    named = ("named", "命名")
    not_named = ("not_named", "未通过验收")
    admitted = ("admitted", "准予创建")
    rejected = ("rejected", "不予创建")


GRADES_BY_KIND = {
    RoundKind.annual: {Grade.excellent, Grade.good, Grade.pass_, Grade.warning, Grade.demoted, Grade.eliminated},
    RoundKind.acceptance: {Grade.named, Grade.not_named, Grade.demoted, Grade.eliminated},
    RoundKind.application: {Grade.admitted, Grade.rejected},
}


class TownRecord(BaseModel):
    """What a round knows of one town when it starts (gathered by an activity)."""

    profile: TownProfile
    warnings: int = Field(default=0, description="consecutive annual warnings before this round")
    last_grade: str | None = None
    acceptance_failures: int = Field(default=0, description="acceptance rounds failed so far")
    applying_for: str | None = Field(default=None, description="tier applied for (application rounds)")
    december: dict[int, Figures] = Field(
        default_factory=dict, description="year → latest revision of the December year-to-date report"
    )
    latest: Figures | None = Field(default=None, description="latest report up to December of the round's year")
    annual_grade: str | None = Field(default=None, description="the final annual grade of the round's year, if decided")


class Effects(BaseModel):
    """What a decision does to its town when applied."""

    state: str
    tier: str
    warnings: int
    listed_year: int | None = None
    creation_years: int | None = None
    acceptance_failures: int = 0


class TownProposal(BaseModel):
    code: str
    name: str
    tier: str
    proposed_grade: str
    score: float | None = None
    findings: list[Finding] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict, description="the inputs snapshot the proposal used")
    effects: Effects


class CityAggregates(BaseModel):
    values: dict[str, Any] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)


class AnnualContext(BaseModel):
    """City-wide figures every town's annual evaluation needs (computed over the whole round)."""

    city_tax_growth: float | None
    city_tax_growth_source: str  # "office" (--city-tax-growth) | "pooled" (the round's towns) | "none"
    innovation_scores: dict[str, float | str] = Field(
        default_factory=dict, description="code → innovation points, exact ('15/2'; older rounds: a float)"
    )
    city_tax_growth_exact: str | None = Field(
        default=None, description="the city average growth as an exact fraction (older rounds: none)"
    )


class Override(BaseModel):
    code: str
    grade: str
    reason: str = ""


class Approval(BaseModel):
    by: str
    role: str = Field(default="office", description="the approver's role: staff (web), os-user (CLI); older: office")
    overrides: list[Override] = Field(default_factory=list)
    note: str = ""


class DecisionNotice(BaseModel):
    """Sent to a town workflow when a decision is applied."""

    round_id: str
    kind: str
    year: int
    grade: str
    effects: Effects
    by: str
    reason: str = ""


# ---------------------------------------------------------------- tables


class RoundRow(SQLModel, table=True):
    __tablename__ = "rounds"

    id: str = SQLField(primary_key=True, max_length=64)
    kind: str
    year: int
    state: str = "evaluating"  # evaluating | proposed | applied
    pack_id: str
    pack_version: str
    pack_hash: str
    started_by: str
    started_at: datetime
    city_tax_growth: float | None = None
    city: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    approved_by: str | None = None
    approved_at: datetime | None = None
    overdue: bool = False


class ProposalRow(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("round_id", "code", name="uq_proposal"),)

    id: int | None = SQLField(default=None, primary_key=True)
    round_id: str = SQLField(index=True, max_length=64)
    code: str = SQLField(index=True, max_length=32)
    proposal: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    recorded_at: datetime


class DecisionRow(SQLModel, table=True):
    """An applied decision: append-only."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("round_id", "code", name="uq_decision"),)

    id: int | None = SQLField(default=None, primary_key=True)
    round_id: str = SQLField(index=True, max_length=64)
    kind: str
    year: int
    code: str = SQLField(index=True, max_length=32)
    proposed_grade: str
    final_grade: str
    score: float | None = None
    by: str
    reason: str = ""
    before: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    effects: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    pack_id: str
    pack_version: str
    pack_hash: str
    recorded_at: datetime


# ---------------------------------------------------------------- the order decisions apply in

# Annual and acceptance decisions change a town's counters (consecutive warnings, acceptance
# failures, last grade) and are applied in the order of the years they judge: annual Y, then
# acceptance Y, then year Y+1. Application decisions admit towns and stand outside that order.
ORDER = {RoundKind.annual.value: 0, RoundKind.acceptance.value: 1}


def later_decisions(
    session: Session, codes: list[str], kind: str, year: int, excluding_round: str | None = None
) -> dict[str, list[DecisionRow]]:
    """Per town, the applied decisions that come after a ``kind`` round for ``year`` in that order
    (empty for application rounds)."""
    if kind not in ORDER or not codes:
        return {}
    mine = (year, ORDER[kind])
    later: dict[str, list[DecisionRow]] = {}
    rows = session.exec(
        select(DecisionRow)
        .where(
            col(DecisionRow.code).in_(codes),
            col(DecisionRow.kind).in_(list(ORDER)),
            DecisionRow.year >= year,
        )
        .order_by(col(DecisionRow.id))
    ).all()
    for d in rows:
        if d.round_id != excluding_round and (d.year, ORDER[d.kind]) > mine:
            later.setdefault(d.code, []).append(d)
    return later


def order_problems(later: dict[str, list[DecisionRow]], round_label: str, shown: int = 8) -> list[str]:
    """What to tell the office about the towns whose later decisions a round would undo: one line per
    later round, naming its towns (the first ``shown`` of them)."""
    towns_by_round: dict[str, list[str]] = {}
    for code, ds in sorted(later.items()):
        for d in ds:
            towns_by_round.setdefault(d.round_id, []).append(code)
    out = []
    for rid, codes in sorted(towns_by_round.items()):
        named = ", ".join(codes[:shown]) + (f" and {len(codes) - shown} more" if len(codes) > shown else "")
        out.append(
            f"{rid} is already applied to {len(codes)} of its towns ({named}), and {round_label} judges an "
            "earlier year: decisions apply in year order, so an earlier round cannot change their counters now "
            f"（{rid} 已应用于其中 {len(codes)} 个小镇，不能再以较早年度的结果改变其状态）"
        )
    return out


# ---------------------------------------------------------------- a round's view of its towns


RECORDS_CHUNK = 500  # towns per statement (SQLite's limit on bound parameters)
FIGURES = tuple(Figures.model_fields)  # the report's columns a round reads


def load_records(session: Session, codes: list[str], year: int) -> list[TownRecord]:
    """Each town as a round sees it: profile, decision counters, December reports, latest report
    (a fixed number of statements per 500 towns)."""
    if len(codes) > RECORDS_CHUNK:
        return [
            r
            for i in range(0, len(codes), RECORDS_CHUNK)
            for r in load_records(session, codes[i : i + RECORDS_CHUNK], year)
        ]
    conn = session.connection()  # Core: a round reads every town's rows, an ORM object each cost more
    towns_t, reports_t, decisions_t = table(Town), table(MonthlyReport), table(DecisionRow)
    towns = {row["code"]: row for row in conn.execute(core_select(towns_t).where(towns_t.c.code.in_(codes))).mappings()}
    # the latest revision of every period up to December; only the figures are read (not the raw row)
    latest: dict[str, dict[str, tuple[int, Any]]] = {}
    figure_columns = [reports_t.c[name] for name in FIGURES]
    for row in conn.execute(
        core_select(reports_t.c.code, reports_t.c.period, reports_t.c.revision, *figure_columns).where(
            reports_t.c.code.in_(codes), reports_t.c.period <= f"{year:04d}-12"
        )
    ):
        mine = latest.setdefault(row.code, {})
        if row.period not in mine or row.revision > mine[row.period][0]:
            mine[row.period] = (row.revision, row)
    decided = core_select(decisions_t.c.code, decisions_t.c.final_grade).where(
        decisions_t.c.kind == "annual", decisions_t.c.year == year, decisions_t.c.code.in_(codes)
    )
    annual_grades: dict[str, str] = {str(code): str(grade) for code, grade in conn.execute(decided).all()}

    def figures(row: Any) -> Figures:
        return Figures.model_validate({name: getattr(row, name) for name in FIGURES})

    records = []
    for code in codes:
        t = towns[code]
        mine = latest.get(code, {})
        december = {year_month(p)[0]: figures(r) for p, (_, r) in mine.items() if p.endswith("-12")}
        last = figures(mine[max(mine)][1]) if mine else None
        records.append(
            TownRecord(
                profile=profile_of(t),
                warnings=t["warnings"],
                last_grade=t["last_grade"],
                acceptance_failures=t["acceptance_failures"],
                applying_for=t["applying_for"],
                december=december,
                latest=last,
                annual_grade=annual_grades.get(code),
            )
        )
    return records


def recorded_context(session: Session, inputs: dict[str, Any]) -> AnnualContext | None:
    """The city context a proposal's ledger entry was evaluated with: in the entry itself (older
    rounds) or referred to by key and hash (the round's context entry, recorded once)."""
    if inputs.get("context"):
        return AnnualContext.model_validate(inputs["context"])
    ref = inputs.get("context_ref")
    if ref:
        return AnnualContext.model_validate(referenced_inputs(session, ref["key"], ref["hash"]))
    return None
