"""Annual assessment (年度考核) of the towns in creation, and the city's totals for the year.

A town's annual figures are its December year-to-date report of year Y
(``record.december[Y]``); last year's tax is the December report of Y − 1. Every number
comes from the pack (``[params]``, ``[annual]``, ``[annual.weights]``, ``[[annual.bands]]``)
and every finding cites its clause. Arithmetic is exact (fractions of the decimals as
written), as in ``monthly.py``.

Findings (rule ids)
-------------------
- ``annual-december-report`` (SX2018-S3): the December report of Y exists. Without it the
  annual FAI counts as 0 and the share and tax indicators cannot be computed.
- ``annual-investment`` (SX2018-G3 provincial tiers incl. named, SX2018-S3 city-level):
  annual FAI ≥ annual target (``monthly.annual_target``: the town's own, else the
  provincial floor 15 / 10 亿元, for city-level towns planned investment ÷ creation years).
- ``annual-nongov-share`` (SX2018-G4; provincial creation, provincial cultivation, named):
  nongov_fai ÷ fai ≥ params.nongov_share_min.
- ``annual-industry-share`` (ZJ-GUIDE-IND70; every tier): industry_fai ÷ fai ≥
  params.industry_share_min.
- ``annual-tax-growth`` (SX2018-G5): growth = tax_Y ÷ tax_{Y−1} − 1 ≥ required, where
  required = city average + margin ("points") or city average + margin × |city average|
  ("relative"; that is average × 1.2 for a non-negative average — for a falling city
  average, "20 % better than the average" must still be above it, so |average| is used).
- ``annual-innovation`` (SX2018-T3, informational): innovation index, rank, points.
- ``annual-scenic`` (SX2018-G8, city-level only, informational): scenic level ≥ 3; its
  failure changes neither score nor grade.
- ``annual-slow-and-poor`` (SX2018-S3, city-level only): annual FAI < slow_fai_ratio ×
  target AND score < poor_score → eliminated at once.
- ``annual-grade`` (ZJ-ASSESS-GRADES): the score, its band and the proposed grade.
- ``annual-dynamic-management`` (only for a warning or worse; SX2018-G6 provincial
  creation/cultivation, SX2018-S3 city-level, ZJ-ASSESS-GRADES named): the consequence of
  the warning, now or at the next one.

Score (0–100, rounded half up to 2 decimals)
------------------------------------
With the weights W of ``[annual.weights]`` (for city-level towns the non-government weight
is added to ``annual.city_nongov_weight_to``, the investment weight, and the share is not
assessed)::

    investment      W_inv × min(1, fai ÷ target)
    industry share  W_ind × min(1, share ÷ 0.70)          0 if there is no FAI / no report
    nongov share    W_ng  × min(1, share ÷ 0.80)          0 if there is no FAI / no report
    tax growth      W_tax                                  if growth ≥ required
                    W_tax × clamp(growth ÷ required, 0, 1) if below and required > 0
                    0                                      if below and required ≤ 0, or data missing
    innovation      W_inn × (n − rank) ÷ (n − 1)           rank among the round's n towns (n = 1: W_inn)

Tax growth that cannot be assessed through no fault of the town — no city average at all
(source "none"), or a town listed in Y that has no Y − 1 base — is NOT scored as a failure:
the finding says "not assessed" (passed, no threshold) and the other indicators' points are
scaled to 100 (score × 100 ÷ (100 − W_tax)). Missing tax figures of a town listed before Y
are the town's own reporting gap: failed, 0 points.

Grade: the first band whose ``min`` the (rounded) score reaches; missing the annual
investment target gives "warning" whatever the score (ZJ-ASSESS-GRADES). Then dynamic
management: a warning when the town already has ``warnings_to_consequence − 1``
consecutive warnings → "demoted" (provincial creation) or "eliminated" (provincial
cultivation, city-level); named towns stay "warning" unless ``named_auto_demote``; a
city-level town slow and poor is "eliminated" at once (SX2018-S3).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..models.finding import Finding
from ..models.report import Figures
from ..models.round import AnnualContext, CityAggregates, Grade, TownProposal, TownRecord
from ..models.vocab import District, Tier
from .effects import effects
from .monthly import annual_target, cmp, exact, num
from .pack import SCORE_MAX, Band, RulePack

PROVINCIAL_ON_LIST = (Tier.provincial_creation.value, Tier.provincial_cultivation.value)
INNOVATION_PARTS = ("high_tech_enterprises", "high_end_talents", "new_enterprises")


def _f(
    rule: str,
    clause: str,
    inputs: dict[str, Any],
    value: Fraction | int | None,
    threshold: Fraction | int | None,
    passed: bool,
    en: str,
    zh: str,
) -> Finding:
    return Finding(
        rule=rule,
        clause=clause,
        inputs=inputs,
        value=None if value is None else num(value, 6),
        threshold=None if threshold is None else num(threshold, 6),
        passed=passed,
        reason_en=en,
        reason_zh=zh,
    )


def round_score(x: Fraction) -> Fraction:
    """To 2 decimals, half up, exactly (72.445 → 72.45, whatever its binary float would say)."""
    return Fraction(math.floor(x * 100 + Fraction(1, 2)), 100)


def _pct(x: Fraction) -> str:
    return f"{num(x * 100, 2)} %"


def _pct_zh(x: Fraction) -> str:
    return f"{num(x * 100, 2)}%"


# ---------------------------------------------------------------- round context


def innovation_index(fig: Figures | None) -> int:
    """high-tech enterprises + high-end talents + new enterprises (a missing count is 0)."""
    if fig is None:
        return 0
    return sum(getattr(fig, f) or 0 for f in INNOVATION_PARTS)


def innovation_ranks(records: list[TownRecord], year: int) -> dict[str, tuple[int, int]]:
    """code → (index, rank); ties share the better rank (1, 2, 2, 4)."""
    index = {r.profile.code: innovation_index(r.december.get(year)) for r in records}
    return {code: (i, 1 + sum(1 for j in index.values() if j > i)) for code, i in index.items()}


def innovation_points(rank: int, n: int, weight: Fraction) -> Fraction:
    return weight if n <= 1 else weight * (n - rank) / (n - 1)


def pooled_tax_growth(records: list[TownRecord], year: int) -> tuple[Fraction | None, list[str]]:
    """Σ tax_Y ÷ Σ tax_{Y−1} − 1 over the towns with both December tax figures; and those towns."""
    used, now, before = [], Fraction(0), Fraction(0)
    for r in records:
        d, last = r.december.get(year), r.december.get(year - 1)
        if d is None or last is None or d.tax is None or last.tax is None:
            continue
        used.append(r.profile.code)
        now += exact(d.tax)
        before += exact(last.tax)
    if not used or before == 0:
        return None, used
    return now / before - 1, used


def annual_context(
    records: list[TownRecord], year: int, pack: RulePack, city_tax_growth: float | None
) -> AnnualContext:
    """The city average tax growth (the office's figure, else pooled over the round's towns)
    and every town's innovation points."""
    growth: float | None
    if city_tax_growth is not None:
        growth, source = float(city_tax_growth), "office"
    else:
        pooled, _ = pooled_tax_growth(records, year)
        growth, source = (None, "none") if pooled is None else (float(pooled), "pooled")
    weight = exact(pack.annual_value("weight:innovation"))
    ranks = innovation_ranks(records, year)
    n = len(ranks)
    scores = {code: num(innovation_points(rank, n, weight), 6) for code, (_, rank) in ranks.items()}
    return AnnualContext(city_tax_growth=growth, city_tax_growth_source=source, innovation_scores=scores)


