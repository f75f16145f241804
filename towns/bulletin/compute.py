"""The quarterly bulletin (季度通报): what it says, computed from our database.

A bulletin for quarter ``YYYYQn`` reads the latest revision of every town's year-to-date
report for the quarter's last month (``2018-06`` for ``2018Q2``) and says:

- each town's completion of its annual FAI target (``monthly.annual_target``), its rank in
  the city and within its tier, and whether it is behind schedule (completion below the
  elapsed share of the year × ``pace_factor``, the pack's monthly pace rule);
  with its failed findings of the quarter's three months;
- each district's total against its quota (the pack's districts);
- the city's totals against the city targets, the non-government share of the towns the
  pack's nongov-share check takes, and the cumulative investment month by month;
- early warnings (the towns of the pack's city-g6-risk check): towns that would be graded warning or worse if
  the year ended on the current pace (the annual assessment of ``rules/annual.py`` run on
  figures projected to December);
- missing reports: the reports for the quarter's three months (for ``2018Q2`` those of April,
  May and June, due by 10 May, 10 June and 10 July) that had not arrived by their due date,
  for the months each town owed (``models.period.reporting_from``, the months its workflow
  watches): late when received after the due date but before the as-of, open when not
  received by the as-of. The last month's report falls due at the as-of itself, so it is
  either on time or open.

Towns in scope are those on a list in the quarter's year (state creating or named,
listed_year ≤ year), as they stood then (below). A town without a report for the last
month is kept, with no figures, completion 0 and behind schedule. Comparisons are exact
(fractions of the decimals as written, as in ``rules/monthly.py``); numbers are rounded
(half up) only for output. Money in 亿元.

**Reproducible: as of the quarter's reports.** A past quarter's bulletin is the same
whenever it is computed. Its content is a function of the quarter and of what had been
recorded by the quarter's **as-of** (``quarter_as_of``): the end, in Beijing time (UTC+8),
of the day the quarter's last month's report is due — day ``report_due_day`` of the month
after the quarter, in the programme's pack in force for the quarter (on its last day). For
Shaoxing's ``2018Q2`` (June's reports due on 10 July) that is 2018-07-10 24:00 +08:00,
2018-07-10T16:00Z: a June report received on 8 July is in the bulletin, and a record made
at 2018-07-10T16:00Z, 00:00 on 11 July in Beijing, is not. Everything recorded between the
quarter's end and the as-of counts (reports, corrections, findings, decisions). Never the
clock, never the issue date (printed, nothing more):

- reports count as received by the as-of (``received_at``): a revision, a late report or a
  correction received later changes neither figures nor ranks nor missing reports;
- findings count as recorded by the as-of (``recorded_at``);
- decisions count when recorded by the as-of *and* in effect in the quarter's year
  (business time, below);
- a missing report is open or late as it stood at the as-of.

Data loaded after the fact is the one exception: a town registered after the as-of was not
known to the office during the quarter, and a bulletin recomputed for the quarter shows
its history as loaded (its reports and findings whenever recorded; its decisions by
business time). It owed no report then (``reporting_from``), so it is never missing. (A
town registered before the as-of follows the rule above; registered between the quarter's
end and the as-of, it owes the last month's report, as its workflow does.) A draft computed
before the as-of reads what was recorded by the end of its issue day, and counts missing
only the reports already due by then.

**Standing (business time).** A town's standing (state, tier, consecutive warnings, last
grade, listed year, creation period, acceptance failures) is taken from the decisions table,
where every applied decision keeps ``before`` (the town's fields just before it was
applied), in the order applied (by id):

- a decision of an **annual** or **acceptance** round for year Y judges year Y: it takes
  effect from 1 January of Y+1;
- a decision of an **application** round for year Y admits towns listed in Y: it takes
  effect from 1 January of Y;
- a decision recorded after the as-of is not in effect, whatever its year.

So for a quarter of year QY the decisions not yet in effect are the annual and acceptance
ones with year ≥ QY, the application ones with year > QY and those recorded after the
as-of. A town with such decisions stood as the ``before`` of the earliest applied of them
(``standing_as_of``); otherwise its row is as it stands (decisions are the only thing that
change it). Scope, tiers (annual targets, tier ranks, the G4 share), the early warnings
(warnings before, last grade) and the months owed all use that standing.

**Publishing.** A bulletin is published once its as-of has passed — on a day after the due
day of the quarter's last month's report (Beijing time; from 11 July for Shaoxing's
``2018Q2``) — for a quarter in which at least one town was on a creation list; otherwise
``BulletinRefused`` says why in Chinese and English (``check_publishable``;
``compute_bulletin`` refuses the same quarters unless asked for a draft):

- before the quarter has ended (00:00 Beijing time on the next quarter's first day): the
  quarter is not over;
- between the quarter's end and the as-of (1–10 July for ``2018Q2``): the last month's
  reports are still coming in on time, and a bulletin issued then would be computed from an
  incomplete month; the refusal names the as-of and the first day the bulletin can be
  issued. (The scheduled run is on the programme's bulletin day, the 15th in Shaoxing,
  after it.) ``compute_bulletin(..., draft=True)`` still gives a draft, marked as such,
  read up to the end of its issue day.

Every bulletin carries its issue date (``issued_on``, a Beijing date given by the caller)
and its as-of day (``as_of``); computed again on a later day it differs in the issue date
only. A bulletin over towns registered by the demo carries the synthetic-data notice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models.finding import FindingRow, PackRef
from ..models.period import report_deadline, report_due_date, reporting_from
from ..models.provenance import DEMO_ACTOR, SYNTHETIC_NOTE
from ..models.report import MONEY_FIELDS, Figures, MonthlyReport
from ..models.round import DecisionRow, Grade, RoundKind, TownRecord
from ..models.times import CST
from ..models.times import as_utc as _utc
from ..models.times import iso_utc as _iso
from ..models.town import ON_LIST_STATES, Town, TownProfile
from ..rules import annual
from ..rules.library import load_programme
from ..rules.monthly import Target, annual_target, exact
from ..rules.pack import RulePack
from ..rules.vocabulary import PackVocabulary

# ---------------------------------------------------------------- labels (for the renderers)

SECTION_LABELS = {
    "city": "全市 City",
    "towns": "小镇进度 Town progress",
    "districts": "区县进度 District progress",
    "early_warnings": "预警 Early warnings",
    "missing_reports": "缺报 Missing reports",
    "monthly_cumulative": "逐月累计投资 Cumulative investment by month",
}

# sheet names of the workbook (Excel: at most 31 characters)
SHEET_NAMES = {
    "city": "城市 City",
    "towns": "小镇 Towns",
    "districts": "区县 Districts",
    "early_warnings": "预警 Early warnings",
    "missing_reports": "缺报 Missing reports",
}

FIELD_LABELS = {
    "rank": "排名 rank",
    "tier_rank": "类别内排名 tier rank",
    "code": "代码 code",
    "name": "名称 name",
    "district": "区县 district",
    "tier": "类别 tier",
    "fai": "累计固定资产投资 YTD FAI (亿元)",
    "industry_fai": "累计特色产业投资 YTD industry FAI (亿元)",
    "nongov_fai": "累计非政府投资 YTD non-gov FAI (亿元)",
    "annual_target": "年度目标 annual target (亿元)",
    "completion": "完成率 completion",
    "behind_schedule": "落后进度 behind schedule",
    "findings": "问题 findings",
    "total": "累计投资 total FAI (亿元)",
    "quota": "任务 quota (亿元)",
    "elapsed_share": "时序进度 elapsed share",
    "towns": "小镇 towns",
    "projected_grade": "预计等级 projected grade",
    "projected_score": "预计得分 projected score",
    "projected_fai": "预计全年投资 projected FAI (亿元)",
    "warnings_before": "此前连续警告 warnings before",
    "reasons": "原因 reasons",
    "period": "月份 period",
    "due": "截止日期 due",
    "status": "状态 status",
    "received_at": "收到时间 received at",
    "indicator": "指标 indicator",
    "value": "数值 value",
    "target": "目标 target",
    "clause": "条款 clause",
    "total_fai": "累计投资 cumulative FAI (亿元)",
    "towns_reported": "报送小镇数 towns reported",
}

CITY_LABELS = {
    "total_fai": "全市固定资产投资 city FAI (亿元)",
    "total_industry_fai": "全市特色产业投资 city industry FAI (亿元)",
    "provincial_nongov_share": "省级小镇非政府投资占比 provincial non-gov share",
}

STATUS_LABELS = {"open": "未报 open", "late": "迟报 late"}

QUARTER_ZH = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}

# grades of the annual assessment that G6 warns about, worst first
RISKY_GRADES = (Grade.eliminated.value, Grade.demoted.value, Grade.warning.value)
# the pack's checks whose tiers say which towns the early warnings and the non-government share take
EARLY_WARNING_CHECK = "city-g6-risk"
NONGOV_CHECK = "nongov-share"
# findings written by the town workflow about a report's timeliness, not by a report's evaluation
PROCESS_RULES = ("report-overdue", "report-late")

_QUARTER = re.compile(r"^(\d{4})\s*[-_ ]?\s*[Qq]([1-4])$")


class QuarterError(ValueError):
    """Text that is not a quarter."""


def parse_quarter(raw: object) -> tuple[int, int]:
    """``"2018Q2"`` (also ``2018-Q2``, ``2018q2``) → ``(2018, 2)``; ``QuarterError`` (a ValueError) otherwise."""
    text = str(raw).strip()
    m = _QUARTER.match(text)
    if not m:
        raise QuarterError(
            f"'{raw}' is not a quarter; write it as YYYYQn with n from 1 to 4, e.g. 2018Q2 "
            f"/ 季度格式应为 YYYYQn（n 为 1–4），例如 2018Q2"
        )
    year = int(m.group(1))
    if not 1 <= year <= 9998:  # a quarter's first and next days must be dates
        raise QuarterError(f"'{raw}': the year must be from 0001 to 9998 / 年份应在 0001–9998 之间")
    return year, int(m.group(2))


def quarter_months(year: int, q: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def out(x: Fraction | None, places: int = 4) -> float | None:
    """Round half up, exactly (0.10625 → 0.1063), for output only."""
    if x is None:
        return None
    scale = 10**places
    return float(Fraction(math.floor(x * scale + Fraction(1, 2)), scale))


# ---------------------------------------------------------------- the bulletin


class TownFindingOut(BaseModel):
    period: str
    revision: int | None = None
    rule: str
    clause: str
    reason_zh: str
    reason_en: str


class TownProgress(BaseModel):
    code: str
    name: str
    district: str
    district_zh: str
    tier: str
    tier_zh: str
    reported: bool = Field(description="a report exists for the bulletin's period")
    revision: int | None = None
    fai: float | None = None
    industry_fai: float | None = None
    nongov_fai: float | None = None
    annual_target: float
    annual_target_source: str = ""
    completion: float = Field(description="YTD FAI ÷ annual target (a fraction: 0.5 = half)")
    rank: int
    tier_rank: int
    behind_schedule: bool
    findings: list[TownFindingOut] = Field(default_factory=list)


class DistrictProgress(BaseModel):
    district: str
    district_zh: str
    towns: list[str] = Field(default_factory=list)
    total: float
    quota: float | None = Field(default=None, description="none when no quota is in force for the year")
    completion: float | None = None
    elapsed_share: float


class MonthTotal(BaseModel):
    period: str
    total_fai: float
    towns_reported: int


class CityProgress(BaseModel):
    total_fai: float
    fai_target: float | None = Field(default=None, description="none when no city target is in force for the year")
    fai_completion: float | None = None
    total_industry_fai: float
    industry_fai_target: float | None = None
    industry_fai_completion: float | None = None
    provincial_nongov_share: float | None = None
    nongov_share_min: float | None = None
    monthly_cumulative: list[MonthTotal] = Field(default_factory=list)


class Reason(BaseModel):
    rule: str
    clause: str
    reason_zh: str
    reason_en: str


class EarlyWarning(BaseModel):
    code: str
    name: str
    district: str
    tier: str
    tier_zh: str
    projected_grade: str
    projected_grade_zh: str
    projected_score: float | None = None
    fai: float | None = Field(default=None, description="YTD FAI of the bulletin's period")
    projected_fai: float | None = None
    annual_target: float
    warnings_before: int
    basis_zh: str
    basis_en: str
    reasons: list[Reason] = Field(default_factory=list)


class MissingReport(BaseModel):
    code: str
    name: str
    period: str
    due: str | None = None
    status: str = Field(
        description="at the bulletin's as-of: open (not received by it), or late (received after its due date, "
        "before the as-of)"
    )
    status_zh: str
    received_at: str | None = None
    clause: str


class Bulletin(BaseModel):
    quarter: str
    year: int
    quarter_no: int
    title_zh: str
    title_en: str
    period: str
    elapsed_share: float
    pace_factor: float
    pack: PackRef
    issued_on: date | None = Field(
        default=None,
        description="the day the bulletin was issued (ISO date, Beijing "
        "time); missing only in bulletins published before it was recorded",
    )
    as_of: date | None = Field(
        default=None,
        description="the last day (Beijing time) whose records the bulletin reads, to its end: the due day of the "
        "quarter's last month's report (the programme's report due day of the next month: 2018-07-10 for "
        "Shaoxing's 2018Q2); a draft computed before then: its issue day. Bulletins published under the earlier "
        "rule say the quarter's last day, the day they read up to; missing only in bulletins published before "
        "it was recorded",
    )
    draft: bool = Field(default=False, description="computed on demand for a quarter never published (未发布草稿)")
    clauses: dict[str, str] = Field(default_factory=dict, description="what each figure answers to")
    synthetic_note: str | None = None
    towns: list[TownProgress]
    districts: list[DistrictProgress]
    city: CityProgress
    early_warnings: list[EarlyWarning]
    missing_reports: list[MissingReport]


def bulletin_title(year: int, q: int, city_zh: str, city_en: str) -> tuple[str, str]:
    return (f"{city_zh}特色小镇 {year}年{QUARTER_ZH[q]}通报", f"{city_en} characteristic towns, bulletin {year}Q{q}")


def _tiers_of(pack: RulePack, check_id: str) -> tuple[str, ...]:
    """The tiers a check of the pack takes (none when the pack has no such check in force)."""
    found = [c for c in pack.checks if c.id == check_id]
    if not found:
        return ()
    return tuple(found[0].tiers or [t.id for t in pack.tiers])


def _param(pack: RulePack, path: str) -> Fraction | None:
    return exact(pack.value(path)) if pack.has(path) else None


def _clause(pack: RulePack, path: str) -> str:
    return pack.param(path).clause if pack.has(path) else ""


# ---------------------------------------------------------------- when a bulletin can be published


class BulletinRefused(ValueError):
    """A quarter whose bulletin cannot be published; the message is bilingual."""

    def __init__(self, quarter: str, zh: str, en: str):
        self.quarter, self.zh, self.en = quarter, zh, en
        super().__init__(f"{zh} / {en}")


def quarter_start(year: int, q: int) -> date:
    return date(year, 3 * q - 2, 1)


def quarter_end(year: int, q: int) -> date:
    """The day the quarter is over: it ends at 00:00 Beijing time on this day (the next quarter's first)."""
    return date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)


