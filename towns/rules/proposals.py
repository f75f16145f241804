"""One town's proposal in a round of any kind: the rules of that kind, applied (pure)."""

from __future__ import annotations

from ..models.round import AnnualContext, RoundKind, TownProposal, TownRecord
from . import acceptance, annual, application
from .pack import RulePack


def evaluate(
    kind: RoundKind, record: TownRecord, year: int, pack: RulePack, context: AnnualContext | None
) -> TownProposal:
    if kind == RoundKind.annual:
        if context is None:
            raise ValueError("an annual round needs its context (city tax growth, innovation points)")
        return annual.evaluate_annual_town(record, year, pack, context)
    if kind == RoundKind.acceptance:
        return acceptance.evaluate_acceptance_town(record, year, pack)
    return application.evaluate_application_town(record, year, pack)