def _rank_from_points(code: str, ctx: AnnualContext, weight: Fraction) -> tuple[int | None, int]:
    """(rank, n) recovered from the context (points = W × (n − rank) ÷ (n − 1))."""
    n = len(ctx.innovation_scores)
    if code not in ctx.innovation_scores:
        return None, n
    if n <= 1:
        return 1, n
    if weight == 0:
        return None, n
    return round(n - exact(ctx.innovation_scores[code]) * (n - 1) / weight), n


# ---------------------------------------------------------------- one town


def weights_for(tier: Tier, pack: RulePack) -> dict[str, Fraction]:
    w = {k: exact(p.value) for k, p in pack.annual.weights.items()}
    if tier == Tier.city:
        to = pack.annual_value("city_nongov_weight_to")
        w[to] += w["nongov_share"]
        w["nongov_share"] = Fraction(0)
    return w


def _share(
    rule: str, clause: str, dec: Figures | None, part: str, minimum: Fraction, label_en: str, label_zh: str, year: int
) -> tuple[Finding, Fraction]:
    """A share finding and the fraction of its weight earned."""
    if dec is None:
        return _f(
            rule,
            clause,
            {part: None, "fai": None},
            None,
            minimum,
            False,
            f"no December {year} report: the {label_en} share cannot be computed (0 points)",
            f"缺少{year}年12月报表，无法计算{label_zh}占比（本项0分）",
        ), Fraction(0)
    fai, amount = exact(dec.fai), exact(getattr(dec, part))
    inputs = {part: getattr(dec, part), "fai": dec.fai}
    if fai == 0:
        return _f(
            rule,
            clause,
            inputs,
            None,
            minimum,
            False,
            f"no fixed-asset investment in {year}: the {label_en} share is undefined (0 points)",
            f"{year}年固定资产投资为0，{label_zh}占比无从计算（本项0分）",
        ), Fraction(0)
    share = amount / fai
    ok = cmp(share, minimum) >= 0
    en = (
        f"{label_en} {num(amount)} of annual FAI {num(fai)} 亿元 is {_pct(share)}, "
        f"{'meeting' if ok else 'below'} the minimum {_pct(minimum)}"
    )
    zh = (
        f"{label_zh} {num(amount)} 亿元，占全年固定资产投资 {num(fai)} 亿元的 {_pct_zh(share)}，"
        f"{'达到' if ok else '低于'}下限 {_pct_zh(minimum)}"
    )
    earned = Fraction(1) if minimum == 0 else min(Fraction(1), share / minimum)
    return _f(rule, clause, inputs, share, minimum, ok, en, zh), earned