def quarter_as_of(year: int, q: int, due_day: int) -> datetime:
    """The as-of of the quarter's bulletin: the end, in Beijing time, of the day the report for the
    quarter's last month is due (day ``due_day``, the pack's ``report_due_day``, of the next
    month) — 00:00 on 11 July 2018 (+08:00) for 2018Q2 with due day 10. A bulletin of the quarter
    reads what was recorded before it."""
    return report_deadline(quarter_months(year, q)[-1], due_day)


def bulletin_as_of(year: int, q: int, issued_on: date, due_day: int) -> datetime:
    """What the bulletin of ``year``Q``q`` issued on ``issued_on`` reads up to (exclusive): the
    quarter's as-of (``quarter_as_of``); for a draft issued before it, the end of its issue day. A
    bulletin issued after the as-of (every published one) reads up to it, whatever the issue date."""
    end_of_day = datetime.combine(issued_on + timedelta(days=1), time(), tzinfo=CST)
    return min(quarter_as_of(year, q, due_day), end_of_day)


def beijing_today(now: datetime | None = None) -> date:
    """Today in Beijing (UTC+8): the date a bulletin is issued on. ``now`` defaults to the clock."""
    now = now or datetime.now(UTC)
    return _utc(now).astimezone(CST).date()


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        raise TypeError("issued_on is a date (Beijing time), not a datetime: use beijing_today(moment)")
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def refusal(
    year: int, q: int, issued_on: date, towns_on_list: int | None, due_day: int, clause: str = ""
) -> BulletinRefused | None:
    """Why the bulletin of ``year``Q``q`` cannot be issued on ``issued_on`` (None when it can): the
    quarter has not ended; or its as-of (the end of the due day ``due_day`` of its last month's
    report) has not passed; or no town was on a list (``towns_on_list``; None: not asked).
    ``clause``: the programme's calendar clause, cited."""
    quarter, zh_q = f"{year}Q{q}", f"{year}年{QUARTER_ZH[q]}"
    cite = f"（{clause}）" if clause else ""
    cite_en = f" ({clause})" if clause else ""
    end = quarter_end(year, q)
    if issued_on < end:
        return BulletinRefused(
            quarter,
            f"{zh_q}尚未结束（北京时间 {end.isoformat()} 零时结束）：季度通报只能在季度结束后发布{cite}",
            f"{quarter} has not ended (it ends at 00:00 on {end.isoformat()}, Beijing time): a quarter's bulletin "
            f"can be published only once the quarter is over{cite_en}",
        )
    last = quarter_months(year, q)[-1]
    due = report_due_date(last, due_day)
    if issued_on <= due:
        first = due + timedelta(days=1)
        return BulletinRefused(
            quarter,
            f"{zh_q}通报数据截至北京时间 {due.isoformat()} 24 时（{last} 月报报送截止日）：截止前 {last} 月报尚未报齐，"
            f"通报须在 {first.isoformat()} 及以后发布{cite}",
            f"{quarter}'s bulletin reads what was recorded by the end of {due.isoformat()} (Beijing time), the day "
            f"the {last} reports are due: before then that month is incomplete, so it can be published from "
            f"{first.isoformat()}{cite_en}",
        )
    if towns_on_list == 0:
        return BulletinRefused(
            quarter,
            f"{zh_q}没有列入创建名单的小镇：无内容可发布{cite}",
            f"no town was on a creation list in {quarter}: nothing to publish{cite_en}",
        )
    return None


