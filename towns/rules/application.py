"""Applications to enter a creation list (创建申报审核; SX2018-T1, provincial guideline 浙特镇办〔2015〕9号).

For towns with ``record.applying_for`` set (a new town in state "applied", or a town
already on a list applying for a higher one). Boundaries are inclusive. Findings:

- ``application-tier`` (SX2018-T1): the tier applied for is a creation list the town is
  not already on.
- ``application-industry`` (ZJ-GUIDE-INDUSTRY): the industry is allowed
  (application.allowed_industries; every industry of the vocabulary is — still recorded).
- ``application-planned-area`` (ZJ-GUIDE-AREA): planned area ≤ application.planned_area_max,
  except for application.area_exempt_industries (tourism), which pass above it. The area
  is required for every town (an application without it fails).
- ``application-core-area`` (ZJ-GUIDE-AREA): core area ≤ application.core_area_max (required).
- ``application-investment`` (ZJ-GUIDE-INV): planned investment ≥
  application.planned_investment_min (relaxed_planned_investment_min for
  params.relaxed_industries) (required).

All pass → "admitted", else "rejected". No score.
"""

from __future__ import annotations

from typing import Any

from ..models.finding import Finding
from ..models.round import CityAggregates, Grade, TownProposal, TownRecord
from ..models.vocab import Tier, TownState
from .annual import _f
from .effects import effects
from .monthly import cmp, exact, num
from .pack import RulePack

APPLICABLE_TIERS = (Tier.provincial_creation, Tier.provincial_cultivation, Tier.city)


def _tier(record: TownRecord) -> Finding:
    p, raw = record.profile, record.applying_for
    inputs = {"applying_for": raw, "current_tier": p.tier.value, "state": p.state.value}
    try:
        tier = Tier.parse(raw) if raw is not None else None
    except ValueError:
        tier = None
    if tier not in APPLICABLE_TIERS:
        return _f(
            "application-tier",
            "SX2018-T1",
            inputs,
            None,
            None,
            False,
            f"the application names no creation list one can apply for ({raw!r}; "
            f"{', '.join(t.value for t in APPLICABLE_TIERS)})",
            f"申报的创建类别无效（{raw!r}；应为{'、'.join(t.zh for t in APPLICABLE_TIERS)}）",
        )
    if p.state != TownState.applied and p.tier == tier:
        return _f(
            "application-tier",
            "SX2018-T1",
            inputs,
            None,
            None,
            False,
            f"the town is already on the {tier.value} list",
            f"小镇已在{tier.zh}名单中",
        )
    return _f(
        "application-tier",
        "SX2018-T1",
        inputs,
        None,
        None,
        True,
        f"applies for the {tier.value} list",
        f"申报{tier.zh}",
    )


