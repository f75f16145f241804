"""Measures: the named, pure functions a pack's checks measure with — the only Python a check needs.

A measure reads the subject (a town's figures or record, or the round's towns) and the
check's threshold parameter, and returns what it measured, exactly (fractions of the
decimals as written, so that exactly 80 % is 80 %): the value, the effective threshold,
the variables its wording uses, the inputs the finding records, and the case (``default``,
or why the value is missing: ``no_report``, ``no_fai`` …) whose wording applies. Whether
the check applies, passes or fails is not decided here: the rule engine decides it from
the check's declaration (towns/rules/evaluator.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..models.report import Figures
from ..models.round import AnnualContext, TownProposal, TownRecord
from ..models.town import TownProfile
from .pack import Check, RulePack
from .text import num

INNOVATION_PARTS = ("high_tech_enterprises", "high_end_talents", "new_enterprises")
BAD_ANNUAL = ("warning", "demoted", "eliminated")


def ident(x: object) -> str:
    """A vocabulary value's id (an enum member's value, or the text itself)."""
    return str(getattr(x, "value", x))


def exact(x: float | int | str | Fraction) -> Fraction:
    """The decimal number as written (12.3 is 123/10, not the nearest binary float)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, float):
        return Fraction(Decimal(repr(x)))
    return Fraction(x)


def cmp(a: Fraction, b: Fraction) -> int:
    return (a > b) - (a < b)


@dataclass
class Subject:
    """What a check measures: one town (monthly, or in a round), or the round's towns (city)."""

    pack: RulePack
    year: int
    town: TownProfile | None = None
    figures: Figures | None = None  # monthly: the report's year-to-date figures
    month: int | None = None
    record: TownRecord | None = None  # rounds: the town's record
    context: AnnualContext | None = None
    score: Fraction | None = None  # grade and consequence stages
    band: Any = None
    grade: str | None = None
    capped: bool = False
    failures: list[str] = field(default_factory=list)  # ids of the failed checks so far
    records: list[TownRecord] = field(default_factory=list)  # city checks
    proposals: list[TownProposal] = field(default_factory=list)
    named_this_year: int = 0
    named_codes: list[str] = field(default_factory=list)
    relaxed: bool = False
    round_kind: str = ""

    @property
    def profile(self) -> TownProfile:
        if self.town is not None:
            return self.town
        assert self.record is not None, "a town check needs a town"
        return self.record.profile


@dataclass
class Measured:
    value: Fraction | int | None
    threshold: Fraction | int | None = None
    case: str = "default"
    missing: bool = False
    holds: bool | None = None  # for checks whose direction is "holds"
    earned: Fraction | None = None  # points, for scoring = "measured"
    suffix: str = ""  # a measure giving several findings: the id's suffix
    vars: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)


Measure = Callable[[Subject, Check, Any], "Measured | list[Measured]"]
MEASURES: dict[str, Measure] = {}


def measure(fn: Measure) -> Measure:
    MEASURES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- targets


@dataclass
class Target:
    value: Fraction
    clause: str
    source_en: str
    source_zh: str


def annual_target(town: TownProfile, pack: RulePack, acceptance_failures: int = 0) -> Target:
    """The town's annual FAI target (亿元), and where it comes from: its own, else its tier's
    (``target``: the provincial floor, or planned investment ÷ its creation years — the
    original ones, before any extension after a failed acceptance)."""
    if town.annual_fai_target is not None:
        own = pack.check("annual-investment").clause if _has_check(pack, "annual-investment") else ""
        return Target(exact(town.annual_fai_target), own, "the town's own annual target", "小镇年度目标")
    tier = pack.tier(ident(town.tier))
    if tier.target in ("planned", "planned_current"):
        planned = exact(town.planned_investment or 0)
        years = town.creation_years
        if tier.target == "planned" and pack.has("acceptance.extension_years"):
            years = max(1, years - acceptance_failures * int(pack.value("acceptance.extension_years")))
        return Target(
            planned / years,
            tier.ladder_clause,
            f"planned investment {num(planned)} ÷ {years} creation years",
            f"计划总投资 {num(planned)} ÷ 创建期 {years} 年",
        )
    relaxed = "relaxed" in pack.industry(ident(town.industry)).flags
    p = pack.param("annual.relaxed_fai_floor" if relaxed else "annual.fai_floor")
    return Target(
        exact(p.value),
        p.clause,
        "the provincial target for relaxed industries" if relaxed else "the provincial target",
        "省定目标（放宽产业）" if relaxed else "省定目标",
    )