def check_publishable(engine: Engine, quarter: str, issued_on: date | str, programme: str = "sx2018") -> None:
    """Raise ``BulletinRefused`` unless the bulletin of ``quarter`` can be published on ``issued_on``:
    the quarter's as-of has passed (the quarter has ended and its last month's reports fell due) and
    a town was on a creation list in it (as it stood then)."""
    year, q = parse_quarter(quarter)
    issued = _as_date(issued_on)
    pack = load_programme(engine, programme, quarter_end(year, q) - timedelta(days=1))
    day, clause = pack.programme.report_due_day, pack.programme.calendar_clause
    why = refusal(year, q, issued, None, day, clause)
    if why is None:
        towns = towns_in_scope(engine, year, quarter_as_of(year, q, day), programme)
        why = refusal(year, q, issued, len(towns), day, clause)
    if why is not None:
        raise why


# ---------------------------------------------------------------- a town as it stood (business time)

STANDING_FIELDS = ("state", "tier", "warnings", "last_grade", "listed_year", "creation_years", "acceptance_failures")


def in_effect(kind: str, decision_year: int, year: int) -> bool:
    """Whether a decision of a ``kind`` round for ``decision_year`` is in effect during ``year``:
    annual and acceptance decisions judge their year and count from 1 January of the next;
    application decisions admit towns listed in their year and count from 1 January of it."""
    if kind == RoundKind.application.value:
        return decision_year <= year
    return decision_year < year


