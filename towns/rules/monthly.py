"""Monthly checks on one town's year-to-date statistics (SX2018-G3, G4, S3; ZJ-GUIDE-IND70).

Each check measures a value and a threshold exactly (fractions of the decimal inputs, so
that exactly 80 % is 80 %), the rule engine decides whether the rule applies to the
town's tier and whether it passed, and the result is a Finding citing the pack's clause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..models.finding import Evaluation, Finding, Measure
from ..models.period import year_month
from ..models.report import Figures
from ..models.town import TownProfile
from ..models.vocab import Tier
from .engine import Fact, RuleEngine, RuleSpec, default_engine
from .pack import MonthlyRule, RulePack


def exact(x: float | int) -> Fraction:
    """The decimal number as written (12.3 is 123/10, not the nearest binary float)."""
    return Fraction(Decimal(repr(x))) if isinstance(x, float) else Fraction(x)


def num(x: Fraction | int, places: int = 4) -> float:
    return round(float(x), places)


def cmp(a: Fraction, b: Fraction) -> int:
    return (a > b) - (a < b)


@dataclass
class Target:
    value: Fraction
    clause: str
    source_en: str
    source_zh: str


def annual_target(town: TownProfile, pack: RulePack) -> Target:
    """The town's annual FAI target (亿元), and where it comes from."""
    if town.annual_fai_target is not None:
        return Target(exact(town.annual_fai_target), "SX2018-G3", "the town's own annual target", "小镇年度目标")
    if town.tier == Tier.city:
        planned = exact(town.planned_investment or 0)
        return Target(
            planned / town.creation_years,
            "SX2018-S3",
            f"planned investment {num(planned)} ÷ {town.creation_years} creation years",
            f"计划总投资 {num(planned)} ÷ 创建期 {town.creation_years} 年",
        )
    relaxed = town.industry.value in pack.value("relaxed_industries")
    p = pack.param("relaxed_fai_floor" if relaxed else "provincial_fai_floor")
    return Target(
        exact(p.value),
        p.clause,
        "the provincial target for relaxed industries" if relaxed else "the provincial target",
        "省定目标（放宽产业）" if relaxed else "省定目标",
    )


@dataclass
class Measured:
    value: Fraction
    threshold: Fraction
    inputs: dict[str, Any]  # the figures behind the measure, stored as JSON
    reason: tuple[str, str, str, str]  # en-pass, en-fail, zh-pass, zh-fail


def _pace(town: TownProfile, fig: Figures, month: int, pack: RulePack) -> Measured:
    target = annual_target(town, pack)
    factor = exact(pack.value("pace_factor"))
    fai = exact(fig.fai)
    thr = target.value * month / 12 * factor
    base = (
        f"year-to-date FAI {num(fai)} 亿元 {{}} the pace threshold {num(thr)} 亿元 "
        f"(annual target {num(target.value)} 亿元 from {target.source_en} × {month}/12 × {num(factor)})"
    )
    zh = (
        f"1–{month}月累计固定资产投资 {num(fai)} 亿元，{{}}进度要求 {num(thr)} 亿元"
        f"（年度目标 {num(target.value)} 亿元〔{target.source_zh}〕× {month}/12 × {num(factor)}）"
    )
    return Measured(
        fai,
        thr,
        {
            "fai": fig.fai,
            "month": month,
            "annual_target": num(target.value),
            "target_source": target.source_en,
            "target_clause": target.clause,
            "pace_factor": float(factor),
        },
        (base.format("meets"), base.format("is below"), zh.format("达到"), zh.format("低于")),
    )


# A monthly check: the measured value and threshold, or None when it is undefined.
Check = Callable[[TownProfile, Figures, int, RulePack], Measured | None]


def _share(part_name: str, label_en: str, label_zh: str, param: str) -> Check:
    def measure(town: TownProfile, fig: Figures, month: int, pack: RulePack) -> Measured | None:
        fai = exact(fig.fai)
        if fai == 0:
            return None
        part = exact(getattr(fig, part_name))
        share = part / fai
        thr = exact(pack.value(param))
        en = f"{label_en} {num(part)} of FAI {num(fai)} 亿元 is {num(share * 100, 2)} %, {{}} the minimum {num(thr * 100, 2)} %"
        zh = f"{label_zh} {num(part)} 亿元，占固定资产投资 {num(fai)} 亿元的 {num(share * 100, 2)}%，{{}}下限 {num(thr * 100, 2)}%"
        return Measured(
            share,
            thr,
            {part_name: getattr(fig, part_name), "fai": fig.fai},
            (en.format("meeting"), en.format("below"), zh.format("达到"), zh.format("低于")),
        )

    return measure


CHECKS: dict[str, Check] = {
    "pace": _pace,
    "nongov_share": _share("nongov_fai", "non-government investment", "非政府投资", "nongov_share_min"),
    "industry_share": _share(
        "industry_fai", "characteristic-industry investment", "特色产业投资", "industry_share_min"
    ),
}


def tax_growth(tax: float | None, tax_last_year: float | None) -> Measure:
    """Tax growth on the same period last year (kept for the annual round, SX2018-G5)."""
    inputs = {"tax": tax, "tax_same_period_last_year": tax_last_year}
    if tax is None or tax_last_year is None:
        return Measure(
            name="tax_growth",
            clause="SX2018-G5",
            value=None,
            inputs=inputs,
            note="no tax figure for this period or the same period last year",
        )
    if tax_last_year == 0:
        return Measure(
            name="tax_growth",
            clause="SX2018-G5",
            value=None,
            inputs=inputs,
            note="last year's tax was 0: growth is undefined",
        )
    growth = exact(tax) / exact(tax_last_year) - 1
    return Measure(name="tax_growth", clause="SX2018-G5", value=num(growth, 6), inputs=inputs)


def evaluate_monthly(
    town: TownProfile,
    period: str,
    revision: int,
    fig: Figures,
    pack: RulePack,
    tax_last_year: float | None = None,
    engine: RuleEngine | None = None,
) -> Evaluation:
    engine = engine or default_engine()
    _, month = year_month(period)
    specs = tuple(RuleSpec(r.id, tuple(t.value for t in r.tiers)) for r in pack.monthly)
    measured: list[tuple[MonthlyRule, Measured]] = []
    measures = [tax_growth(fig.tax, tax_last_year)]
    for rule in pack.monthly:
        m = CHECKS[rule.check](town, fig, month, pack)
        if m is None:
            if town.tier in rule.tiers:
                measures.append(
                    Measure(
                        name=rule.id,
                        clause=rule.clause,
                        value=None,
                        inputs={"fai": fig.fai},
                        note="fai is 0: the share is undefined, no finding",
                    )
                )
            continue
        measured.append((rule, m))
    verdicts = engine.judge(
        f"monthly_{pack.hash[:16]}",
        specs,
        [Fact(rule=r.id, tier=town.tier.value, cmp=cmp(m.value, m.threshold)) for r, m in measured],
    )
    findings = []
    for (rule, m), verdict in zip(measured, verdicts, strict=True):
        if verdict == "not_applicable":
            continue
        ok = verdict == "passed"
        en_pass, en_fail, zh_pass, zh_fail = m.reason
        findings.append(
            Finding(
                rule=rule.id,
                clause=rule.clause,
                inputs=m.inputs,
                value=num(m.value, 6),
                threshold=num(m.threshold, 6),
                passed=ok,
                reason_en=en_pass if ok else en_fail,
                reason_zh=zh_pass if ok else zh_fail,
            )
        )
    return Evaluation(
        code=town.code, period=period, revision=revision, pack=pack.ref, findings=findings, measures=measures
    )