def _has_check(pack: RulePack, check_id: str) -> bool:
    return any(c.id == check_id for c in pack.checks)


def _target(s: Subject) -> Target:
    failures = s.record.acceptance_failures if s.record is not None else 0
    return annual_target(s.profile, s.pack, failures)


def _target_inputs(t: Target) -> dict[str, Any]:
    return {"annual_target": num(t.value), "target_source": t.source_en, "target_clause": t.clause}


def _december(s: Subject, year: int | None = None) -> Figures | None:
    assert s.record is not None
    return s.record.december.get(s.year if year is None else year)


# ---------------------------------------------------------------- monthly and annual


@measure
def pace(s: Subject, check: Check, factor: Any) -> Measured:
    """Year-to-date FAI against the annual target × months gone ÷ 12 × the pace factor."""
    assert s.figures is not None and s.month is not None
    t = _target(s)
    f = exact(factor)
    fai = exact(s.figures.fai)
    thr = t.value * s.month / 12 * f
    return Measured(
        fai,
        thr,
        vars={
            "month": s.month,
            "target": t.value,
            "target_source_en": t.source_en,
            "target_source_zh": t.source_zh,
            "factor": f,
        },
        inputs={"fai": s.figures.fai, "month": s.month, **_target_inputs(t), "pace_factor": float(f)},
    )


@measure
def share(s: Subject, check: Check, minimum: Any) -> Measured:
    """``args.part`` ÷ FAI: of the month's report, or of the December report in a round."""
    part_name = check.args["part"]
    fig = s.figures if s.figures is not None else _december(s)
    thr = exact(minimum) if minimum is not None else None
    base = {"year": s.year}
    if fig is None:
        return Measured(None, thr, "no_report", True, vars=base, inputs={part_name: None, "fai": None})
    inputs = {part_name: getattr(fig, part_name), "fai": fig.fai}
    fai, part = exact(fig.fai), exact(getattr(fig, part_name))
    if fai == 0:
        return Measured(None, thr, "no_fai", True, vars=base, inputs=inputs)
    return Measured(part / fai, thr, vars={**base, "part": part, "fai": fai}, inputs=inputs)


@measure
def december_report(s: Subject, check: Check, _: Any) -> Measured:
    dec = _december(s)
    if dec is None:
        return Measured(None, None, "no_report", holds=False, vars={"year": s.year}, inputs={"year": s.year})
    return Measured(
        None, None, holds=True, vars={"year": s.year}, inputs={"year": s.year, "december": dec.model_dump()}
    )


@measure
def annual_fai(s: Subject, check: Check, _: Any) -> Measured:
    """The year's FAI (its December report; 0 without one) against the town's annual target."""
    dec = _december(s)
    t = _target(s)
    fai = exact(dec.fai) if dec is not None else Fraction(0)
    return Measured(
        fai,
        t.value,
        "default" if dec is not None else "no_report",
        vars={"year": s.year, "target_source_en": t.source_en, "target_source_zh": t.source_zh},
        inputs={"fai": dec.fai if dec is not None else None, **_target_inputs(t)},
    )


