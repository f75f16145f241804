"""Acceptance and naming (验收命名) of towns whose creation period has ended.

A town is due in year Y when it is in creation on a tier subject to acceptance and its
creation period (listed_year + creation_years − 1, extended after each failed acceptance)
ended in or before Y: a town never accepted stays due. The checks are the pack's
``kind = "acceptance"`` checks: all pass → "named"; otherwise "not_named" (creation
extended), unless the tier's ladder says the failures have reached their consequence.
"""

from __future__ import annotations

from fractions import Fraction

from ..models.round import CityAggregates, TownProposal, TownRecord
from ..models.town import TownProfile
from .effects import effects
from .evaluator import Evaluator, grade_pass_fail
from .measures import Subject, creation_years, exact, ident
from .pack import RulePack
from .text import num


def creation_end(profile: TownProfile) -> int | None:
    if profile.listed_year is None:
        return None
    return profile.listed_year + profile.creation_years - 1


def due_for_acceptance(profile: TownProfile, year: int, pack: RulePack) -> bool:
    """In creation, on a tier subject to acceptance (the pack's ``subject_to``), its creation
    period over by ``year``."""
    if ident(profile.state) != "creating":
        return False
    if ident(profile.tier) not in {t.id for t in pack.tiers if "acceptance" in t.subject_to}:
        return False
    end = creation_end(profile)
    return end is not None and end <= year


def evaluate_acceptance_town(record: TownRecord, year: int, pack: RulePack) -> TownProposal:
    p = record.profile
    subject = Subject(pack=pack, year=year, record=record)
    g = grade_pass_fail(Evaluator(pack), subject, "acceptance", "named", "not_named")
    years = creation_years(subject)
    fai = sum((exact(record.december[y].fai) for y in years if y in record.december), Fraction(0))
    ind = sum((exact(record.december[y].industry_fai) for y in years if y in record.december), Fraction(0))
    inputs = {
        "year": year,
        "tier": ident(p.tier),
        "industry": ident(p.industry),
        "listed_year": p.listed_year,
        "creation_years": p.creation_years,
        "years": years,
        "december": {str(y): (d.model_dump() if (d := record.december.get(y)) is not None else None) for y in years},
        "latest": record.latest.model_dump() if record.latest is not None else None,
        "annual_grade": record.annual_grade,
        "acceptance_failures_before": record.acceptance_failures,
        "cumulative_fai": num(fai),
        "cumulative_industry_fai": num(ind),
    }
    return TownProposal(
        code=p.code,
        name=p.name,
        tier=ident(p.tier),
        proposed_grade=g.grade,
        score=None,
        findings=g.findings,
        inputs=inputs,
        effects=effects(record, g.grade, year, pack),
    )


def acceptance_city(proposals: list[TownProposal], year: int, pack: RulePack) -> CityAggregates:
    """How many towns the round proposes to name: the provincial ones count for the city's
    naming target (a city-level town passing its acceptance does not)."""
    by_grade: dict[str, list[str]] = {}
    for pr in proposals:
        by_grade.setdefault(pr.proposed_grade, []).append(pr.code)
    named = sorted(by_grade.get("named", []))
    provincial = sorted(pr.code for pr in proposals if pr.proposed_grade == "named" and _provincial(pack, pr.tier))
    subject = Subject(
        pack=pack,
        year=year,
        proposals=proposals,
        named_this_year=len(provincial),
        named_codes=named,
        round_kind="acceptance",
    )
    out = Evaluator(pack).stage(pack.checks_of("city"), subject)
    values = {
        "named": len(named),
        "named_codes": named,
        "provincial_named": len(provincial),
        **{g: len(by_grade.get(g, [])) for g in ("not_named", "demoted", "eliminated")},
        "towns": len(proposals),
    }
    return CityAggregates(values=values, findings=out.findings)


def _provincial(pack: RulePack, tier_id: str) -> bool:
    """A tier whose named towns count as provincial towns named (it is named onto another list)."""
    try:
        tier = pack.tier(tier_id)
    except KeyError:
        return False
    return tier.named_to is not None and tier.named_to != tier.id
