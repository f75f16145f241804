"""The city's naming count (SX2018-G7): provincial towns named in the year by the decision that
named them; a city-level town passing its acceptance stays on its list and does not count."""

from datetime import UTC, date, datetime

from sqlmodel import Session

from towns.activities.rounds import named_onto_a_list
from towns.models.round import DecisionRow
from towns.rules.library import load_pack

PACK = load_pack("sx2018", date(2018, 12, 31))


def decision(code: str, year: int, grade: str, tier_before: str, tier_after: str) -> DecisionRow:
    return DecisionRow(
        round_id=f"round-{year}-acceptance",
        kind="acceptance",
        year=year,
        code=code,
        proposed_grade=grade,
        final_grade=grade,
        by="王主任",
        before={"state": "creating", "tier": tier_before},
        effects={"state": "named" if grade == "named" else "creating", "tier": tier_after},
        pack_id="sx2018",
        pack_version="2018.3",
        pack_hash="x",
        recorded_at=datetime.now(UTC),
    )


def test_only_provincial_towns_named_in_the_year_count(engine):
    with Session(engine) as s:
        s.add(decision("SX-P1", 2018, "named", "provincial_creation", "named"))
        s.add(decision("SX-C1", 2018, "named", "city", "city"))  # city-level acceptance
        s.add(decision("SX-P2", 2017, "named", "provincial_creation", "named"))  # another year
        s.add(decision("SX-P3", 2018, "not_named", "provincial_creation", "provincial_creation"))
        s.commit()
        assert named_onto_a_list(s, 2018, PACK) == 1
        assert named_onto_a_list(s, 2017, PACK) == 1
        assert named_onto_a_list(s, 2019, PACK) == 0