def evaluate_application_town(record: TownRecord, year: int, pack: RulePack) -> TownProposal:
    p = record.profile
    ind = p.industry
    findings = [_tier(record)]

    allowed = pack.application_value("allowed_industries")
    ok = ind.value in allowed
    findings.append(
        _f(
            "application-industry",
            "ZJ-GUIDE-INDUSTRY",
            {"industry": ind.value},
            None,
            None,
            ok,
            f"industry {ind.value} {'is' if ok else 'is not'} among the allowed industries",
            f"产业“{ind.zh}”{'属于' if ok else '不属于'}七大产业及历史经典产业",
        )
    )

    # planned area
    amax = exact(pack.application_value("planned_area_max"))
    exempt = ind.value in pack.application_value("area_exempt_industries")
    inputs: dict[str, Any] = {"planned_area_km2": p.planned_area_km2, "exempt": exempt}
    if p.planned_area_km2 is None:
        findings.append(
            _f(
                "application-planned-area",
                "ZJ-GUIDE-AREA",
                inputs,
                None,
                amax,
                False,
                "the planned area (km²) is required in an application",
                "申报须填报规划面积（平方公里）",
            )
        )
    else:
        area = exact(p.planned_area_km2)
        within = cmp(area, amax) <= 0
        ok = within or exempt
        note_en = "" if within or not exempt else f" — allowed for a {ind.value} town"
        note_zh = "" if within or not exempt else f"，{ind.zh}类小镇可适当放宽"
        findings.append(
            _f(
                "application-planned-area",
                "ZJ-GUIDE-AREA",
                inputs,
                area,
                amax,
                ok,
                f"planned area {num(area)} km² is {'within' if within else 'above'} the maximum {num(amax)} km²{note_en}",
                f"规划面积 {num(area)} 平方公里，{'不超过' if within else '超过'}上限 {num(amax)} 平方公里{note_zh}",
            )
        )

    # core area
    cmax = exact(pack.application_value("core_area_max"))
    inputs = {"core_area_km2": p.core_area_km2}
    if p.core_area_km2 is None:
        findings.append(
            _f(
                "application-core-area",
                "ZJ-GUIDE-AREA",
                inputs,
                None,
                cmax,
                False,
                "the core (construction) area (km²) is required in an application",
                "申报须填报核心区（建设）面积（平方公里）",
            )
        )
    else:
        core = exact(p.core_area_km2)
        ok = cmp(core, cmax) <= 0
        findings.append(
            _f(
                "application-core-area",
                "ZJ-GUIDE-AREA",
                inputs,
                core,
                cmax,
                ok,
                f"core area {num(core)} km² is {'within' if ok else 'above'} the maximum {num(cmax)} km²",
                f"核心区面积 {num(core)} 平方公里，{'不超过' if ok else '超过'}上限 {num(cmax)} 平方公里",
            )
        )

    # planned investment
    relaxed = ind.value in pack.value("relaxed_industries")
    imin = exact(pack.application_value("relaxed_planned_investment_min" if relaxed else "planned_investment_min"))
    inputs = {"planned_investment": p.planned_investment, "relaxed": relaxed}
    kind_en, kind_zh = (" (relaxed industry)", "（放宽产业）") if relaxed else ("", "")
    if p.planned_investment is None:
        findings.append(
            _f(
                "application-investment",
                "ZJ-GUIDE-INV",
                inputs,
                None,
                imin,
                False,
                f"the planned investment over the creation period is required (at least {num(imin)} 亿元{kind_en})",
                f"申报须填报创建期计划总投资（不少于 {num(imin)} 亿元{kind_zh}）",
            )
        )
    else:
        inv = exact(p.planned_investment)
        ok = cmp(inv, imin) >= 0
        findings.append(
            _f(
                "application-investment",
                "ZJ-GUIDE-INV",
                inputs,
                inv,
                imin,
                ok,
                f"planned investment {num(inv)} 亿元 {'meets' if ok else 'is below'} the minimum {num(imin)} 亿元{kind_en}",
                f"计划总投资 {num(inv)} 亿元，{'达到' if ok else '低于'}下限 {num(imin)} 亿元{kind_zh}",
            )
        )

    grade = Grade.admitted.value if all(f.passed for f in findings) else Grade.rejected.value
    inputs = {
        "year": year,
        "applying_for": record.applying_for,
        "tier": p.tier.value,
        "state": p.state.value,
        "industry": ind.value,
        "planned_area_km2": p.planned_area_km2,
        "core_area_km2": p.core_area_km2,
        "planned_investment": p.planned_investment,
    }
    return TownProposal(
        code=p.code,
        name=p.name,
        tier=p.tier.value,
        proposed_grade=grade,
        score=None,
        findings=findings,
        inputs=inputs,
        effects=effects(record, grade, year, pack),
    )


def application_city(proposals: list[TownProposal], year: int, pack: RulePack) -> CityAggregates:
    """How many applications the round proposes to admit and to reject."""
    admitted = sorted(pr.code for pr in proposals if pr.proposed_grade == Grade.admitted.value)
    rejected = sorted(pr.code for pr in proposals if pr.proposed_grade == Grade.rejected.value)
    applying = {pr.code: pr.inputs.get("applying_for") for pr in proposals}
    by_tier: dict[str, int] = {}
    for code in admitted:
        by_tier[str(applying.get(code))] = by_tier.get(str(applying.get(code)), 0) + 1
    return CityAggregates(
        values={
            "year": year,
            "applications": len(proposals),
            "admitted": len(admitted),
            "rejected": len(rejected),
            "admitted_codes": admitted,
            "rejected_codes": rejected,
            "admitted_by_tier": by_tier,
        }
    )
