"""A past quarter's bulletin says what the office knew of each town in that quarter, not what
later decisions made of it (business time: an annual or acceptance decision for year Y takes
effect on 1 January of Y+1, an application decision for year Y on 1 January of Y)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from towns.bulletin import BulletinRefused, check_publishable, compute_bulletin, standing_as_of
from towns.models.round import DecisionRow
from towns.models.town import Town
from towns.rules.library import load_pack

from .conftest import T0, add_report, add_town


def decision(
    code: str, kind: str, year: int, grade: str, before: dict, effects: dict, id_: int | None = None
) -> DecisionRow:
    full_before = {
        "state": "creating",
        "tier": "provincial_creation",
        "warnings": 0,
        "last_grade": None,
        "listed_year": 2016,
        "creation_years": 3,
        "acceptance_failures": 0,
    } | before
    return DecisionRow(
        id=id_,
        round_id=f"round-{year}-{kind}",
        kind=kind,
        year=year,
        code=code,
        proposed_grade=grade,
        final_grade=grade,
        by="王主任",
        before=full_before,
        effects=effects,
        pack_id="sx2018",
        pack_version="2018.2",
        pack_hash="x",
        # an application round for Y decides before Y starts; annual and acceptance rounds after Y ends
        recorded_at=datetime(year - 1, 12, 1, tzinfo=UTC)
        if kind == "application"
        else datetime(year + 1, 3, 1, tzinfo=UTC),
    )


def town(**kw) -> Town:
    base = dict(
        code="SX-W",
        name="警告后合格小镇",
        district="keqiao",
        tier="provincial_creation",
        industry="fashion",
        listed_year=2016,
        planned_investment=50,
        registered_at=T0,
    )
    return Town(**(base | kw))


# ---------------------------------------------------------------- the pure function


def test_warned_in_2017_then_pass_in_2018():
    now = town(warnings=0, last_grade="pass")
    decisions = [
        decision("SX-W", "annual", 2017, "warning", {"warnings": 0, "last_grade": "good"}, {"warnings": 1}, id_=1),
        decision("SX-W", "annual", 2018, "pass", {"warnings": 1, "last_grade": "warning"}, {"warnings": 0}, id_=2),
    ]
    # during 2018 the 2017 warning is in effect and the 2018 pass is not yet
    in_2018 = standing_as_of(now, decisions, 2018)
    assert (in_2018.warnings, in_2018.last_grade) == (1, "warning")
    # during 2017 neither is: as the town stood before the 2017 round
    # the earliest applied wins, whatever the order given
    in_2017 = standing_as_of(now, list(reversed(decisions)), 2017)
    assert (in_2017.warnings, in_2017.last_grade) == (0, "good")
    # from 2019 on, everything is in effect: the row itself
    assert standing_as_of(now, decisions, 2019) is now
    # the row is not touched
    assert (now.warnings, now.last_grade) == (0, "pass")


def test_eliminated_demoted_and_admitted():
    eliminated = town(code="SX-X", state="eliminated", warnings=2)
    d = [decision("SX-X", "annual", 2018, "eliminated", {"warnings": 1}, {"state": "eliminated"}, id_=5)]
    assert standing_as_of(eliminated, d, 2018).state == "creating"
    assert standing_as_of(eliminated, d, 2018).on_list_in(2018)
    assert not standing_as_of(eliminated, d, 2019).on_list_in(2019)

    demoted = town(code="SX-Z", tier="provincial_cultivation")
    d = [decision("SX-Z", "annual", 2018, "demoted", {"warnings": 1}, {"tier": "provincial_cultivation"}, id_=6)]
    assert standing_as_of(demoted, d, 2018).tier == "provincial_creation"
    assert standing_as_of(demoted, d, 2019).tier == "provincial_cultivation"

    # an application round for 2019 admits a town listed in 2019: in effect from 1 January 2019
    admitted = town(code="SX-Y", listed_year=2019)
    d = [
        decision(
            "SX-Y",
            "application",
            2019,
            "admitted",
            {"state": "applied", "listed_year": None},
            {"state": "creating", "listed_year": 2019},
            id_=7,
        )
    ]
    assert standing_as_of(admitted, d, 2019) is admitted
    then = standing_as_of(admitted, d, 2018)
    assert (then.state, then.listed_year) == ("applied", None) and not then.on_list_in(2018)

    # named by the 2017 acceptance round: named during 2018, in creation during 2017
    named = town(code="SX-N", state="named", tier="named", listed_year=2015)
    d = [decision("SX-N", "acceptance", 2017, "named", {"listed_year": 2015}, {"state": "named"}, id_=8)]
    assert (standing_as_of(named, d, 2018).state, standing_as_of(named, d, 2017).state) == ("named", "creating")


def test_other_towns_decisions_are_ignored():
    now = town(warnings=0)
    other = decision("SX-OTHER", "annual", 2018, "warning", {"warnings": 3}, {"warnings": 4}, id_=1)
    assert standing_as_of(now, [other], 2018) is now


# ---------------------------------------------------------------- the bulletin, end to end


@pytest.fixture
def decided(engine):
    """The towns table after the 2018 annual round and the 2019 application round were applied;
    the decisions table says what they were before."""
    with Session(engine) as s:
        # warned in 2017, pass in 2018: today 0 warnings, last grade pass
        add_town(
            s,
            code="SX-W",
            name="警告后合格小镇",
            district="keqiao",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
            warnings=0,
            last_grade="pass",
        )
        # eliminated by the 2018 annual round
        add_town(
            s,
            code="SX-X",
            name="淘汰小镇",
            district="zhuji",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
            state="eliminated",
            warnings=1,
            last_grade="eliminated",
        )
        # demoted by the 2018 annual round: provincial creation (target 15) → cultivation
        add_town(
            s,
            code="SX-Z",
            name="降格小镇",
            district="shangyu",
            tier="provincial_cultivation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
            warnings=0,
            last_grade="demoted",
        )
        # admitted by the 2019 application round
        add_town(
            s,
            code="SX-Y",
            name="新列入小镇",
            district="yuecheng",
            tier="provincial_cultivation",
            industry="fashion",
            listed_year=2019,
            planned_investment=50,
        )
        for c, fai in (("SX-W", 3.0), ("SX-X", 5.0), ("SX-Z", 9.0)):
            add_report(s, c, "2018-06", 1, fai, fai * 0.8, fai * 0.9, received_at=datetime(2018, 7, 5, tzinfo=UTC))
        add_report(s, "SX-Y", "2019-03", 1, 5.0, 4.0, 4.5, received_at=datetime(2019, 4, 5, tzinfo=UTC))
        for row in (
            decision("SX-W", "annual", 2017, "warning", {"warnings": 0, "last_grade": "good"}, {"warnings": 1}),
            decision("SX-Z", "annual", 2017, "warning", {"warnings": 0, "last_grade": "good"}, {"warnings": 1}),
            decision("SX-W", "annual", 2018, "pass", {"warnings": 1, "last_grade": "warning"}, {"warnings": 0}),
            decision(
                "SX-X", "annual", 2018, "eliminated", {"warnings": 1, "last_grade": "warning"}, {"state": "eliminated"}
            ),
            decision(
                "SX-Z",
                "annual",
                2018,
                "demoted",
                {"warnings": 1, "last_grade": "warning"},
                {"tier": "provincial_cultivation"},
            ),
            decision(
                "SX-Y",
                "application",
                2019,
                "admitted",
                {"state": "applied", "listed_year": None, "tier": "provincial_cultivation"},
                {"state": "creating", "listed_year": 2019},
            ),
        ):
            s.add(row)
        s.commit()
    return engine


def test_2018_bulletin_computed_after_the_2018_decisions(decided):
    b = compute_bulletin(decided, "2018Q2", load_pack("sx2018"), issued_on=date(2019, 3, 1))
    towns = {t.code: t for t in b.towns}
    # the eliminated town was on its list all of 2018; the town admitted in 2019 was not yet
    assert sorted(towns) == ["SX-W", "SX-X", "SX-Z"]
    # the demoted town was a provincial creation town in 2018: its tier and its target (15) say so
    assert (towns["SX-Z"].tier, towns["SX-Z"].tier_zh, towns["SX-Z"].annual_target) == (
        "provincial_creation",
        "省级创建",
        15.0,
    )
    warnings = {w.code: w for w in b.early_warnings}
    # SX-W: 3.0 × 12/6 = 6 < 15 with the 2017 warning standing → a second warning: demoted
    assert warnings["SX-W"].warnings_before == 1
    assert warnings["SX-W"].projected_grade == "demoted"
    # SX-X: 5.0 × 12/6 = 10 < 15; eliminated later, but in 2018 a provincial town warned once
    assert warnings["SX-X"].warnings_before == 1 and warnings["SX-X"].tier == "provincial_creation"


def test_later_quarters_see_the_decisions(decided):
    b = compute_bulletin(decided, "2019Q1", load_pack("sx2018"), issued_on=date(2019, 4, 15))
    towns = {t.code: t for t in b.towns}
    assert sorted(towns) == ["SX-W", "SX-Y", "SX-Z"]  # eliminated gone, admitted in
    assert towns["SX-Z"].tier == "provincial_cultivation"
    assert all(w.warnings_before == 0 for w in b.early_warnings)


def test_a_town_eliminated_since_still_makes_its_year_publishable(engine):
    """The only town was eliminated by the 2018 annual round: 2018's quarters still had it on a
    list (and can be published); 2019's had no town at all."""
    with Session(engine) as s:
        add_town(
            s,
            code="SX-X",
            name="淘汰小镇",
            district="zhuji",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
            state="eliminated",
            warnings=1,
            last_grade="eliminated",
        )
        s.add(decision("SX-X", "annual", 2018, "eliminated", {"warnings": 1}, {"state": "eliminated"}))
        s.commit()
    check_publishable(engine, "2018Q4", date(2019, 1, 15))
    assert [t.code for t in compute_bulletin(engine, "2018Q4", issued_on=date(2019, 1, 15)).towns] == ["SX-X"]
    with pytest.raises(BulletinRefused, match="no town was on a creation list in 2019Q1"):
        check_publishable(engine, "2019Q1", date(2019, 4, 15))
