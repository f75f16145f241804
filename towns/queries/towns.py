"""A town's status (`towns status`): its registry row, its latest report and that report's findings.

``all_status`` reads every town in a fixed number of statements, however many towns there are:
the towns, then for all of them at once the number of months reported, the latest revision of
each town's last month, that revision's findings, the rejection counts and (as of a moment) the
decisions recorded after it. ``town_status`` runs the same statements for one town.

They are Core statements on the tables, and the towns are their registry rows as dicts
(``Registry``), not ORM instances (see ``towns.queries``): ``get_town``, the ORM row, is for
the callers that want one.

As of a moment (recording time), a town is shown as it stood then: the reports and rejections
recorded by then, and its registry fields (state, tier, counters) as they were before the
first decision recorded after it (every decision keeps ``before``, the town's fields just
before it was applied).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import distinct, func, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from ..models.finding import FindingRow
from ..models.ledger import LedgerEntry
from ..models.rejection import Rejection
from ..models.report import FIGURE_FIELDS, MonthlyReport
from ..models.round import DecisionRow, Grade
from ..models.tables import table
from ..models.town import Town, profile_of
from ..models.vocab import TownState
from ..rules.library import load_pack
from ..rules.measures import annual_target  # (not via rules.monthly, which brings the rule engine)
from ..rules.text import num
from ..rules.vocabulary import PackVocabulary
from .common import ClauseFinding, Moment, Recorded, clause_finding, recorded_after, recorded_by

Registry = dict[str, Any]
"""A town's registry row: its fields (the ``towns`` columns) by name."""

# the registry fields a decision changes (and keeps in its ``before``)
STANDING_FIELDS = ("state", "tier", "warnings", "last_grade", "listed_year", "creation_years", "acceptance_failures")


class ReportFigures(BaseModel):
    """The figures of one monthly report: year to date, money in 亿元."""

    fai: float = Field(description="fixed-asset investment 固定资产投资, year to date, 亿元")
    industry_fai: float = Field(description="characteristic-industry investment 特色产业投资, YTD, 亿元")
    nongov_fai: float = Field(description="non-government investment 非政府投资, year to date, 亿元")
    tax: float | None = Field(default=None, description="tax revenue 税收收入, year to date, 亿元")
    new_enterprises: int | None = Field(default=None, description="newly settled enterprises 新入驻企业, YTD")
    high_tech_enterprises: int | None = Field(default=None, description="high-tech enterprises 高新技术企业")
    high_end_talents: int | None = Field(default=None, description="high-end talents 高端人才")
    tourists_10k: float | None = Field(default=None, description="tourist visits 游客接待, year to date, 万人次")
    scenic_level: int | None = Field(default=None, description="scenic-area level 景区等级 (0–5, 3 = 3A)")


def report_figures(r: Any) -> dict[str, Any]:
    """The figures of a report, a row of ``monthly_reports``."""
    return {k: getattr(r, k) for k in FIGURE_FIELDS}


class LastReport(ReportFigures):
    """The latest revision of a town's last reported month."""

    revision: int = Field(description="1 for the first report of the month, 2 for its first correction, …")


class TownStatus(BaseModel):
    """What `towns status` shows of one town (as it stood at ``as_of`` when one is given)."""

    code: str
    name: str
    district: str
    district_zh: str = Field(description="区县, e.g. 柯桥区")
    tier: str
    tier_zh: str = Field(description="层级, e.g. 省级创建")
    industry: str
    industry_zh: str = Field(description="产业, e.g. 时尚")
    state: TownState
    state_zh: str = Field(description="状态, e.g. 创建中")
    listed_year: int | None = Field(default=None, description="the year the town entered its list")
    creation_years: int = Field(description="length of the creation period, years")
    annual_fai_target: float = Field(description="annual fixed-asset investment target, 亿元 (rounded to 4 places)")
    annual_fai_target_source: str = Field(description="where the target comes from, in English")
    periods_reported: int = Field(description="months with at least one report recorded")
    last_period: str | None = Field(default=None, description="the last month reported, YYYY-MM")
    last_report: LastReport | None = Field(default=None, description="the latest revision of that month")
    findings: list[ClauseFinding] = Field(default_factory=list, description="the findings on that revision")
    failed: list[str] = Field(default_factory=list, description="the rules among them that failed")
    rejections: int = Field(description="rows of the town refused so far (the quarantine)")
    warnings: int = Field(description="consecutive annual warnings")
    last_grade: Grade | None = Field(default=None, description="the last annual grade decided")
    acceptance_failures: int = Field(description="acceptance rounds failed so far")
    applying_for: str | None = Field(default=None, description="the tier applied for, until a round decides")
    as_of: Moment | None = Field(default=None, description="the recording time shown, when not now")