@measure
def tax_growth(s: Subject, check: Check, margin: Any) -> Measured:
    """December tax of Y on December tax of Y − 1, against the city average + the margin
    (``tax_growth_mode`` "points": + margin; "relative": + margin × |average|)."""
    assert s.record is not None and s.context is not None
    ctx = s.context
    dec, last = _december(s), _december(s, s.year - 1)
    tax = dec.tax if dec is not None else None
    tax_last = last.tax if last is not None else None
    mode = s.pack.value("tax_growth_mode") if s.pack.has("tax_growth_mode") else "points"
    m = exact(margin) if margin is not None else Fraction(0)
    avg = (
        exact(ctx.city_tax_growth_exact)
        if ctx.city_tax_growth_exact is not None
        else exact(ctx.city_tax_growth)
        if ctx.city_tax_growth is not None
        else None
    )
    inputs: dict[str, Any] = {
        "tax": tax,
        "tax_last_year": tax_last,
        "city_tax_growth": ctx.city_tax_growth,
        "city_tax_growth_source": ctx.city_tax_growth_source,
        "mode": mode,
        "margin": float(m),
    }
    v: dict[str, Any] = {"year": s.year, "last_year": s.year - 1, "tax": tax, "tax_last": tax_last}
    if tax is None:
        return Measured(None, None, "no_report" if dec is None else "no_figure", True, vars=v, inputs=inputs)
    if tax_last is None or tax_last == 0:
        first = s.profile.listed_year == s.year
        case = "first_year" if first else ("no_base" if tax_last is None else "zero_base")
        return Measured(None, None, case, True, vars=v, inputs=inputs)
    growth = exact(tax) / exact(tax_last) - 1
    v.update(tax=exact(tax), tax_last=exact(tax_last))
    if avg is None:
        return Measured(growth, None, "no_city_average", True, vars=v, inputs=inputs)
    required = avg + m if mode == "points" else avg + m * abs(avg)
    inputs["required"] = num(required, 6)
    v.update(
        avg=avg,
        margin_pct=num(m * 100, 2),
        relative=mode != "points",
        pooled=ctx.city_tax_growth_source == "pooled",
    )
    return Measured(growth, required, vars=v, inputs=inputs)


def innovation_index(fig: Figures | None) -> int:
    """high-tech enterprises + high-end talents + new enterprises (a missing count is 0)."""
    if fig is None:
        return 0
    return sum(getattr(fig, f) or 0 for f in INNOVATION_PARTS)


def rank_from_points(code: str, ctx: AnnualContext, weight: Fraction) -> tuple[int | None, int]:
    """(rank, n) recovered from the context (points = W × (n − rank) ÷ (n − 1))."""
    n = len(ctx.innovation_scores)
    if code not in ctx.innovation_scores:
        return None, n
    if n <= 1:
        return 1, n
    if weight == 0:
        return None, n
    return round(n - exact(ctx.innovation_scores[code]) * (n - 1) / weight), n


@measure
def innovation(s: Subject, check: Check, _: Any) -> Measured:
    """The innovation index and its points from the round's ranking (informational)."""
    assert s.context is not None and check.points is not None
    dec = _december(s)
    weight = exact(s.pack.value(check.points)) if s.pack.has(check.points) else Fraction(0)
    index = innovation_index(dec)
    code = s.profile.code
    earned = exact(s.context.innovation_scores.get(code, 0))
    rank, n = rank_from_points(code, s.context, weight)
    parts = {k: (getattr(dec, k) if dec is not None else None) for k in INNOVATION_PARTS}
    return Measured(
        index,
        None,
        "not_ranked" if rank is None else "default",
        earned=earned,
        vars={"rank": rank, "towns": n, "earned": earned, "weight": weight},
        inputs={**parts, "index": index, "rank": rank, "towns": n, "points": num(earned, 4)},
    )


@measure
def scenic_level(s: Subject, check: Check, minimum: Any) -> Measured:
    """The scenic level (``args.source``: of the December report, else the latest; or the latest)."""
    assert s.record is not None
    dec = _december(s)
    level: int | None
    if check.args.get("source") == "december" and dec is not None and dec.scenic_level is not None:
        level = dec.scenic_level
    else:
        level = s.record.latest.scenic_level if s.record.latest is not None else None
    need = int(minimum) if minimum is not None else None
    tourism = "tourism" in s.pack.industry(ident(s.profile.industry)).flags
    v = {"tourism": tourism and bool(check.threshold_if)}
    inputs: dict[str, Any] = {"scenic_level": level}
    inputs.update({"informational": True} if check.grade_effect == "none" else {"tourism": tourism})
    if level is None:
        return Measured(None, need, "no_level", True, vars=v, inputs=inputs)
    return Measured(level, need, vars=v, inputs=inputs)


