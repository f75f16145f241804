"""What a decision's FINAL grade (proposed, or overridden by office staff) does to its town.

One function for every round kind (the grading, acceptance and application rules; the
ladders — which tier a demotion leads to, what naming makes of a tier — are the pack's tiers). The result always carries
the town's full resulting state, tier, warning count, listed year, creation period and
acceptance failures, so that applying it is a plain assignment.

| grade | effect |
|---|---|
| excellent, good, pass | consecutive warnings back to 0 |
| warning | warnings + 1; state and tier unchanged |
| demoted | one list down (provincial creation → provincial cultivation; a named town → provincial creation, in creation again); warnings 0 |
| eliminated | state eliminated |
| named | state named; tier named for provincial tiers (a city-level town stays city-level); warnings unchanged |
| not_named | creation period + acceptance.extension_years; acceptance failures + 1 |
| admitted | state creating, tier = the tier applied for, listed this year, warnings and acceptance failures 0 |
| rejected | state rejected for a town that was only applying; an existing town keeps its state and tier |

``demoted`` on a provincial cultivation or city-level town (only by a staff override; the
rules never propose it) has no lower list to move to: tier unchanged, warnings 0.
"""

from __future__ import annotations

from ..models.round import Effects, Grade, TownRecord
from .measures import ident
from .pack import RulePack


def applied_tier(pack: RulePack, raw: str) -> str:
    """The tier an application names (its id, Chinese name or an alias)."""
    for t in pack.tiers:
        if raw == t.id or raw == t.zh or raw in t.aliases:
            return t.id
    raise ValueError(f"{raw!r} is not a tier of pack {pack.pack.id}: {[t.id for t in pack.tiers]}")


def effects(record: TownRecord, grade: str, year: int, pack: RulePack) -> Effects:
    p = record.profile
    state, tier, warnings = ident(p.state), ident(p.tier), record.warnings
    listed_year, creation_years, failures = p.listed_year, p.creation_years, record.acceptance_failures
    g = Grade.parse(grade)
    if g in (Grade.excellent, Grade.good, Grade.pass_):
        warnings = 0
    elif g == Grade.warning:
        warnings += 1
    elif g == Grade.demoted:
        lower = pack.tier(tier).demotes_to
        if lower is not None:
            if state == "named":
                state = "creating"
            tier = lower
        warnings = 0
    elif g == Grade.eliminated:
        state = "eliminated"
    elif g == Grade.named:
        state = "named"
        tier = pack.tier(tier).named_to or tier
    elif g == Grade.not_named:
        creation_years += int(pack.acceptance_value("extension_years"))
        failures += 1
    elif g == Grade.admitted:
        if record.applying_for is None:
            raise ValueError(f"{p.code}: admitted, but the town applied for no tier")
        state = "creating"
        tier = applied_tier(pack, record.applying_for)
        listed_year, warnings, failures = year, 0, 0
    elif g == Grade.rejected and state == "applied":
        state = "rejected"
    return Effects(
        state=state,
        tier=tier,
        warnings=warnings,
        listed_year=listed_year,
        creation_years=creation_years,
        acceptance_failures=failures,
    )


def unchanged(record: TownRecord) -> Effects:
    """The effects of a decision that leaves its town as it is: one approved after a decision for a
    later year had been applied (decisions apply in year order; see ``models.round.ORDER``)."""
    p = record.profile
    return Effects(
        state=ident(p.state),
        tier=ident(p.tier),
        warnings=record.warnings,
        listed_year=p.listed_year,
        creation_years=p.creation_years,
        acceptance_failures=record.acceptance_failures,
    )
