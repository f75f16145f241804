"""Acceptance and naming (验收命名, ZJ-ACCEPT) of towns whose creation period ends in year Y.

A town is due when listed_year + creation_years − 1 == Y (a failed acceptance extends the
period by ``acceptance.extension_years``, so it is due again later). Findings:

- ``acceptance-december-report-<year>`` (ZJ-ACCEPT): one failed finding per creation year
  without a December report; that year's investment counts as 0.
- ``acceptance-investment`` (ZJ-GUIDE-INV): Σ December FAI over listed_year..Y ≥
  acceptance.fai_min (acceptance.relaxed_fai_min for params.relaxed_industries).
- ``acceptance-industry-share`` (ZJ-GUIDE-IND70): Σ industry_fai ÷ Σ fai ≥
  acceptance.industry_share_min.
- ``acceptance-scenic`` (ZJ-GUIDE-SCENIC): scenic level of the latest report ≥
  acceptance.scenic_min (acceptance.tourism_scenic_min for acceptance.tourism_industries).
- ``acceptance-no-warning`` (ZJ-ACCEPT): the final annual grade of Y is not warning,
  demoted or eliminated; when Y's annual grade is not decided yet, it passes and says so.
- ``acceptance-consequence`` (ZJ-ASSESS-GRADES): only after a failure, what follows.

All pass → "named"; otherwise "not_named" (creation extended), unless this is the
town's ``acceptance.failures_to_consequence``-th failure: then "demoted" (provincial
creation) or "eliminated" (provincial cultivation, city-level). No score.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..models.finding import Finding
from ..models.round import CityAggregates, Grade, TownProposal, TownRecord
from ..models.town import TownProfile
from ..models.vocab import Tier, TownState
from .annual import _f, _pct, _pct_zh
from .effects import effects
from .monthly import cmp, exact, num
from .pack import RulePack

BAD_ANNUAL = (Grade.warning.value, Grade.demoted.value, Grade.eliminated.value)


def creation_end(profile: TownProfile) -> int | None:
    if profile.listed_year is None:
        return None
    return profile.listed_year + profile.creation_years - 1


def due_for_acceptance(profile: TownProfile, year: int) -> bool:
    """The town is in creation and its creation period ends in ``year``."""
    return profile.state == TownState.creating and profile.tier != Tier.named and creation_end(profile) == year


def evaluate_acceptance_town(record: TownRecord, year: int, pack: RulePack) -> TownProposal:
    p = record.profile
    first = p.listed_year if p.listed_year is not None else year - p.creation_years + 1
    years = list(range(first, year + 1))
    findings: list[Finding] = []

    # December reports of every creation year
    total_fai, total_ind = Fraction(0), Fraction(0)
    per_year: dict[int, dict[str, float] | None] = {}
    for y in years:
        d = record.december.get(y)
        if d is None:
            per_year[y] = None
            findings.append(
                _f(
                    f"acceptance-december-report-{y}",
                    "ZJ-ACCEPT",
                    {"year": y},
                    None,
                    None,
                    False,
                    f"no December {y} report: that year's investment counts as 0",
                    f"缺少{y}年12月报表：该年投资按0计",
                )
            )
            continue
        per_year[y] = {"fai": d.fai, "industry_fai": d.industry_fai}
        total_fai += exact(d.fai)
        total_ind += exact(d.industry_fai)
    span_en, span_zh = f"{first}–{year}", f"{first}—{year}年"

    # cumulative investment
    relaxed = p.industry.value in pack.value("relaxed_industries")
    thr = exact(pack.acceptance_value("relaxed_fai_min" if relaxed else "fai_min"))
    ok = cmp(total_fai, thr) >= 0
    kind_en = " (relaxed industry)" if relaxed else ""
    kind_zh = "（放宽产业）" if relaxed else ""
    findings.append(
        _f(
            "acceptance-investment",
            "ZJ-GUIDE-INV",
            {"years": per_year, "relaxed": relaxed},
            total_fai,
            thr,
            ok,
            f"cumulative FAI {span_en}: {num(total_fai)} 亿元, {'meeting' if ok else 'below'} "
            f"the {num(thr)} 亿元 required{kind_en}",
            f"{span_zh}累计固定资产投资 {num(total_fai)} 亿元，{'达到' if ok else '低于'}要求 {num(thr)} 亿元{kind_zh}",
        )
    )

    # cumulative characteristic-industry share
    smin = exact(pack.acceptance_value("industry_share_min"))
    inputs: dict[str, Any] = {"industry_fai": num(total_ind), "fai": num(total_fai)}
    if total_fai == 0:
        findings.append(
            _f(
                "acceptance-industry-share",
                "ZJ-GUIDE-IND70",
                inputs,
                None,
                smin,
                False,
                f"no investment reported over {span_en}: the characteristic-industry share is undefined",
                f"{span_zh}无固定资产投资，特色产业投资占比无从计算",
            )
        )
    else:
        share = total_ind / total_fai
        ok = cmp(share, smin) >= 0
        findings.append(
            _f(
                "acceptance-industry-share",
                "ZJ-GUIDE-IND70",
                inputs,
                share,
                smin,
                ok,
                f"cumulative characteristic-industry investment {num(total_ind)} of {num(total_fai)} 亿元 "
                f"is {_pct(share)}, {'meeting' if ok else 'below'} the minimum {_pct(smin)}",
                f"累计特色产业投资 {num(total_ind)} 亿元，占累计固定资产投资 {num(total_fai)} 亿元的 "
                f"{_pct_zh(share)}，{'达到' if ok else '低于'}下限 {_pct_zh(smin)}",
            )
        )

    # scenic level
    tourism = p.industry.value in pack.acceptance_value("tourism_industries")
    need = int(pack.acceptance_value("tourism_scenic_min" if tourism else "scenic_min"))
    level = record.latest.scenic_level if record.latest is not None else None
    std_en = f"the {need}A standard" + (" for tourism towns" if tourism else "")
    std_zh = ("旅游类" if tourism else "") + f"{need}A 标准"
    if level is None:
        findings.append(
            _f(
                "acceptance-scenic",
                "ZJ-GUIDE-SCENIC",
                {"scenic_level": None, "tourism": tourism},
                None,
                need,
                False,
                f"no scenic level reported; {std_en} is required",
                f"未报景区等级；须达到{std_zh}",
            )
        )
    else:
        ok = level >= need
        findings.append(
            _f(
                "acceptance-scenic",
                "ZJ-GUIDE-SCENIC",
                {"scenic_level": level, "tourism": tourism},
                level,
                need,
                ok,
                f"scenic level {level}A {'meets' if ok else 'is below'} {std_en}",
                f"景区等级 {level}A，{'达到' if ok else '未达到'}{std_zh}",
            )
        )

    # no warning in year Y
    g = record.annual_grade
    if g is None:
        findings.append(
            _f(
                "acceptance-no-warning",
                "ZJ-ACCEPT",
                {"annual_grade": None},
                None,
                None,
                True,
                f"the annual grade of {year} is not decided yet: no warning on record",
                f"{year}年度考核等级尚未审定：暂无警告记录",
            )
        )
    else:
        ok = g not in BAD_ANNUAL
        zh_g = Grade.parse(g).zh
        findings.append(
            _f(
                "acceptance-no-warning",
                "ZJ-ACCEPT",
                {"annual_grade": g},
                None,
                None,
                ok,
                f"the annual grade of {year} is '{g}'"
                + ("" if ok else ": a warned, demoted or eliminated town is not named"),
                f"{year}年度考核等级为“{zh_g}”" + ("" if ok else "：受警告、降格或淘汰的小镇不予命名"),
            )
        )

    if all(f.passed for f in findings):
        grade = Grade.named.value
    else:
        failures = record.acceptance_failures + 1
        needed = int(pack.acceptance_value("failures_to_consequence"))
        ext = int(pack.acceptance_value("extension_years"))
        inputs = {
            "acceptance_failures_before": record.acceptance_failures,
            "failures_to_consequence": needed,
            "extension_years": ext,
            "tier": p.tier.value,
        }
        if failures >= needed:
            if p.tier == Tier.provincial_creation:
                grade, en, zh = Grade.demoted.value, "demoted to the provincial cultivation list", "降格为省级培育对象"
            else:
                grade, en, zh = Grade.eliminated.value, "eliminated from the list", "予以淘汰"
            findings.append(
                _f(
                    "acceptance-consequence",
                    "ZJ-ASSESS-GRADES",
                    inputs,
                    failures,
                    needed,
                    False,
                    f"acceptance failed (failure {failures}): {en}",
                    f"第 {failures} 次验收未通过：{zh}",
                )
            )
        else:
            grade = Grade.not_named.value
            findings.append(
                _f(
                    "acceptance-consequence",
                    "ZJ-ACCEPT",
                    inputs,
                    failures,
                    needed,
                    False,
                    f"acceptance failed (failure {failures}): not named, creation extended by {ext} year(s)"
                    f"; {needed} failures lead to demotion or elimination",
                    f"第 {failures} 次验收未通过：不予命名，创建期延长 {ext} 年；累计 {needed} 次未通过将降格或淘汰",
                )
            )

    inputs = {
        "year": year,
        "tier": p.tier.value,
        "industry": p.industry.value,
        "listed_year": p.listed_year,
        "creation_years": p.creation_years,
        "years": years,
        "december": {str(y): (d.model_dump() if (d := record.december.get(y)) is not None else None) for y in years},
        "latest": record.latest.model_dump() if record.latest is not None else None,
        "annual_grade": record.annual_grade,
        "acceptance_failures_before": record.acceptance_failures,
        "cumulative_fai": num(total_fai),
        "cumulative_industry_fai": num(total_ind),
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


def acceptance_city(proposals: list[TownProposal], year: int, pack: RulePack) -> CityAggregates:
    """How many towns the round proposes to name, against SX2018-G7."""
    by_grade: dict[str, list[str]] = {}
    for pr in proposals:
        by_grade.setdefault(pr.proposed_grade, []).append(pr.code)
    named = sorted(by_grade.get(Grade.named.value, []))
    provincial = sorted(
        pr.code for pr in proposals if pr.proposed_grade == Grade.named.value and pr.tier != Tier.city.value
    )
    need = int(pack.value("city_named_min"))
    ok = len(provincial) >= need
    finding = _f(
        "city-named",
        "SX2018-G7",
        {"named": named, "provincial_named": provincial},
        len(provincial),
        need,
        ok,
        f"{len(provincial)} provincial town(s) proposed for naming in {year}, "
        f"{'meeting' if ok else 'below'} the target of {need}"
        + (
            f" (city-level towns proposed for naming: {len(named) - len(provincial)})"
            if len(named) > len(provincial)
            else ""
        ),
        f"{year}年拟命名省级特色小镇 {len(provincial)} 个，{'完成' if ok else '未完成'}目标 {need} 个"
        + (f"（另有市级小镇 {len(named) - len(provincial)} 个拟通过验收）" if len(named) > len(provincial) else ""),
    )
    values = {
        "named": len(named),
        "named_codes": named,
        "provincial_named": len(provincial),
        **{g: len(by_grade.get(g, [])) for g in (Grade.not_named.value, Grade.demoted.value, Grade.eliminated.value)},
        "towns": len(proposals),
    }
    return CityAggregates(values=values, findings=[finding])