@measure
def annual_grade(s: Subject, check: Check, _: Any) -> Measured:
    """The score, its band, and the grade after a failed check that caps it."""
    assert s.score is not None and s.band is not None and s.grade is not None
    score = float(s.score)
    return Measured(
        s.score,
        exact(s.band.min),
        holds=s.grade in ("excellent", "good", "pass"),
        vars={
            "score": score,
            "band": s.band.grade,
            "band_zh": s.pack.grade_zh(s.band.grade),
            "band_min": exact(s.band.min),
            "capped": s.capped,
        },
        inputs={"score": score, "band": s.band.grade, "band_min": s.band.min, "investment_target_met": not s.capped},
    )


@measure
def slow_and_poor(s: Subject, check: Check, ratio: Any) -> Measured:
    """Slow (annual FAI below ``ratio`` × target) and poor (score below the parameter ``args.poor_score``,
    by default annual.poor_score)."""
    assert s.score is not None
    dec = _december(s)
    t = _target(s)
    fai = exact(dec.fai) if dec is not None else Fraction(0)
    r = exact(ratio)
    poor_score = exact(s.pack.value(check.args.get("poor_score", "annual.poor_score")))
    slow = cmp(fai, r * t.value) < 0
    poor = cmp(s.score, poor_score) < 0
    score = float(s.score)
    return Measured(
        fai,
        r * t.value,
        holds=not (slow and poor),
        vars={"slow": slow, "poor": poor, "ratio": r, "score": score, "poor_score": poor_score},
        inputs={
            "fai": num(fai),
            "slow_threshold": num(r * t.value),
            "score": score,
            "poor_threshold": num(poor_score, 2),
            "slow": slow,
            "poor": poor,
        },
    )


def _ladder_vars(s: Subject, consequence: str) -> dict[str, Any]:
    tier = s.pack.tier(ident(s.profile.tier))
    low = s.pack.tier(tier.demotes_to) if tier.demotes_to else None
    nxt = {
        "demoted": ("demotion", "降格"),
        "eliminated": ("elimination", "淘汰"),
        "office": ("the office's decision", "由主管部门研究"),
    }
    return {
        "tier_en": tier.en,
        "tier_zh": tier.zh,
        "demotes_to_en": low.en if low else tier.en,
        "demotes_to_zh": low.zh if low else tier.zh,
        "next_en": nxt[consequence][0],
        "next_zh": nxt[consequence][1],
    }


@measure
def consecutive_warnings(s: Subject, check: Check, needed: Any) -> Measured | list[Measured]:
    """Only for a warning: this warning's number in a row, against the count that has consequences."""
    assert s.record is not None
    if s.grade != "warning":
        return []
    count = s.record.warnings + 1
    tier = s.pack.tier(ident(s.profile.tier))
    return Measured(
        count,
        int(needed),
        vars=_ladder_vars(s, tier.on_warnings),
        inputs={"warnings_before": s.record.warnings, "warnings_to_consequence": int(needed), "tier": tier.id},
    )


# ---------------------------------------------------------------- acceptance


def creation_years(s: Subject) -> list[int]:
    p = s.profile
    first = p.listed_year if p.listed_year is not None else s.year - p.creation_years + 1
    return list(range(first, s.year + 1))


@measure
def december_reports(s: Subject, check: Check, _: Any) -> list[Measured]:
    """One finding for each creation year without a December report."""
    assert s.record is not None
    return [
        Measured(None, None, "no_report", holds=False, suffix=f"-{y}", vars={"report_year": y}, inputs={"year": y})
        for y in creation_years(s)
        if s.record.december.get(y) is None
    ]


def _cumulative(s: Subject) -> tuple[Fraction, Fraction, dict[int, dict[str, float] | None]]:
    assert s.record is not None
    fai, ind = Fraction(0), Fraction(0)
    per_year: dict[int, dict[str, float] | None] = {}
    for y in creation_years(s):
        d = s.record.december.get(y)
        per_year[y] = None if d is None else {"fai": d.fai, "industry_fai": d.industry_fai}
        if d is not None:
            fai += exact(d.fai)
            ind += exact(d.industry_fai)
    return fai, ind, per_year


