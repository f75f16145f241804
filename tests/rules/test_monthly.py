"""Each monthly rule on both sides of its boundary, and only where it applies."""

import pytest

from tests.factories import town
from towns.models.report import Figures
from towns.rules.library import load_pack
from towns.rules.monthly import annual_target, evaluate_monthly

PACK = load_pack()


def findings(t, fai, industry, nongov, period="2018-06"):
    ev = evaluate_monthly(t, period, 1, Figures(fai=fai, industry_fai=industry, nongov_fai=nongov), PACK)
    return {f.rule: f for f in ev.findings}


# pace: fai ≥ target × month/12 × 0.8 — June, provincial target 15 → 6.0 亿元
@pytest.mark.parametrize("fai,passed", [(6.0, True), (5.99, False), (6.01, True)])
def test_pace_provincial_boundary(fai, passed):
    f = findings(town(), fai, fai * 0.9, fai * 0.9)["pace-provincial"]
    assert f.passed is passed
    assert f.clause == "SX2018-G3"
    assert f.threshold == 6.0
    assert ("达到" if passed else "低于") in f.reason_zh


@pytest.mark.parametrize("industry", ["information_economy", "tourism", "finance", "historical_classic"])
def test_pace_relaxed_industries_use_10(industry):
    t = town(industry=industry)
    assert float(annual_target(t, PACK).value) == 10
    assert findings(t, 4.0, 3.6, 3.6)["pace-provincial"].passed  # 10 × 6/12 × 0.8 = 4.0
    assert not findings(t, 3.99, 3.5, 3.5)["pace-provincial"].passed


def test_pace_own_target_wins():
    t = town(annual_fai_target=30)
    assert not findings(t, 11.99, 10, 10)["pace-provincial"].passed  # 30 × 0.5 × 0.8 = 12
    assert findings(t, 12.0, 10, 10)["pace-provincial"].passed


def test_pace_city_level_cites_s3_and_uses_planned_investment():
    t = town(tier="city", planned_investment=36, creation_years=3)  # 12 a year → March: 12 × 3/12 × 0.8 = 2.4
    f = findings(t, 2.4, 2.0, 1.0, period="2018-03")
    assert f["pace-city"].passed and f["pace-city"].clause == "SX2018-S3"
    assert "pace-provincial" not in f
    assert not findings(t, 2.39, 2.0, 1.0, period="2018-03")["pace-city"].passed


def test_named_town_is_held_to_the_pace_as_to_its_annual_target():
    """A named town is assessed every year against the provincial target (SX2018-G3): the monthly
    pace rule takes it too, as the annual investment warning does."""
    f = findings(town(tier="named"), 1.0, 0.9, 0.9)
    assert set(f) == {"pace-provincial", "nongov-share", "industry-share"}


@pytest.mark.parametrize("nongov,passed", [(8.0, True), (7.99, False), (10.0, True)])
def test_nongov_share_boundary_is_inclusive(nongov, passed):
    f = findings(town(), 10.0, 9.0, nongov)["nongov-share"]
    assert f.passed is passed and f.clause == "SX2018-G4"


def test_nongov_share_not_for_city_level():
    f = findings(town(tier="city", planned_investment=36), 10.0, 9.0, 1.0)
    assert "nongov-share" not in f


@pytest.mark.parametrize("tier", ["provincial_creation", "provincial_cultivation", "named"])
def test_nongov_share_for_provincial_and_named(tier):
    assert not findings(town(tier=tier), 10.0, 9.0, 5.0)["nongov-share"].passed


@pytest.mark.parametrize("industry_fai,passed", [(7.0, True), (6.99, False)])
@pytest.mark.parametrize("tier", ["provincial_creation", "city", "named"])
def test_industry_share_boundary_every_tier(tier, industry_fai, passed):
    f = findings(town(tier=tier, planned_investment=36), 10.0, industry_fai, 9.0)["industry-share"]
    assert f.passed is passed and f.clause == "ZJ-GUIDE-IND70"


def test_exact_decimal_boundary_not_float_noise():
    # 2.1 / 3.0 is 0.7000000000000001 in floats and 0.7 exactly here; 0.7 × 3 must pass too
    assert findings(town(), 3.0, 2.1, 2.4)["industry-share"].passed


def test_zero_investment_gives_no_share_findings_but_says_why():
    ev = evaluate_monthly(town(), "2018-01", 1, Figures(fai=0, industry_fai=0, nongov_fai=0), PACK)
    assert {f.rule for f in ev.findings} == {"pace-provincial"}
    assert any(m.name == "nongov-share" and "undefined" in m.note for m in ev.measures)


def test_finding_carries_inputs_threshold_and_both_languages():
    f = findings(town(), 5.0, 4.0, 4.5)["pace-provincial"]
    assert f.inputs["fai"] == 5.0 and f.inputs["annual_target"] == 15.0 and f.inputs["pace_factor"] == 0.8
    assert f.value == 5.0 and f.threshold == 6.0
    assert "is below" in f.reason_en and "低于" in f.reason_zh


def test_tax_growth_against_same_period_last_year():
    ev = evaluate_monthly(
        town(), "2018-06", 1, Figures(fai=10, industry_fai=8, nongov_fai=9, tax=1.2), PACK, tax_last_year=1.0
    )
    growth = next(m for m in ev.measures if m.name == "tax_growth")
    assert growth.value == pytest.approx(0.2) and growth.clause == "SX2018-G5"
    ev = evaluate_monthly(town(), "2018-06", 1, Figures(fai=10, industry_fai=8, nongov_fai=9, tax=1.2), PACK)
    assert next(m for m in ev.measures if m.name == "tax_growth").value is None


def test_evaluation_names_the_pack():
    ev = evaluate_monthly(town(), "2018-06", 1, Figures(fai=10, industry_fai=8, nongov_fai=9), PACK)
    assert ev.pack.id == "sx2018" and ev.pack.version == PACK.pack.version and len(ev.pack.hash) == 64


def test_a_base_period_is_kept_for_its_tax_and_judged_by_no_rule():
    """December before the listing year is the new town's tax base (SX2018-G5): no findings."""
    ev = evaluate_monthly(
        town(listed_year=2018), "2017-12", 1, Figures(fai=0.5, industry_fai=0.1, nongov_fai=0.1, tax=1.0), load_pack()
    )
    assert ev.findings == [] and ev.measures[0].name == "tax_growth"
    assert evaluate_monthly(
        town(listed_year=2018), "2018-01", 1, Figures(fai=0.5, industry_fai=0.1, nongov_fai=0.1), load_pack()
    ).findings
