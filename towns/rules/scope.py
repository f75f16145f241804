"""Which towns each kind of round takes (a pack's ``[scope.<kind>]``)."""

from __future__ import annotations

from ..models.round import RoundKind
from ..models.town import Town
from .acceptance import due_for_acceptance
from .pack import RulePack


def in_scope(town: Town, kind: RoundKind, year: int, pack: RulePack) -> bool:
    """The towns of the pack's programme a round of ``kind`` for ``year`` takes — application:
    towns applying (for a list or a higher tier); annual: towns on a list in the year;
    acceptance: towns in creation whose creation period has ended by the year and that were
    never accepted — in the states the pack's ``[scope.<kind>]`` names."""
    if town.programme != pack.pack.id:  # a town belongs to one programme
        return False
    states = pack.scope[kind.value].states if kind.value in pack.scope else None
    if kind == RoundKind.application:
        return town.applying_for is not None and town.state in (states or ("applied", "creating"))
    if kind == RoundKind.annual:
        return town.on_list_in(year) and (states is None or town.state in states)
    return town.state in (states or ("creating",)) and due_for_acceptance(town.profile(), year, pack)