@measure
def cumulative_fai(s: Subject, check: Check, minimum: Any) -> Measured:
    fai, _, per_year = _cumulative(s)
    years = creation_years(s)
    return Measured(
        fai,
        exact(minimum),
        vars={"first": years[0], "year": s.year, "relaxed": s.relaxed},
        inputs={"years": per_year, "relaxed": s.relaxed},
    )


@measure
def cumulative_share(s: Subject, check: Check, minimum: Any) -> Measured:
    fai, ind, _ = _cumulative(s)
    years = creation_years(s)
    v = {"first": years[0], "year": s.year, "part": ind, "fai": fai}
    inputs = {"industry_fai": num(ind), "fai": num(fai)}
    if fai == 0:
        return Measured(None, exact(minimum), "no_fai", True, vars=v, inputs=inputs)
    return Measured(ind / fai, exact(minimum), vars=v, inputs=inputs)


@measure
def annual_grade_ok(s: Subject, check: Check, _: Any) -> Measured:
    """The final annual grade of the round's year is not a warning or worse (pending until decided)."""
    assert s.record is not None
    g = s.record.annual_grade
    v = {"year": s.year, "grade": g, "grade_zh": s.pack.grade_zh(g) if g else ""}
    if g is None:
        return Measured(None, None, "pending", True, vars=v, inputs={"annual_grade": None})
    return Measured(None, None, holds=g not in BAD_ANNUAL, vars=v, inputs={"annual_grade": g})


@measure
def acceptance_failures(s: Subject, check: Check, needed: Any) -> Measured | list[Measured]:
    """Only after a failed acceptance: this failure's number, against the count that has consequences."""
    assert s.record is not None
    if not s.failures:
        return []
    count = s.record.acceptance_failures + 1
    tier = s.pack.tier(ident(s.profile.tier))
    ext = int(s.pack.value("acceptance.extension_years")) if s.pack.has("acceptance.extension_years") else 0
    return Measured(
        count,
        int(needed),
        vars={**_ladder_vars(s, tier.on_acceptance_failures), "extension": ext},
        inputs={
            "acceptance_failures_before": s.record.acceptance_failures,
            "failures_to_consequence": int(needed),
            "extension_years": ext,
            "tier": tier.id,
        },
    )


# ---------------------------------------------------------------- applications


@measure
def applying_for(s: Subject, check: Check, _: Any) -> Measured:
    """The tier applied for is a list one can apply for, and not the town's own list."""
    assert s.record is not None
    p, raw = s.record.profile, s.record.applying_for
    inputs = {"applying_for": raw, "current_tier": ident(p.tier), "state": ident(p.state)}
    can = [t for t in s.pack.tiers if t.can_apply]
    v: dict[str, Any] = {
        "applying_raw": repr(raw),
        "choices_en": ", ".join(t.id for t in can),
        "choices_zh": "、".join(t.zh for t in can),
    }
    tier = next((t for t in can if raw is not None and (raw == t.id or raw == t.zh or raw in t.aliases)), None)
    if tier is None:
        return Measured(None, None, "invalid", holds=False, vars=v, inputs=inputs)
    v.update(applying_en=tier.id, applying_zh=tier.zh)
    if ident(p.state) != "applied" and ident(p.tier) == tier.id:
        return Measured(None, None, "already", holds=False, vars=v, inputs=inputs)
    return Measured(None, None, holds=True, vars=v, inputs=inputs)


@measure
def industry_allowed(s: Subject, check: Check, allowed: Any) -> Measured:
    ind = s.pack.industry(ident(s.profile.industry))
    ok = allowed is None or ind.id in allowed
    return Measured(None, None, holds=ok, vars={"industry": ind.id, "industry_zh": ind.zh}, inputs={"industry": ind.id})