def _recorded_before(moment: datetime, as_of: datetime | None) -> bool:
    return as_of is None or _utc(moment) < as_of


def standing_as_of(town: Town, decisions: list[DecisionRow], year: int, as_of: datetime | None = None) -> Town:
    """``town`` as it stood during ``year`` (and, given ``as_of``, as recorded before that
    moment): its row with the ``before`` of the earliest applied (lowest id) of its decisions not
    yet in effect that year (or recorded at or after ``as_of``), or the row itself when all are.
    ``decisions`` may hold other towns' decisions; they are ignored. Returns a detached copy
    (or the row itself when nothing is undone)."""
    pending = _first_pending(town, decisions, year, as_of)
    if pending is None:
        return town
    before = pending.before or {}
    row = Town.model_validate(town.model_dump())
    for k in STANDING_FIELDS:
        if k in before:
            setattr(row, k, before[k])
    return row


def known_then(town: Town, as_of: datetime | None) -> bool:
    """Whether the office knew the town before ``as_of`` (it was registered by then). A town
    registered later had its history loaded after the fact: its records are read whenever
    they were made (see the module docstring)."""
    return _recorded_before(town.registered_at, as_of)


def _first_pending(town: Town, decisions: list[DecisionRow], year: int, as_of: datetime | None) -> DecisionRow | None:
    """The earliest applied of the town's decisions not in effect during ``year`` (or recorded at
    or after ``as_of``): the town stood as its ``before``. None when every decision is in effect."""
    pending = [
        d
        for d in decisions
        if d.code == town.code and (not in_effect(d.kind, d.year, year) or not _recorded_before(d.recorded_at, as_of))
    ]
    return min(pending, key=lambda d: d.id if d.id is not None else 0) if pending else None