def get_town(engine: Engine, code: str) -> Town | None:
    with Session(engine) as s:
        return s.get(Town, code)


def town_status(engine: Engine, town: Town | str, as_of: datetime | None = None) -> TownStatus:
    """One town's status: ``town`` is its registry row (as read by the caller) or its code.

    ``KeyError`` for a code that is not registered."""
    if isinstance(town, str):
        found = status_of(engine, town, as_of)
        if found is None:
            raise KeyError(town)
        return found
    with engine.connect() as conn:
        return _statuses(conn, [town.model_dump()], as_of, only=town.code)[0]


def status_of(engine: Engine, code: str, as_of: datetime | None = None) -> TownStatus | None:
    """One town's status by its code, None for a code that is not registered (`towns status CODE`:
    the registry row and the four statements of ``_statuses``, on one connection)."""
    with engine.connect() as conn:
        town = registry_row(conn, code)
        return None if town is None else _statuses(conn, [town], as_of, only=code)[0]


def all_status(engine: Engine, as_of: datetime | None = None) -> list[TownStatus]:
    """Every town registered (by ``as_of``), by district and code; a fixed number of statements."""
    towns = table(Town)
    q = select(towns).order_by(towns.c.district, towns.c.code)
    if as_of is not None:
        q = q.where(recorded_by(towns.c.registered_at, as_of))
    with engine.connect() as conn:
        return _statuses(conn, [dict(r) for r in conn.execute(q).mappings()], as_of)


def registry_row(conn: Connection, code: str) -> Registry | None:
    """A town's registry row (its ``towns`` columns by name), None for a code that is not registered."""
    towns = table(Town)
    row = conn.execute(select(towns).where(towns.c.code == code)).mappings().first()
    return None if row is None else dict(row)


def as_it_stood(town: Mapping[str, Any], before: Mapping[str, Any] | None) -> Registry:
    """The registry row as it stood before a decision, given the decision's ``before`` (None: as it is)."""
    return {**town, **{k: before[k] for k in STANDING_FIELDS if k in before}} if before else dict(town)


def first_later_decisions(conn: Connection, as_of: datetime, only: str | None = None) -> dict[str, dict[str, Any]]:
    """Per town, the ``before`` of the first decision recorded after ``as_of``: the town's registry
    fields as they stood at ``as_of`` (one statement)."""
    decisions = table(DecisionRow)
    q = (
        select(decisions.c.code, decisions.c.before)
        .where(recorded_after(decisions.c.recorded_at, as_of))
        .order_by(decisions.c.recorded_at, decisions.c.id)
    )
    if only is not None:
        q = q.where(decisions.c.code == only)
    first: dict[str, dict[str, Any]] = {}
    for code, before in conn.execute(q).all():
        first.setdefault(code, dict(before))
    return first


