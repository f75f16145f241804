"""Acceptance and naming: who is due, each criterion on both sides, named / not named /
second failure, and the city's naming count (SX2018-G7)."""

import pytest

from tests.factories import town
from towns.models.report import Figures
from towns.models.round import TownRecord
from towns.rules.acceptance import acceptance_city, due_for_acceptance, evaluate_acceptance_town
from towns.rules.library import load_pack

PACK = load_pack()
Y = 2018  # factory towns: listed 2016, 3 creation years → due in 2018


def year(fai, industry=None):
    return Figures(fai=fai, industry_fai=fai * 0.75 if industry is None else industry, nongov_fai=fai * 0.9)


def rec(fais=(20, 20, 20), scenic=3, annual_grade="good", failures=0, industries=None, **profile):
    december = {}
    for i, fai in enumerate(fais):
        if fai is not None:
            december[2016 + i] = year(fai, None if industries is None else industries[i])
    latest = Figures(fai=1, industry_fai=1, nongov_fai=1, scenic_level=scenic)
    return TownRecord(
        profile=town(**profile),
        december=december,
        latest=latest,
        annual_grade=annual_grade,
        acceptance_failures=failures,
    )


def by_rule(p):
    return {f.rule: f for f in p.findings}


def evaluate(record):
    return evaluate_acceptance_town(record, Y, PACK)


def test_due_when_creation_ends_this_year():
    assert due_for_acceptance(town(), 2018, PACK)
    assert not due_for_acceptance(town(), 2017, PACK)
    # never accepted: still due the year after (it does not drop out of acceptance for good)
    assert due_for_acceptance(town(), 2019, PACK)
    assert due_for_acceptance(town(creation_years=4), 2019, PACK)  # extended once
    assert not due_for_acceptance(town(state="named"), 2018, PACK)
    assert not due_for_acceptance(town(state="applied", listed_year=None), 2018, PACK)


def test_all_criteria_met_is_named():
    p = evaluate(rec())
    assert p.proposed_grade == "named" and p.score is None
    assert all(f.passed for f in p.findings)
    f = by_rule(p)
    assert f["acceptance-investment"].value == 60.0 and f["acceptance-investment"].clause == "ZJ-GUIDE-INV"
    assert f["acceptance-industry-share"].value == 0.75 and f["acceptance-industry-share"].clause == "ZJ-GUIDE-IND70"
    assert f["acceptance-scenic"].clause == "ZJ-GUIDE-SCENIC" and f["acceptance-no-warning"].clause == "ZJ-ACCEPT"
    assert p.effects.state == "named" and p.effects.tier == "named"


def test_city_level_town_named_stays_city_tier():
    p = evaluate(rec(tier="city"))
    assert p.proposed_grade == "named" and p.effects.tier == "city" and p.effects.state == "named"


@pytest.mark.parametrize("last,passed", [(10.0, True), (9.99, False)])
def test_cumulative_investment_boundary_50(last, passed):
    f = by_rule(evaluate(rec(fais=(20, 20, last))))["acceptance-investment"]
    assert f.passed is passed and f.threshold == 50


@pytest.mark.parametrize("last,passed", [(10.0, True), (9.99, False)])
def test_cumulative_investment_boundary_30_relaxed(last, passed):
    f = by_rule(evaluate(rec(fais=(10, 10, last), industry="finance")))["acceptance-investment"]
    assert f.passed is passed and f.threshold == 30


@pytest.mark.parametrize("industry,passed", [(14.0, True), (13.99, False)])
def test_cumulative_industry_share_boundary(industry, passed):
    # (14 + 14 + x) ÷ 60 ≥ 0.70 ⇔ x ≥ 14
    f = by_rule(evaluate(rec(industries=(14, 14, industry))))["acceptance-industry-share"]
    assert f.passed is passed


@pytest.mark.parametrize(
    "industry,scenic,passed",
    [
        ("fashion", 3, True),
        ("fashion", 2, False),
        ("tourism", 4, True),
        ("tourism", 3, False),
    ],
)
def test_scenic_level(industry, scenic, passed):
    f = by_rule(evaluate(rec(fais=(20, 20, 20), scenic=scenic, industry=industry)))["acceptance-scenic"]
    assert f.passed is passed and f.threshold == (4 if industry == "tourism" else 3)


def test_missing_scenic_level_fails():
    r = rec()
    r.latest = None
    assert not by_rule(evaluate(r))["acceptance-scenic"].passed


def test_missing_year_counts_zero_and_is_named():
    p = evaluate(rec(fais=(30, None, 25)))
    f = by_rule(p)
    assert not f["acceptance-december-report-2017"].passed and "2017" in f["acceptance-december-report-2017"].reason_en
    assert f["acceptance-investment"].value == 55.0 and f["acceptance-investment"].passed
    assert p.proposed_grade == "not_named"


@pytest.mark.parametrize(
    "grade,passed", [("warning", False), ("demoted", False), ("eliminated", False), ("pass", True), ("excellent", True)]
)
def test_no_warning_in_the_year(grade, passed):
    p = evaluate(rec(annual_grade=grade))
    assert by_rule(p)["acceptance-no-warning"].passed is passed
    assert p.proposed_grade == ("named" if passed else "not_named")


def test_undecided_annual_grade_is_pending_not_met_vacuously():
    p = evaluate(rec(annual_grade=None))
    f = by_rule(p)["acceptance-no-warning"]
    assert not f.passed and "pending" in f.reason_en and "尚未审定" in f.reason_zh
    assert p.proposed_grade == "not_named"


def test_first_failure_is_not_named_and_extends_creation():
    p = evaluate(rec(fais=(10, 10, 10)))
    assert p.proposed_grade == "not_named"
    assert p.effects.creation_years == 4 and p.effects.acceptance_failures == 1 and p.effects.state == "creating"
    assert by_rule(p)["acceptance-consequence"].clause == "ZJ-ACCEPT"


@pytest.mark.parametrize(
    "tier,grade", [("provincial_creation", "demoted"), ("provincial_cultivation", "eliminated"), ("city", "eliminated")]
)
def test_second_failure(tier, grade):
    p = evaluate(rec(fais=(10, 10, 10), failures=1, tier=tier, creation_years=4, listed_year=2015))
    assert p.proposed_grade == grade
    # the tier's ladder clause: the province's grading, or the city's own (SX2018-S3)
    assert by_rule(p)["acceptance-consequence"].clause == ("SX2018-S3" if tier == "city" else "ZJ-ASSESS-GRADES")
    assert p.inputs["years"] == [2015, 2016, 2017, 2018]


def test_acceptance_city_counts_provincial_naming_for_g7():
    named = evaluate(rec(code="SX-A"))
    city_named = evaluate(rec(code="SX-B", tier="city"))
    failed = evaluate(rec(code="SX-C", fais=(1, 1, 1)))
    c = acceptance_city([named, city_named, failed], Y, PACK)
    assert c.values["named"] == 2 and c.values["provincial_named"] == 1 and c.values["not_named"] == 1
    assert c.findings[0].passed and c.findings[0].clause == "SX2018-G7"
    c = acceptance_city([city_named, failed], Y, PACK)
    assert not c.findings[0].passed and c.values["provincial_named"] == 0