def _admitted(d: DecisionRow) -> bool:
    """A decision that put a town on a creation list (an application admitted)."""
    before, effects = d.before or {}, d.effects or {}
    return before.get("state") not in ON_LIST_STATES and effects.get("state") in ON_LIST_STATES


class _Standing:
    """Every town as it stood during a year, as recorded before a moment; and since when each
    was on a list (its registration, or the decision that admitted it)."""

    def __init__(self, s: Session, year: int, as_of: datetime | None):
        decisions: dict[str, list[DecisionRow]] = {}
        for d in s.exec(select(DecisionRow).order_by(col(DecisionRow.id))).all():
            decisions.setdefault(d.code, []).append(d)
        self.towns: dict[str, Town] = {}
        self.on_list_since: dict[str, datetime] = {}
        for t in s.exec(select(Town)).all():
            mine = decisions.get(t.code, [])
            cutoff = as_of if known_then(t, as_of) else None
            stood = standing_as_of(t, mine, year, cutoff)
            self.towns[t.code] = stood
            # on a list since its registration, or since the decision in effect that admitted it
            first = _first_pending(t, mine, year, cutoff)
            since = _utc(t.registered_at)
            for d in mine:
                if first is not None and (d.id or 0) >= (first.id or 0):
                    break  # undone, with every decision applied after it
                if _admitted(d):
                    since = max(since, _utc(d.recorded_at))
            self.on_list_since[t.code] = since


def _standings(s: Session, year: int, as_of: datetime | None = None) -> dict[str, Town]:
    return _Standing(s, year, as_of).towns


def towns_in_scope(
    engine: Engine, year: int, as_of: datetime | None = None, programme: str | None = None
) -> list[Town]:
    """The towns (of ``programme``) on a creation list in ``year``, as they stood then (as recorded
    before ``as_of``), by code."""
    with Session(engine) as s:
        standing = _standings(s, year, as_of).values()
        mine = (t for t in standing if in_scope(t, year) and programme in (None, t.programme))
        return sorted(mine, key=lambda t: t.code)


# ---------------------------------------------------------------- helpers


def in_scope(town: Town, year: int) -> bool:
    return town.on_list_in(year)


def _ranks(values: dict[str, Fraction]) -> dict[str, int]:
    """Descending; ties share the better rank (1, 2, 2, 4)."""
    ranks: dict[str, int] = {}
    previous: Fraction | None = None
    rank = 0
    for i, (code, v) in enumerate(sorted(values.items(), key=lambda kv: kv[1], reverse=True), 1):
        if previous is None or v != previous:
            rank, previous = i, v
        ranks[code] = rank
    return ranks


def project(fig: Figures, month: int) -> Figures:
    """December figures if the year goes on at the pace of months 1..month: money × 12 ÷ month;
    counts (enterprises, talents, visits) and the scenic level as they are."""
    data = fig.model_dump()
    for f in MONEY_FIELDS:
        if data.get(f) is not None:
            data[f] = float(exact(data[f]) * 12 / month)
    return Figures.model_validate(data)


# ---------------------------------------------------------------- compute