@measure
def profile_figure(s: Subject, check: Check, limit: Any) -> Measured:
    """A figure of the application (``args.field``: planned area, core area, planned investment)."""
    name = check.args["field"]
    raw = getattr(s.profile, name)
    ind = s.pack.industry(ident(s.profile.industry))
    exempt = check.exempt is not None and check.exempt in ind.flags
    v: dict[str, Any] = {"relaxed": s.relaxed, "industry": ind.id, "industry_zh": ind.zh}
    inputs: dict[str, Any] = {name: raw}
    inputs.update({"exempt": exempt} if check.exempt else {"relaxed": s.relaxed} if check.threshold_if else {})
    thr = exact(limit) if limit is not None else None
    if raw is None:
        return Measured(None, thr, "missing", True, vars=v, inputs=inputs)
    value = exact(raw)
    within = thr is None or cmp(value, thr) <= 0
    v.update(within=within, exempted=exempt and not within)
    return Measured(value, thr, vars=v, inputs=inputs)


# ---------------------------------------------------------------- city


def _decembers(s: Subject) -> list[tuple[TownRecord, Figures | None]]:
    return [(r, r.december.get(s.year)) for r in s.records]


@measure
def city_total(s: Subject, check: Check, target: Any) -> Measured:
    """Σ ``args.field`` of the round's towns' December reports."""
    name = check.args["field"]
    decs = _decembers(s)
    total = sum((exact(getattr(d, name)) for _, d in decs if d is not None), Fraction(0))
    missing = [r.profile.code for r, d in decs if d is None]
    return Measured(
        total,
        exact(target) if target is not None else None,
        vars={
            "towns": len(s.records),
            "year": s.year,
            "missing_en": f"; no December report from {', '.join(missing)}" if missing else "",
            "missing_zh": f"；{'、'.join(missing)} 缺少12月报表" if missing else "",
        },
        inputs={"towns": len(s.records), "missing_december": missing},
    )


@measure
def district_totals(s: Subject, check: Check, _: Any) -> list[Measured]:
    """Each district's towns' FAI against its quota: one finding per district."""
    out = []
    decs = _decembers(s)
    for d in s.pack.districts:
        mine = [(r, dec) for r, dec in decs if ident(r.profile.district) == d.id]
        total = sum((exact(dec.fai) for _, dec in mine if dec is not None), Fraction(0))
        codes = [r.profile.code for r, _ in mine]
        if d.quota is None and not codes:
            continue
        out.append(
            Measured(
                total,
                exact(d.quota) if d.quota is not None else None,
                "default" if d.quota is not None else "not_in_force",
                suffix=f"-{d.id}",
                vars={"district_en": f"{d.zh} {d.id}", "district_zh": d.zh, "count": len(codes), "year": s.year},
                inputs={"district": d.id, "towns": codes},
            )
        )
    return out


@measure
def at_risk(s: Subject, check: Check, _: Any) -> Measured:
    """Towns of the check's tiers proposed a warning or worse (early warning)."""
    tiers = check.tiers or [t.id for t in s.pack.tiers]
    risky = sorted(pr.code for pr in s.proposals if ident(pr.tier) in tiers and pr.proposed_grade in BAD_ANNUAL)
    detail = {pr.code: pr.proposed_grade for pr in s.proposals if pr.code in risky}
    return Measured(
        len(risky),
        0,
        vars={
            "detail_en": ", ".join(f"{c} ({detail[c]})" for c in risky),
            "detail_zh": "、".join(f"{c}（{s.pack.grade_zh(detail[c])}）" for c in risky),
        },
        inputs={"towns": detail},
    )


@measure
def named_in_year(s: Subject, check: Check, target: Any) -> Measured:
    """Provincial towns named in the round's year (a city-level acceptance does not count)."""
    others = len(s.named_codes) - s.named_this_year
    return Measured(
        s.named_this_year,
        int(target) if target is not None else None,
        vars={
            "year": s.year,
            "others": others,  # towns accepted that stay on their own list (the wording names them)
            "has_others": others > 0,
        },
        inputs={"named_this_year": s.named_this_year, "named": s.named_codes},
    )
