"""Annual assessment (年度考核) of the towns on a list, and the city's totals for the year.

A town's annual figures are its December year-to-date report of year Y
(``record.december[Y]``); last year's tax is the December report of Y − 1. What is checked,
against which parameter and clause, with what points, is the pack's ``kind = "annual"``
checks; the city's totals are its ``kind = "city"`` checks. This module gathers the round's
context (the city average tax growth, the innovation ranking) and hands each town to the
one evaluator (towns/rules/evaluator.py).
"""

from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction

from ..models.round import AnnualContext, CityAggregates, TownProposal, TownRecord
from .effects import effects
from .evaluator import Evaluator, grade_annual, round_score
from .measures import Subject, annual_target, exact, ident, innovation_index, rank_from_points
from .pack import RulePack
from .text import num

__all__ = ["annual_city", "annual_context", "evaluate_annual_town", "innovation_ranks", "round_score"]


def innovation_ranks(records: list[TownRecord], year: int) -> dict[str, tuple[int, int]]:
    """code → (index, rank); ties share the better rank (1, 2, 2, 4): one plus the number of towns
    with a higher index (counted in a sorted list: a city of 10,000 towns is not 10⁸ comparisons)."""
    index = {r.profile.code: innovation_index(r.december.get(year)) for r in records}
    ordered = sorted(index.values())
    return {code: (i, 1 + len(ordered) - bisect_right(ordered, i)) for code, i in index.items()}


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


def _fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def annual_context(
    records: list[TownRecord], year: int, pack: RulePack, city_tax_growth: float | None
) -> AnnualContext:
    """The city average tax growth (the office's figure, else pooled over the round's towns)
    and every town's innovation points, kept exact (a fraction as text)."""
    exact_growth: Fraction | None
    if city_tax_growth is not None:
        exact_growth, source = exact(float(city_tax_growth)), "office"
    else:
        exact_growth, _ = pooled_tax_growth(records, year)
        source = "none" if exact_growth is None else "pooled"
    weight = exact(pack.value("annual.weights.innovation")) if pack.has("annual.weights.innovation") else Fraction(0)
    ranks = innovation_ranks(records, year)
    n = len(ranks)
    scores: dict[str, float | str] = {
        code: _fraction_text(innovation_points(rank, n, weight)) for code, (_, rank) in ranks.items()
    }
    return AnnualContext(
        city_tax_growth=None if exact_growth is None else float(exact_growth),
        city_tax_growth_source=source,
        innovation_scores=scores,
        city_tax_growth_exact=None if exact_growth is None else _fraction_text(exact_growth),
    )


def evaluate_annual_town(record: TownRecord, year: int, pack: RulePack, ctx: AnnualContext) -> TownProposal:
    p = record.profile
    subject = Subject(pack=pack, year=year, record=record, context=ctx)
    g = grade_annual(Evaluator(pack), subject)
    dec, last = record.december.get(year), record.december.get(year - 1)
    target = annual_target(p, pack, record.acceptance_failures)
    weight = exact(pack.value("annual.weights.innovation")) if pack.has("annual.weights.innovation") else Fraction(0)
    rank, n = rank_from_points(p.code, ctx, weight)
    inputs = {
        "year": year,
        "tier": ident(p.tier),
        "industry": ident(p.industry),
        "district": ident(p.district),
        "december": dec.model_dump() if dec is not None else None,
        "december_last_year_tax": last.tax if last is not None else None,
        "annual_target": num(target.value),
        "target_source": target.source_en,
        "city_tax_growth": ctx.city_tax_growth,
        "city_tax_growth_source": ctx.city_tax_growth_source,
        "tax_growth_mode": pack.value("tax_growth_mode") if pack.has("tax_growth_mode") else None,
        "tax_growth_margin": pack.value("tax_growth_margin") if pack.has("tax_growth_margin") else None,
        "weights": {k: num(v, 4) for k, v in g.weights.items()},
        "points": {k: num(v, 4) for k, v in g.points.items()},
        "tax_growth_assessed": g.assessed.get("tax_growth", False),
        "rescaled": g.rescaled,
        "innovation": {"index": innovation_index(dec), "rank": rank, "towns": n},
        "warnings_before": record.warnings,
    }
    return TownProposal(
        code=p.code,
        name=p.name,
        tier=ident(p.tier),
        proposed_grade=g.grade,
        score=float(g.score) if g.score is not None else None,
        findings=g.findings,
        inputs=inputs,
        effects=effects(record, g.grade, year, pack),
    )


def annual_city(
    records: list[TownRecord], proposals: list[TownProposal], year: int, pack: RulePack, named_this_year: int
) -> CityAggregates:
    """The pack's city checks over the round's towns (totals, district quotas, early warning,
    naming): ``named_this_year`` counts the provincial towns named in the year by the decision
    that named them."""
    subject = Subject(
        pack=pack,
        year=year,
        records=records,
        proposals=proposals,
        named_this_year=named_this_year,
        round_kind="annual",
    )
    out = Evaluator(pack).stage(pack.checks_of("city"), subject)
    decs = [(r, r.december.get(year)) for r in records]
    districts = {}
    for d in pack.districts:
        mine = [dec for r, dec in decs if ident(r.profile.district) == d.id]
        total = sum((exact(dec.fai) for dec in mine if dec is not None), Fraction(0))
        districts[d.id] = {"total": num(total), "quota": d.quota}
    growth, source = None, "none"
    if proposals and "city_tax_growth_source" in proposals[0].inputs:
        growth, source = proposals[0].inputs.get("city_tax_growth"), proposals[0].inputs["city_tax_growth_source"]
    else:
        pooled, _ = pooled_tax_growth(records, year)
        if pooled is not None:
            growth, source = float(pooled), "pooled"
    risky = ("warning", "demoted", "eliminated")
    g6_tiers = pack.check("city-g6-risk").tiers if any(c.id == "city-g6-risk" for c in pack.checks) else None
    values = {
        "total_fai": num(sum((exact(d.fai) for _, d in decs if d is not None), Fraction(0))),
        "total_industry_fai": num(sum((exact(d.industry_fai) for _, d in decs if d is not None), Fraction(0))),
        "districts": districts,
        "city_tax_growth": growth,
        "city_tax_growth_source": source,
        "g6_risk": sorted(
            pr.code for pr in proposals if (g6_tiers is None or pr.tier in g6_tiers) and pr.proposed_grade in risky
        ),
        "named_this_year": named_this_year,
        "missing_december": [r.profile.code for r, d in decs if d is None],
    }
    return CityAggregates(values=values, findings=out.findings)