def compute_bulletin(
    engine: Engine,
    quarter: str,
    pack: RulePack | str | None = None,
    *,
    issued_on: date | str,
    city_tax_growth: float | None = None,
    synthetic_note: str | None = None,
    draft: bool = False,
) -> Bulletin:
    """The bulletin of ``quarter`` (``"2018Q2"``) under ``pack`` (a RulePack or a pack id),
    issued on ``issued_on`` (a date in Beijing time, or its ISO text).

    The content is as of the quarter's reports (``bulletin_as_of``: the end of the due day of its
    last month's report, the pack's ``report_due_day``; see the module docstring): computed again
    on a later day, with later data recorded meanwhile, it differs in ``issued_on`` only. Raises
    ``BulletinRefused`` when issued before that as-of has passed (the quarter not ended, or its
    last month's reports not yet due) or with no town on a list, unless ``draft`` (a bulletin
    shown before or instead of being published, marked so; before the as-of it reads up to the
    end of its issue day).
    ``city_tax_growth``: the office's city average tax growth for the early-warning
    projection (tax growth); without it the average is pooled over the towns, as a round does.
    ``synthetic_note``: a notice to print; without it, the synthetic-data notice when a town
    in scope was registered by the demo.
    """
    year, q = parse_quarter(quarter)
    if pack is None or isinstance(pack, str):
        # the programme as in force on the quarter's last day
        pack = load_programme(engine, pack or "sx2018", quarter_end(year, q) - timedelta(days=1))
    vocabulary = PackVocabulary(pack)
    issued = _as_date(issued_on)
    day = pack.programme.report_due_day
    as_of = bulletin_as_of(year, q, issued, day)
    months = quarter_months(year, q)
    period = months[-1]
    month = 3 * q
    elapsed = Fraction(month, 12)
    factor = _param(pack, "pace_factor") or Fraction(1)  # no pace factor in force: the elapsed share itself
    pace = elapsed * factor
    last_december = f"{year - 1:04d}-12"

    with Session(engine) as s:
        standing = _Standing(s, year, as_of)  # every town as it stood during the quarter's year
        all_towns = standing.towns
        later = {c for c, t in all_towns.items() if not known_then(t, as_of)}  # history loaded after the fact

        def known(code: str, moment: datetime) -> bool:
            return code in later or _recorded_before(moment, as_of)

        reports = [
            r
            for r in s.exec(
                select(MonthlyReport).where(MonthlyReport.period >= last_december, MonthlyReport.period <= period)
            ).all()
            if known(r.code, r.received_at)
        ]
        finding_rows = [
            f
            for f in s.exec(select(FindingRow).where(col(FindingRow.period).in_(months))).all()
            if known(f.code, f.recorded_at)
        ]

    towns = sorted(
        (t for t in all_towns.values() if in_scope(t, year) and t.programme == pack.pack.id), key=lambda t: t.code
    )
    codes = {t.code for t in towns}
    if not draft:
        why = refusal(year, q, issued, len(towns), day, pack.programme.calendar_clause)
        if why is not None:
            raise why
    if synthetic_note is None and any(t.registered_by == DEMO_ACTOR for t in towns):
        synthetic_note = SYNTHETIC_NOTE

    # latest revision of each (town, period); first receipt of each (town, period)
    latest: dict[tuple[str, str], MonthlyReport] = {}
    first_received: dict[tuple[str, str], datetime] = {}
    for rep in reports:
        key = (rep.code, rep.period)
        if key not in latest or rep.revision > latest[key].revision:
            latest[key] = rep
        got = _utc(rep.received_at)
        if key not in first_received or got < first_received[key]:
            first_received[key] = got

    # ---- towns
    profiles = {t.code: t.profile() for t in towns}
    targets = {c: annual_target(p, pack) for c, p in profiles.items()}
    completion: dict[str, Fraction] = {}
    for t in towns:
        r = latest.get((t.code, period))
        target = targets[t.code].value
        completion[t.code] = exact(r.fai) / target if r is not None and target > 0 else Fraction(0)
    city_rank = _ranks(completion)
    tier_rank: dict[str, int] = {}
    for tier in {t.tier for t in towns}:
        tier_rank.update(_ranks({t.code: completion[t.code] for t in towns if t.tier == tier}))

    findings_by_town = _town_findings(finding_rows)

    town_out = []
    for t in towns:
        r = latest.get((t.code, period))
        town_out.append(
            TownProgress(
                code=t.code,
                name=t.name,
                district=t.district,
                district_zh=vocabulary.zh("district", t.district),
                tier=t.tier,
                tier_zh=vocabulary.zh("tier", t.tier),
                reported=r is not None,
                revision=r.revision if r is not None else None,
                fai=r.fai if r is not None else None,
                industry_fai=r.industry_fai if r is not None else None,
                nongov_fai=r.nongov_fai if r is not None else None,
                annual_target=out(targets[t.code].value),
                annual_target_source=targets[t.code].source_en,
                completion=out(completion[t.code]),
                rank=city_rank[t.code],
                tier_rank=tier_rank[t.code],
                behind_schedule=r is None or completion[t.code] < pace,
                findings=findings_by_town.get(t.code, []),
            )
        )
    town_out.sort(key=lambda x: (x.rank, x.code))

    # ---- districts
    district_out = []
    for district in pack.districts:
        mine = [t.code for t in towns if t.district == district.id]
        total = sum((exact(latest[(c, period)].fai) for c in mine if (c, period) in latest), Fraction(0))
        q_ = exact(district.quota) if district.quota is not None else None
        district_out.append(
            DistrictProgress(
                district=district.id,
                district_zh=district.zh,
                towns=mine,
                total=out(total),
                quota=out(q_),
                completion=None if q_ is None else out(total / q_) if q_ > 0 else 0.0,
                elapsed_share=out(elapsed),
            )
        )

    # ---- city
    now = [latest[(t.code, period)] for t in towns if (t.code, period) in latest]
    total_fai = sum((exact(r.fai) for r in now), Fraction(0))
    total_ind = sum((exact(r.industry_fai) for r in now), Fraction(0))
    nongov_tiers = _tiers_of(pack, NONGOV_CHECK)
    prov = [r for r in now if all_towns[r.code].tier in nongov_tiers]
    prov_fai = sum((exact(r.fai) for r in prov), Fraction(0))
    prov_nongov = sum((exact(r.nongov_fai) for r in prov), Fraction(0))
    fai_target = _param(pack, "city_fai_target")
    ind_target = _param(pack, "city_industry_fai_target")
    cumulative = []
    for m in range(1, month + 1):
        p = f"{year:04d}-{m:02d}"
        rows = [latest[(c, p)] for c in sorted(codes) if (c, p) in latest]
        cumulative.append(
            MonthTotal(
                period=p, total_fai=out(sum((exact(r.fai) for r in rows), Fraction(0))), towns_reported=len(rows)
            )
        )
    city = CityProgress(
        total_fai=out(total_fai),
        fai_target=out(fai_target),
        fai_completion=None if fai_target is None else out(total_fai / fai_target) if fai_target else 0.0,
        total_industry_fai=out(total_ind),
        industry_fai_target=out(ind_target),
        industry_fai_completion=None if ind_target is None else out(total_ind / ind_target) if ind_target else 0.0,
        provincial_nongov_share=out(prov_nongov / prov_fai) if prov_fai else None,
        nongov_share_min=out(_param(pack, "nongov_share_min")),
        monthly_cumulative=cumulative,
    )

    # ---- early warnings
    warnings_out = _early_warnings(
        towns, profiles, targets, latest, period, year, month, pack, city_tax_growth, city_rank
    )

    # ---- missing reports
    missing = _missing_reports(towns, standing.on_list_since, first_received, months, as_of, pack)

    title_zh, title_en = bulletin_title(year, q, pack.programme.city_zh, pack.programme.city_en)
    g6 = [c.clause for c in pack.checks if c.id == EARLY_WARNING_CHECK]
    clauses = {
        "pace_factor": _clause(pack, "pace_factor"),
        "fai_target": _clause(pack, "city_fai_target"),
        "industry_fai_target": _clause(pack, "city_industry_fai_target"),
        "nongov_share_min": _clause(pack, "nongov_share_min"),
        "district_quotas": next((d.quota_clause for d in pack.districts if d.quota is not None), ""),
        "early_warnings": g6[0] if g6 else "",
        "bulletin": pack.programme.calendar_clause,
        "missing_reports": pack.programme.calendar_clause,
    }
    return Bulletin(
        quarter=f"{year}Q{q}",
        year=year,
        quarter_no=q,
        title_zh=title_zh,
        title_en=title_en,
        period=period,
        elapsed_share=out(elapsed),
        pace_factor=out(factor),
        pack=pack.ref,
        issued_on=issued,
        as_of=(as_of - timedelta(days=1)).astimezone(CST).date(),
        draft=draft,
        clauses=clauses,
        synthetic_note=synthetic_note,
        towns=town_out,
        districts=district_out,
        city=city,
        early_warnings=warnings_out,
        missing_reports=missing,
    )


