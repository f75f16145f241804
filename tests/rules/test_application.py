"""Applications: admitted at the boundaries, rejected just past them, tourism exempt from
the planned-area limit, required figures, and the round's counts."""

import pytest

from tests.factories import town
from towns.models.round import TownRecord
from towns.rules.application import application_city, evaluate_application_town
from towns.rules.library import load_pack

PACK = load_pack()
Y = 2018
GOOD = dict(planned_area_km2=3.5, core_area_km2=1.2, planned_investment=50)


def applicant(applying_for="provincial_creation", **over):
    profile = dict(state="applied", listed_year=None, **GOOD)
    profile.update(over)
    return TownRecord(profile=town(**profile), applying_for=applying_for)


def evaluate(record):
    return evaluate_application_town(record, Y, PACK)


def by_rule(p):
    return {f.rule: f for f in p.findings}


def test_admitted_at_every_boundary():
    p = evaluate(applicant())
    assert p.proposed_grade == "admitted" and all(f.passed for f in p.findings) and p.score is None
    f = by_rule(p)
    assert f["application-industry"].clause == "ZJ-GUIDE-INDUSTRY" and f["application-industry"].passed
    assert f["application-planned-area"].clause == "ZJ-GUIDE-AREA" and f["application-planned-area"].threshold == 3.5
    assert f["application-core-area"].threshold == 1.2
    assert f["application-investment"].clause == "ZJ-GUIDE-INV" and f["application-investment"].threshold == 50
    e = p.effects
    assert (e.state, e.tier, e.listed_year, e.warnings, e.acceptance_failures) == (
        "creating",
        "provincial_creation",
        2018,
        0,
        0,
    )


@pytest.mark.parametrize(
    "over,rule",
    [
        (dict(planned_area_km2=3.51), "application-planned-area"),
        (dict(core_area_km2=1.21), "application-core-area"),
        (dict(planned_investment=49.99), "application-investment"),
    ],
)
def test_rejected_just_past_a_boundary(over, rule):
    p = evaluate(applicant(**over))
    assert p.proposed_grade == "rejected"
    assert [f.rule for f in p.findings if not f.passed] == [rule]
    assert p.effects.state == "rejected" and p.effects.tier == "provincial_creation"


def test_tourism_is_exempt_from_the_planned_area_limit_only():
    p = evaluate(applicant(industry="tourism", planned_area_km2=6.0, planned_investment=30))
    f = by_rule(p)["application-planned-area"]
    assert f.passed and f.value == 6.0 and "allowed for a tourism town" in f.reason_en
    assert p.proposed_grade == "admitted"
    assert (
        evaluate(
            applicant(industry="tourism", planned_area_km2=6.0, core_area_km2=1.3, planned_investment=30)
        ).proposed_grade
        == "rejected"
    )


@pytest.mark.parametrize("inv,grade", [(30, "admitted"), (29.99, "rejected")])
def test_relaxed_industries_need_30(inv, grade):
    assert evaluate(applicant(industry="information_economy", planned_investment=inv)).proposed_grade == grade


def test_missing_area_is_required():
    p = evaluate(applicant(planned_area_km2=None))
    f = by_rule(p)["application-planned-area"]
    assert not f.passed and "required" in f.reason_en and "须填报" in f.reason_zh
    assert p.proposed_grade == "rejected"
    assert not by_rule(evaluate(applicant(core_area_km2=None)))["application-core-area"].passed
    assert not by_rule(evaluate(applicant(planned_investment=None)))["application-investment"].passed


def test_existing_town_applying_higher_keeps_its_place_when_rejected():
    r = TownRecord(
        profile=town(tier="city", planned_area_km2=4.0, core_area_km2=1.0, planned_investment=60, listed_year=2015),
        applying_for="provincial_cultivation",
        warnings=1,
    )
    p = evaluate(r)
    assert p.proposed_grade == "rejected"
    assert (p.effects.state, p.effects.tier, p.effects.listed_year) == ("creating", "city", 2015)
    r.profile.planned_area_km2 = 3.0
    p = evaluate(r)
    assert p.proposed_grade == "admitted"
    assert (p.effects.tier, p.effects.listed_year, p.effects.warnings) == ("provincial_cultivation", 2018, 0)


def test_applying_for_the_list_it_is_on_or_for_naming_is_refused():
    same = TownRecord(profile=town(**GOOD), applying_for="provincial_creation")
    assert not by_rule(evaluate(same))["application-tier"].passed
    assert evaluate(applicant(applying_for="named")).proposed_grade == "rejected"


def test_application_city_counts():
    ps = [
        evaluate(applicant(code="SX-A")),
        evaluate(applicant(code="SX-B", planned_area_km2=4)),
        evaluate(applicant(code="SX-C", applying_for="city")),
    ]
    v = application_city(ps, Y, PACK).values
    assert v["admitted"] == 2 and v["rejected"] == 1 and v["applications"] == 3
    assert v["admitted_codes"] == ["SX-A", "SX-C"] and v["rejected_codes"] == ["SX-B"]
    assert v["admitted_by_tier"] == {"provincial_creation": 1, "city": 1}
