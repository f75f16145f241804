"""Applications to enter a creation list (创建申报审核).

For towns with ``record.applying_for`` set (a new town in state "applied", or a town
already on a list applying for another). The checks are the pack's ``kind = "application"``
checks: all pass → "admitted", else "rejected". No score.
"""

from __future__ import annotations

from ..models.round import CityAggregates, TownProposal, TownRecord
from .effects import effects
from .evaluator import Evaluator, grade_pass_fail
from .measures import Subject, ident
from .pack import RulePack


def evaluate_application_town(record: TownRecord, year: int, pack: RulePack) -> TownProposal:
    p = record.profile
    subject = Subject(pack=pack, year=year, record=record)
    g = grade_pass_fail(Evaluator(pack), subject, "application", "admitted", "rejected")
    inputs = {
        "year": year,
        "applying_for": record.applying_for,
        "tier": ident(p.tier),
        "state": ident(p.state),
        "industry": ident(p.industry),
        "planned_area_km2": p.planned_area_km2,
        "core_area_km2": p.core_area_km2,
        "planned_investment": p.planned_investment,
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


def application_city(proposals: list[TownProposal], year: int, pack: RulePack) -> CityAggregates:
    """How many applications the round proposes to admit and to reject."""
    admitted = sorted(pr.code for pr in proposals if pr.proposed_grade == "admitted")
    rejected = sorted(pr.code for pr in proposals if pr.proposed_grade == "rejected")
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