def _town_findings(rows: Sequence[FindingRow]) -> dict[str, list[TownFindingOut]]:
    """Failed findings per town: a report's findings only from the latest revision of its period;
    the workflow's own findings (overdue, late) whatever their revision."""
    newest: dict[tuple[str, str], int] = {}
    for f in rows:
        if f.rule in PROCESS_RULES:
            continue
        key = (f.code, f.period)
        newest[key] = max(newest.get(key, f.revision), f.revision)
    by_town: dict[str, list[TownFindingOut]] = {}
    seen: set[tuple] = set()
    for f in sorted(rows, key=lambda f: (f.code, f.period, f.rule, f.id or 0)):
        if f.passed:
            continue
        if f.rule not in PROCESS_RULES and f.revision != newest[(f.code, f.period)]:
            continue
        dedupe = (f.code, f.period, f.rule, f.revision if f.rule not in PROCESS_RULES else None)
        if dedupe in seen:
            continue
        seen.add(dedupe)
        by_town.setdefault(f.code, []).append(
            TownFindingOut(
                period=f.period,
                revision=f.revision,
                rule=f.rule,
                clause=f.clause,
                reason_zh=f.reason_zh,
                reason_en=f.reason_en,
            )
        )
    return by_town


def _early_warnings(
    towns: list[Town],
    profiles: dict[str, TownProfile],
    targets: dict[str, Target],
    latest: dict[tuple[str, str], MonthlyReport],
    period: str,
    year: int,
    month: int,
    pack: RulePack,
    city_tax_growth: float | None,
    city_rank: dict[str, int],
) -> list[EarlyWarning]:
    """Every town of the bulletin as an annual round would see it if December's figures were
    this month's × 12 ÷ month; the city context (pooled tax growth, innovation ranks) is
    computed over them all, as a round does; provincial towns on a creation list graded
    warning or worse are listed."""
    dec_last = f"{year - 1:04d}-12"
    records = []
    for t in towns:
        december: dict[int, Figures] = {}
        r = latest.get((t.code, period))
        if r is not None:
            december[year] = project(r.figures(), month)
        last = latest.get((t.code, dec_last))
        if last is not None:
            december[year - 1] = last.figures()
        records.append(
            TownRecord(
                profile=profiles[t.code],
                warnings=t.warnings,
                last_grade=t.last_grade,
                acceptance_failures=t.acceptance_failures,
                december=december,
                latest=december.get(year),
            )
        )
    ctx = annual.annual_context(records, year, pack, city_tax_growth)
    basis_zh = f"按1–{month}月累计数推算全年（金额 × 12/{month}，个数和景区等级按现值）"
    basis_en = (
        f"December projected from the January–{month:02d} year-to-date figures "
        f"(money × 12/{month}; counts and scenic level as they are)"
    )
    found = []
    for rec in records:
        if rec.profile.tier not in _tiers_of(pack, EARLY_WARNING_CHECK):
            continue
        proposal = annual.evaluate_annual_town(rec, year, pack, ctx)
        if proposal.proposed_grade not in RISKY_GRADES:
            continue
        code = rec.profile.code
        r = latest.get((code, period))
        dec = rec.december.get(year)
        b_zh, b_en = basis_zh, basis_en
        if r is None:
            b_zh = f"{period} 无报表，无法推算：按全年无数据评定"
            b_en = f"no report for {period}: nothing to project, assessed as a year without figures"
        found.append(
            EarlyWarning(
                code=code,
                name=rec.profile.name,
                district=rec.profile.district,
                tier=rec.profile.tier,
                tier_zh=PackVocabulary(pack).zh("tier", rec.profile.tier),
                projected_grade=proposal.proposed_grade,
                projected_grade_zh=Grade.parse(proposal.proposed_grade).zh,
                projected_score=proposal.score,
                fai=r.fai if r is not None else None,
                projected_fai=out(exact(dec.fai)) if dec is not None else None,
                annual_target=out(targets[code].value),
                warnings_before=rec.warnings,
                basis_zh=b_zh,
                basis_en=b_en,
                reasons=[
                    Reason(rule=f.rule, clause=f.clause, reason_zh=f.reason_zh, reason_en=f.reason_en)
                    for f in proposal.findings
                    if not f.passed
                ],
            )
        )
    found.sort(key=lambda w: (RISKY_GRADES.index(w.projected_grade), city_rank[w.code], w.code))
    return found