def _tax(
    record: TownRecord, year: int, pack: RulePack, ctx: AnnualContext, weight: Fraction
) -> tuple[Finding, Fraction, bool]:
    """The tax-growth finding, its points, and whether it was assessed at all."""
    p = record.profile
    dec, last = record.december.get(year), record.december.get(year - 1)
    tax = dec.tax if dec is not None else None
    tax_last = last.tax if last is not None else None
    mode, margin = pack.value("tax_growth_mode"), exact(pack.value("tax_growth_margin"))
    inputs = {
        "tax": tax,
        "tax_last_year": tax_last,
        "city_tax_growth": ctx.city_tax_growth,
        "city_tax_growth_source": ctx.city_tax_growth_source,
        "mode": mode,
        "margin": float(margin),
    }
    rule, clause = "annual-tax-growth", "SX2018-G5"
    first_year = p.listed_year == year
    if tax is None:
        why_en = f"no December {year} report" if dec is None else f"the December {year} report has no tax figure"
        why_zh = f"缺少{year}年12月报表" if dec is None else f"{year}年12月报表未填税收收入"
        return (
            _f(
                rule,
                clause,
                inputs,
                None,
                None,
                False,
                f"tax growth cannot be computed: {why_en} (0 points)",
                f"无法计算税收增幅：{why_zh}（本项0分）",
            ),
            Fraction(0),
            True,
        )
    if tax_last is None or tax_last == 0:
        why_en = (
            f"no December {year - 1} tax figure"
            if tax_last is None
            else f"the December {year - 1} tax was 0, growth is undefined"
        )
        why_zh = f"缺少{year - 1}年12月税收数据" if tax_last is None else f"{year - 1}年12月税收为0，增幅无从计算"
        if first_year:
            return (
                _f(
                    rule,
                    clause,
                    inputs,
                    None,
                    None,
                    True,
                    f"not assessed: {why_en}, and the town was listed in {year} (no base year); "
                    f"the other indicators are scaled to {SCORE_MAX} points",
                    f"不考核：{why_zh}，且小镇于{year}年列入名单（无基期）；其余指标按{SCORE_MAX}分折算",
                ),
                Fraction(0),
                False,
            )
        return (
            _f(
                rule,
                clause,
                inputs,
                None,
                None,
                False,
                f"tax growth cannot be computed: {why_en} (0 points)",
                f"无法计算税收增幅：{why_zh}（本项0分）",
            ),
            Fraction(0),
            True,
        )
    growth = exact(tax) / exact(tax_last) - 1
    if ctx.city_tax_growth is None:
        return (
            _f(
                rule,
                clause,
                inputs,
                growth,
                None,
                True,
                f"tax growth {_pct(growth)} ({num(exact(tax))} on {num(exact(tax_last))} 亿元) not assessed: "
                f"there is no city average growth (no office figure, and no town of the round has both "
                f"December tax figures); the other indicators are scaled to {SCORE_MAX} points",
                f"税收增幅 {_pct_zh(growth)}（{num(exact(tax))} / {num(exact(tax_last))} 亿元）不考核："
                f"无全市平均增幅（市特色办未提供，本轮小镇亦无两年12月税收数据）；其余指标按{SCORE_MAX}分折算",
            ),
            Fraction(0),
            False,
        )
    avg = exact(ctx.city_tax_growth)
    required = avg + margin if mode == "points" else avg + margin * abs(avg)
    ok = cmp(growth, required) >= 0
    how_en = (
        f"city average {_pct(avg)} + {num(margin * 100, 2)} percentage points"
        if mode == "points"
        else f"city average {_pct(avg)} raised by {num(margin * 100, 2)} % of itself"
    )
    how_zh = (
        f"全市平均 {_pct_zh(avg)} + {num(margin * 100, 2)} 个百分点"
        if mode == "points"
        else f"全市平均 {_pct_zh(avg)} 再高出其 {num(margin * 100, 2)}%"
    )
    src_en = {"office": "office figure", "pooled": "pooled over the round's towns"}[ctx.city_tax_growth_source]
    src_zh = {"office": "市特色办提供", "pooled": "本轮小镇合计"}[ctx.city_tax_growth_source]
    if ok:
        earned = weight
    elif required > 0:
        earned = weight * min(Fraction(1), max(Fraction(0), growth / required))
    else:
        earned = Fraction(0)
    en = (
        f"tax growth {_pct(growth)} ({num(exact(tax))} on {num(exact(tax_last))} 亿元) "
        f"{'meets' if ok else 'is below'} the required {_pct(required)} ({how_en}; {src_en})"
    )
    zh = (
        f"税收增幅 {_pct_zh(growth)}（{num(exact(tax))} / {num(exact(tax_last))} 亿元），"
        f"{'达到' if ok else '低于'}要求 {_pct_zh(required)}（{how_zh}；{src_zh}）"
    )
    inputs["required"] = num(required, 6)
    return _f(rule, clause, inputs, growth, required, ok, en, zh), earned, True


