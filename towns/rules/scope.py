"""Which towns each kind of round takes."""

from __future__ import annotations

from ..models.round import RoundKind
from ..models.town import Town
from .acceptance import due_for_acceptance


def in_scope(town: Town, kind: RoundKind, year: int) -> bool:
    """application: towns applying (for a list or a higher tier); annual: towns on a list in the
    year; acceptance: towns in creation whose creation period ends in the year."""
    if kind == RoundKind.application:
        return town.applying_for is not None and town.state in ("applied", "creating")
    if kind == RoundKind.annual:
        return town.on_list_in(year)
    return town.state == "creating" and due_for_acceptance(town.profile(), year)