def owed_months(town: Town, on_list_since: datetime, months: list[str], due_day: int) -> list[str]:
    """Of ``months``, those whose report ``town`` (as it stood) owed, on a list since ``on_list_since``:
    from ``reporting_from`` on — the months its workflow watches."""
    first = reporting_from(town.listed_year, on_list_since, due_day)
    return [p for p in months if p >= first]


def _missing_reports(
    towns: list[Town],
    on_list_since: dict[str, datetime],
    first_received: dict[tuple[str, str], datetime],
    months: list[str],
    as_of: datetime,
    pack: RulePack,
) -> list[MissingReport]:
    """The reports for the quarter's ``months`` due by the as-of (all three, the last one exactly
    at it; a draft's, those due by its issue day) that had not arrived by their due date, for the
    months each town in scope owed (``owed_months``, the months its workflow watches and records
    ``report-overdue`` for): open when still not received at the as-of, late when received after
    the due date. ``first_received`` holds only the receipts made before the as-of, so a report
    received later leaves the month open."""
    day = int(pack.value("report_due_day"))
    result = []
    for t in towns:
        for p in owed_months(t, on_list_since[t.code], months, day):
            deadline = report_deadline(p, day)
            if deadline > as_of:
                continue  # not due yet (a draft computed before the as-of)
            got = first_received.get((t.code, p))
            if got is not None and got < deadline:
                continue  # arrived on time
            status = "open" if got is None else "late"
            result.append(
                MissingReport(
                    code=t.code,
                    name=t.name,
                    period=p,
                    due=report_due_date(p, day).isoformat(),
                    status=status,
                    status_zh=STATUS_LABELS[status].split()[0],
                    received_at=_iso(got),
                    clause=pack.programme.calendar_clause,
                )
            )
    result.sort(key=lambda m: (m.period, m.code))
    return result