def _band(score: Fraction, pack: RulePack) -> Band:
    for band in pack.annual.bands:
        if cmp(score, exact(band.min)) >= 0:
            return band
    return pack.annual.bands[-1]


def evaluate_annual_town(record: TownRecord, year: int, pack: RulePack, ctx: AnnualContext) -> TownProposal:
    p = record.profile
    tier = p.tier
    dec = record.december.get(year)
    last = record.december.get(year - 1)
    w = weights_for(tier, pack)
    findings: list[Finding] = []
    points: dict[str, Fraction] = {}

    # December report
    if dec is None:
        findings.append(
            _f(
                "annual-december-report",
                "SX2018-S3",
                {"year": year},
                None,
                None,
                False,
                f"no December {year} report (year-to-date figures of the whole year): annual FAI counts "
                f"as 0 and the shares and tax growth cannot be computed",
                f"缺少{year}年12月（全年累计）报表：全年固定资产投资按0计，占比和税收增幅无法计算",
            )
        )
    else:
        findings.append(
            _f(
                "annual-december-report",
                "SX2018-S3",
                {"year": year, "december": dec.model_dump()},
                None,
                None,
                True,
                f"the December {year} report gives the year's figures",
                f"以{year}年12月报表（1–12月累计）为全年数据",
            )
        )

    # investment
    target = annual_target(p, pack)
    fai = exact(dec.fai) if dec is not None else Fraction(0)
    inv_ok = cmp(fai, target.value) >= 0
    inv_clause = "SX2018-S3" if tier == Tier.city else "SX2018-G3"
    got_en = f"annual FAI {num(fai)} 亿元" if dec is not None else f"annual FAI 0 亿元 (no December {year} report)"
    got_zh = (
        f"全年固定资产投资 {num(fai)} 亿元" if dec is not None else f"全年固定资产投资按0计（缺少{year}年12月报表）"
    )
    findings.append(
        _f(
            "annual-investment",
            inv_clause,
            {
                "fai": dec.fai if dec is not None else None,
                "annual_target": num(target.value),
                "target_source": target.source_en,
                "target_clause": target.clause,
            },
            fai,
            target.value,
            inv_ok,
            f"{got_en} {'meets' if inv_ok else 'is below'} the annual target {num(target.value)} 亿元 ({target.source_en})",
            f"{got_zh}，{'完成' if inv_ok else '未完成'}年度目标 {num(target.value)} 亿元（{target.source_zh}）",
        )
    )
    points["investment"] = w["investment"] * (
        Fraction(1) if target.value == 0 else min(Fraction(1), fai / target.value)
    )

    # shares
    if tier != Tier.city:
        f, earned = _share(
            "annual-nongov-share",
            "SX2018-G4",
            dec,
            "nongov_fai",
            exact(pack.value("nongov_share_min")),
            "non-government investment",
            "非政府投资",
            year,
        )
        findings.append(f)
        points["nongov_share"] = w["nongov_share"] * earned
    else:
        points["nongov_share"] = Fraction(0)
    f, earned = _share(
        "annual-industry-share",
        "ZJ-GUIDE-IND70",
        dec,
        "industry_fai",
        exact(pack.value("industry_share_min")),
        "characteristic-industry investment",
        "特色产业投资",
        year,
    )
    findings.append(f)
    points["industry_share"] = w["industry_share"] * earned

    # tax growth
    f, earned, tax_assessed = _tax(record, year, pack, ctx, w["tax_growth"])
    findings.append(f)
    points["tax_growth"] = earned

    # innovation (informational: its points come from the round's ranking)
    inn_weight = exact(pack.annual_value("weight:innovation"))
    index = innovation_index(dec)
    inn_points = exact(ctx.innovation_scores.get(p.code, 0))
    rank, n = _rank_from_points(p.code, ctx, inn_weight)
    points["innovation"] = inn_points
    parts = {k: (getattr(dec, k) if dec is not None else None) for k in INNOVATION_PARTS}
    if rank is None:
        inn_en = f"innovation index {index}: not ranked in this round (0 points)"
        inn_zh = f"创新指数 {index}：未参加本轮排名（0分）"
    else:
        inn_en = (
            f"innovation index {index} (high-tech enterprises + high-end talents + new enterprises) "
            f"ranks {rank} of {n}: {num(inn_points, 2)} of {num(inn_weight, 2)} points"
        )
        inn_zh = (
            f"创新指数 {index}（高新技术企业 + 高端人才 + 新入驻企业），本轮第 {rank} 名（共 {n} 个），"
            f"得 {num(inn_points, 2)} 分（满分 {num(inn_weight, 2)} 分）"
        )
    findings.append(
        _f(
            "annual-innovation",
            "SX2018-T3",
            {**parts, "index": index, "rank": rank, "towns": n, "points": num(inn_points, 4)},
            index,
            None,
            True,
            inn_en,
            inn_zh,
        )
    )

    # scenic level (city-level, informational)
    if tier == Tier.city:
        source = dec if dec is not None and dec.scenic_level is not None else record.latest
        level = source.scenic_level if source is not None else None
        smin = int(pack.annual_value("city_scenic_min"))
        ok = level is not None and level >= smin
        info_en, info_zh = "informational: does not change the score or grade", "仅作提示，不影响得分和等级"
        if level is None:
            en, zh = f"no scenic level reported ({info_en})", f"未报景区等级（{info_zh}）"
        else:
            en = f"scenic level {level}A {'meets' if ok else 'is below'} the {smin}A standard ({info_en})"
            zh = f"景区等级 {level}A，{'达到' if ok else '未达到'} {smin}A 标准（{info_zh}）"
        findings.append(
            _f("annual-scenic", "SX2018-G8", {"scenic_level": level, "informational": True}, level, smin, ok, en, zh)
        )

    # score
    raw = sum(points.values(), Fraction(0))
    total = sum(w.values(), Fraction(0))
    rescaled = not tax_assessed and total - w["tax_growth"] > 0
    if rescaled:
        raw = raw * total / (total - w["tax_growth"])
    exact_score = round_score(raw)
    score = float(exact_score)

    # grade
    band = _band(exact_score, pack)
    grade = band.grade
    if not inv_ok:
        grade = Grade.warning.value
    in_band = grade == band.grade
    findings.append(
        _f(
            "annual-grade",
            "ZJ-ASSESS-GRADES",
            {"score": score, "band": band.grade, "band_min": band.min, "investment_target_met": inv_ok},
            exact_score,
            exact(band.min),
            grade in ("excellent", "good", "pass"),
            f"score {score} is in the '{band.grade}' band (≥ {num(exact(band.min), 2)})"
            + ("" if in_band else "; the annual investment target was missed: warning whatever the score"),
            f"综合得分 {score} 分，属“{Grade.parse(band.grade).zh}”档（≥ {num(exact(band.min), 2)} 分）"
            + ("" if in_band else "；未完成年度投资目标，不论得分均予警告"),
        )
    )

    # dynamic management
    slow_ratio = exact(pack.annual_value("slow_fai_ratio"))
    poor = exact(pack.annual_value("poor_score"))
    needed = int(pack.annual_value("warnings_to_consequence"))
    if tier == Tier.city:
        slow = cmp(fai, slow_ratio * target.value) < 0
        is_poor = cmp(exact_score, poor) < 0
        findings.append(
            _f(
                "annual-slow-and-poor",
                "SX2018-S3",
                {
                    "fai": num(fai),
                    "slow_threshold": num(slow_ratio * target.value),
                    "score": score,
                    "poor_threshold": num(poor, 2),
                    "slow": slow,
                    "poor": is_poor,
                },
                fai,
                slow_ratio * target.value,
                not (slow and is_poor),
                f"annual FAI {num(fai)} 亿元 is {'below' if slow else 'at or above'} {num(slow_ratio)} × target "
                f"({num(slow_ratio * target.value)} 亿元) and the score {score} is {'below' if is_poor else 'at or above'} "
                f"{num(poor, 2)}" + (": slow progress and poor results, eliminated" if slow and is_poor else ""),
                f"全年固定资产投资 {num(fai)} 亿元{'低于' if slow else '不低于'}年度目标的 {num(slow_ratio)} 倍"
                f"（{num(slow_ratio * target.value)} 亿元），综合得分 {score} 分{'低于' if is_poor else '不低于'} {num(poor, 2)} 分"
                + ("：进度慢、效果差，予以淘汰" if slow and is_poor else ""),
            )
        )
        if slow and is_poor:
            grade = Grade.eliminated.value
    if grade == Grade.warning.value:
        count = record.warnings + 1
        inputs = {"warnings_before": record.warnings, "warnings_to_consequence": needed, "tier": tier.value}
        if count >= needed:
            if tier == Tier.provincial_creation:
                grade, clause = Grade.demoted.value, "SX2018-G6"
                en, zh = "demoted to the provincial cultivation list", "降格为省级培育对象"
            elif tier == Tier.named and not pack.annual_value("named_auto_demote"):
                clause = "ZJ-ASSESS-GRADES"
                en = "a named town is not demoted automatically (annual.named_auto_demote = false): it stays warned, the office decides"
                zh = "已命名小镇不自动降格（annual.named_auto_demote = false）：维持警告，由市特色办研究决定"
            elif tier == Tier.named:
                grade, clause = Grade.demoted.value, "ZJ-ASSESS-GRADES"
                en, zh = "demoted to the provincial creation list", "降格为省级创建对象"
            else:
                grade = Grade.eliminated.value
                clause = "SX2018-S3" if tier == Tier.city else "SX2018-G6"
                en, zh = "eliminated from the list", "予以淘汰"
            findings.append(
                _f(
                    "annual-dynamic-management",
                    clause,
                    inputs,
                    count,
                    needed,
                    False,
                    f"warning number {count} in a row: {en}",
                    f"连续第 {count} 次警告：{zh}",
                )
            )
        else:
            nxt = {
                Tier.provincial_creation: ("demotion", "降格"),
                Tier.named: ("the office's decision", "由市特色办研究"),
            }
            en, zh = nxt.get(tier, ("elimination", "淘汰"))
            clause = {Tier.city: "SX2018-S3", Tier.named: "ZJ-ASSESS-GRADES"}.get(tier, "SX2018-G6")
            findings.append(
                _f(
                    "annual-dynamic-management",
                    clause,
                    inputs,
                    count,
                    needed,
                    False,
                    f"warning number {count} in a row: {needed} in a row lead to {en}",
                    f"连续第 {count} 次警告：连续 {needed} 次将{zh}",
                )
            )

    inputs = {
        "year": year,
        "tier": tier.value,
        "industry": p.industry.value,
        "district": p.district.value,
        "december": dec.model_dump() if dec is not None else None,
        "december_last_year_tax": last.tax if last is not None else None,
        "annual_target": num(target.value),
        "target_source": target.source_en,
        "city_tax_growth": ctx.city_tax_growth,
        "city_tax_growth_source": ctx.city_tax_growth_source,
        "tax_growth_mode": pack.value("tax_growth_mode"),
        "tax_growth_margin": pack.value("tax_growth_margin"),
        "weights": {k: num(v, 4) for k, v in w.items()},
        "points": {k: num(v, 4) for k, v in points.items()},
        "tax_growth_assessed": tax_assessed,
        "rescaled": rescaled,
        "innovation": {"index": index, "rank": rank, "towns": n},
        "warnings_before": record.warnings,
    }
    return TownProposal(
        code=p.code,
        name=p.name,
        tier=tier.value,
        proposed_grade=grade,
        score=score,
        findings=findings,
        inputs=inputs,
        effects=effects(record, grade, year, pack),
    )