def _statuses(
    conn: Connection, towns: list[Registry], as_of: datetime | None, only: str | None = None
) -> list[TownStatus]:
    """The status of each of ``towns`` (registry rows), from four statements (five as of a moment)
    whatever their number; ``only`` narrows every statement to that town's code."""
    reports, findings, rejections = table(MonthlyReport), table(FindingRow), table(Rejection)

    def cut(q: Any, code_col: Any, time_col: Any) -> Any:
        if only is not None:
            q = q.where(code_col == only)
        if as_of is not None:
            q = q.where(recorded_by(time_col, as_of))
        return q

    # months reported, per town
    periods: dict[str, int] = dict(
        conn.execute(
            cut(
                select(reports.c.code, func.count(distinct(reports.c.period))).group_by(reports.c.code),
                reports.c.code,
                reports.c.recorded_at,
            )
        ).all()
    )
    # the latest revision of each town's last month: the first by (period, revision), newest first
    rank = func.row_number().over(
        partition_by=reports.c.code, order_by=(reports.c.period.desc(), reports.c.revision.desc())
    )
    ranked = cut(select(reports.c.id.label("id"), rank.label("rank")), reports.c.code, reports.c.recorded_at).subquery()
    latest_ids = select(ranked.c.id).where(ranked.c.rank == 1)
    last = {r.code: r for r in conn.execute(select(reports).where(reports.c.id.in_(latest_ids))).all()}
    # their findings
    by_submission: dict[str, list[Any]] = {}
    latest_submissions = select(reports.c.submission_id).where(reports.c.id.in_(latest_ids))
    for f in conn.execute(
        select(findings).where(findings.c.submission_id.in_(latest_submissions)).order_by(findings.c.id)
    ).all():
        by_submission.setdefault(f.submission_id, []).append(f)
    # rows refused
    rejected: dict[str, int] = dict(
        conn.execute(
            cut(
                select(rejections.c.code, func.count()).group_by(rejections.c.code),
                rejections.c.code,
                rejections.c.received_at,
            )
        ).all()
    )
    standing = first_later_decisions(conn, as_of, only) if as_of is not None else {}

    packs: dict[str, PackVocabulary] = {}
    out = []
    for row in towns:
        town = as_it_stood(row, standing.get(row["code"]))
        code = town["code"]
        vocab = packs.setdefault(town["programme"], PackVocabulary(load_pack(town["programme"])))
        target = annual_target(profile_of(town), vocab.pack)
        rep = last.get(code)
        found = by_submission.get(rep.submission_id, []) if rep else []
        out.append(
            TownStatus.model_validate(
                dict(
                    code=code,
                    name=town["name"],
                    district=town["district"],
                    district_zh=vocab.zh("district", town["district"]),
                    tier=town["tier"],
                    tier_zh=vocab.zh("tier", town["tier"]),
                    industry=town["industry"],
                    industry_zh=vocab.zh("industry", town["industry"]),
                    state=town["state"],
                    state_zh=TownState.parse(town["state"]).zh,
                    listed_year=town["listed_year"],
                    creation_years=town["creation_years"],
                    annual_fai_target=num(target.value),
                    annual_fai_target_source=target.source_en,
                    periods_reported=periods.get(code, 0),
                    last_period=rep.period if rep else None,
                    last_report={**report_figures(rep), "revision": rep.revision} if rep else None,
                    findings=[clause_finding(f) for f in found],
                    failed=[f.rule for f in found if not f.passed],
                    rejections=rejected.get(code, 0),
                    warnings=town["warnings"],
                    last_grade=town["last_grade"],
                    acceptance_failures=town["acceptance_failures"],
                    applying_for=town["applying_for"],
                    as_of=as_of,
                )
            )
        )
    return out


class RecordingStart(BaseModel):
    """When recording began in this database, and how much has been recorded since (what to tell
    someone whose ``--as-of`` falls before everything)."""

    first_registered_at: Recorded | None = Field(default=None, description="when the first town was registered")
    ledger_entries: int = Field(description="entries in the decision ledger")


def recording_start(engine: Engine) -> RecordingStart:
    towns = table(Town)
    with engine.connect() as conn:
        first = conn.execute(select(func.min(towns.c.registered_at))).scalar_one()
        entries = conn.execute(select(func.count()).select_from(table(LedgerEntry))).scalar_one()
    return RecordingStart(first_registered_at=first, ledger_entries=entries)