# ---------------------------------------------------------------- the city


def annual_city(
    records: list[TownRecord], proposals: list[TownProposal], year: int, pack: RulePack, named_this_year: int
) -> CityAggregates:
    """City totals of the round's towns (SX2018-G1, G2, T4), early warning (G6), naming (G7).

    The city average tax growth is read from the proposals' inputs (they all used the
    round's context); without proposals it is pooled over ``records``.
    """
    decs = [(r, r.december.get(year)) for r in records]
    total_fai = sum((exact(d.fai) for _, d in decs if d is not None), Fraction(0))
    total_ind = sum((exact(d.industry_fai) for _, d in decs if d is not None), Fraction(0))
    missing = [r.profile.code for r, d in decs if d is None]
    findings: list[Finding] = []
    miss_en = f"; no December report from {', '.join(missing)}" if missing else ""
    miss_zh = f"；{'、'.join(missing)} 缺少12月报表" if missing else ""

    for rule, clause, param, value, en_label, zh_label in (
        ("city-fai", "SX2018-G1", "city_fai_target", total_fai, "fixed-asset investment", "固定资产投资"),
        (
            "city-industry-fai",
            "SX2018-G2",
            "city_industry_fai_target",
            total_ind,
            "characteristic-industry investment",
            "特色产业投资",
        ),
    ):
        thr = exact(pack.value(param))
        ok = cmp(value, thr) >= 0
        findings.append(
            _f(
                rule,
                clause,
                {"towns": len(records), "missing_december": missing},
                value,
                thr,
                ok,
                f"{en_label} of the round's {len(records)} towns in {year}: {num(value)} 亿元, "
                f"{'meeting' if ok else 'below'} the city target {num(thr)} 亿元{miss_en}",
                f"本轮 {len(records)} 个小镇{year}年{zh_label} {num(value)} 亿元，"
                f"{'完成' if ok else '未完成'}全市目标 {num(thr)} 亿元{miss_zh}",
            )
        )

    quotas = pack.value("district_quotas")
    districts: dict[str, dict] = {}
    for d_code, quota in quotas.items():
        district = District.parse(d_code)
        mine = [(r, d) for r, d in decs if r.profile.district == district]
        total = sum((exact(d.fai) for _, d in mine if d is not None), Fraction(0))
        q = exact(quota)
        ok = cmp(total, q) >= 0
        codes = [r.profile.code for r, _ in mine]
        districts[district.value] = {"total": num(total), "quota": num(q)}
        findings.append(
            _f(
                f"city-district-{district.value}",
                "SX2018-T4",
                {"district": district.value, "towns": codes},
                total,
                q,
                ok,
                f"{district.label}: FAI {num(total)} 亿元 from {len(codes)} town(s), "
                f"{'meeting' if ok else 'below'} its quota {num(q)} 亿元",
                f"{district.zh}：{len(codes)} 个小镇固定资产投资 {num(total)} 亿元，"
                f"{'完成' if ok else '未完成'}任务 {num(q)} 亿元",
            )
        )

    risky = (Grade.warning.value, Grade.demoted.value, Grade.eliminated.value)
    g6 = sorted(pr.code for pr in proposals if pr.tier in PROVINCIAL_ON_LIST and pr.proposed_grade in risky)
    detail = {pr.code: pr.proposed_grade for pr in proposals if pr.code in g6}
    findings.append(
        _f(
            "city-g6-risk",
            "SX2018-G6",
            {"towns": detail},
            len(g6),
            0,
            not g6,
            "no provincial town is proposed a warning, demotion or elimination"
            if not g6
            else "provincial towns proposed a warning or worse: " + ", ".join(f"{c} ({detail[c]})" for c in g6),
            "无省级小镇被拟定警告、降格或淘汰"
            if not g6
            else "拟定警告及以下的省级小镇：" + "、".join(f"{c}（{Grade.parse(detail[c]).zh}）" for c in g6),
        )
    )

    need = int(pack.value("city_named_min"))
    ok = named_this_year >= need
    findings.append(
        _f(
            "city-named",
            "SX2018-G7",
            {"named_this_year": named_this_year},
            named_this_year,
            need,
            ok,
            f"{named_this_year} town(s) named in {year}, {'meeting' if ok else 'below'} the target of {need}",
            f"{year}年命名授牌 {named_this_year} 个，{'完成' if ok else '未完成'}目标 {need} 个",
        )
    )

    growth, source = None, "none"
    if proposals and "city_tax_growth_source" in proposals[0].inputs:
        growth, source = proposals[0].inputs.get("city_tax_growth"), proposals[0].inputs["city_tax_growth_source"]
    else:
        pooled, _ = pooled_tax_growth(records, year)
        if pooled is not None:
            growth, source = float(pooled), "pooled"

    values = {
        "total_fai": num(total_fai),
        "total_industry_fai": num(total_ind),
        "districts": districts,
        "city_tax_growth": growth,
        "city_tax_growth_source": source,
        "g6_risk": g6,
        "named_this_year": named_this_year,
        "missing_december": missing,
    }
    return CityAggregates(values=values, findings=findings)
