"""Annual assessment: each rule on both sides of its boundary, the score and its bands,
dynamic management, G5 in both modes, innovation ranks, and the city aggregates."""

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import town, what_if
from towns.models.report import Figures
from towns.models.round import AnnualContext, TownRecord
from towns.rules.annual import annual_city, annual_context, evaluate_annual_town, innovation_ranks
from towns.rules.library import load_pack
from towns.rules.pack import PackError

PACK = load_pack()
Y = 2018


def fig(fai, industry=None, nongov=None, tax=None, **kw):
    """December figures; shares default to full marks (industry 0.8, nongov 0.9 of fai)."""
    return Figures(
        fai=fai,
        industry_fai=fai * 0.8 if industry is None else industry,
        nongov_fai=fai * 0.9 if nongov is None else nongov,
        tax=tax,
        **kw,
    )


def rec(this=None, last=None, warnings=0, **profile):
    december = {}
    if this is not None:
        december[Y] = this
    if last is not None:
        december[Y - 1] = last
    return TownRecord(profile=town(**profile), warnings=warnings, december=december)


def ctx(growth=0.10, source="office", innovation=15.0, code="SX-T1"):
    return AnnualContext(city_tax_growth=growth, city_tax_growth_source=source, innovation_scores={code: innovation})


# tax 1.3 on 1.0 = +30 %, exactly the 10 % office average + 20 points: full tax marks
FULL_TAX = dict(tax=1.3)
LAST = Figures(fai=10, industry_fai=8, nongov_fai=9, tax=1.0)


def evaluate(record, context=None, pack=PACK):
    return evaluate_annual_town(record, Y, pack, context or ctx(code=record.profile.code))


def by_rule(proposal):
    return {f.rule: f for f in proposal.findings}


# ---------------------------------------------------------------- single rules


@pytest.mark.parametrize("fai,passed", [(15.0, True), (14.99, False), (15.01, True)])
def test_investment_boundary_provincial(fai, passed):
    f = by_rule(evaluate(rec(fig(fai, **FULL_TAX), LAST)))["annual-investment"]
    assert f.passed is passed and f.clause == "SX2018-G3" and f.threshold == 15.0


def test_investment_city_cites_s3_and_named_cites_g3():
    city = by_rule(evaluate(rec(fig(10, **FULL_TAX), LAST, tier="city", planned_investment=30)))["annual-investment"]
    assert city.clause == "SX2018-S3" and city.threshold == 10.0 and city.passed
    assert not by_rule(evaluate(rec(fig(9.99, **FULL_TAX), LAST, tier="city", planned_investment=30)))[
        "annual-investment"
    ].passed
    named = by_rule(evaluate(rec(fig(15, **FULL_TAX), LAST, tier="named")))["annual-investment"]
    assert named.clause == "SX2018-G3" and named.passed


@pytest.mark.parametrize("nongov,passed", [(16.0, True), (15.99, False)])
@pytest.mark.parametrize("tier", ["provincial_creation", "provincial_cultivation", "named"])
def test_nongov_share_boundary(tier, nongov, passed):
    f = by_rule(evaluate(rec(fig(20, nongov=nongov, **FULL_TAX), LAST, tier=tier)))["annual-nongov-share"]
    assert f.passed is passed and f.clause == "SX2018-G4"


def test_nongov_share_not_for_city_and_its_weight_goes_to_investment():
    p = evaluate(rec(fig(10, nongov=0, **FULL_TAX), LAST, tier="city", planned_investment=30))
    assert "annual-nongov-share" not in by_rule(p)
    assert p.inputs["weights"]["investment"] == 55 and p.inputs["weights"]["nongov_share"] == 0
    assert p.score == 100.0


@pytest.mark.parametrize("industry,passed", [(14.0, True), (13.99, False)])
@pytest.mark.parametrize("tier", ["provincial_creation", "provincial_cultivation", "city", "named"])
def test_industry_share_boundary_every_tier(tier, industry, passed):
    f = by_rule(evaluate(rec(fig(20, industry=industry, **FULL_TAX), LAST, tier=tier, planned_investment=30)))[
        "annual-industry-share"
    ]
    assert f.passed is passed and f.clause == "ZJ-GUIDE-IND70"


def test_missing_december_report_fails_and_warns():
    p = evaluate(rec(None, LAST))
    f = by_rule(p)
    assert not f["annual-december-report"].passed and f["annual-december-report"].clause == "SX2018-S3"
    assert not f["annual-investment"].passed and f["annual-investment"].value == 0.0
    assert not f["annual-nongov-share"].passed and not f["annual-tax-growth"].passed
    assert p.proposed_grade == "warning"


# ---------------------------------------------------------------- G5 tax growth


@pytest.mark.parametrize("tax,passed", [(1.3, True), (1.2999, False), (1.31, True)])
def test_tax_growth_points_mode_with_office_figure(tax, passed):
    f = by_rule(evaluate(rec(fig(20, tax=tax), LAST)))["annual-tax-growth"]  # required 0.10 + 0.20 = 0.30
    assert f.passed is passed and f.clause == "SX2018-G5" and f.threshold == 0.3
    assert "office" in f.reason_en and "百分点" in f.reason_zh


RELATIVE = what_if('[params.tax_growth_mode]\nclause = "SX2018-G5"\nvalues = { 2018-01-01 = "relative" }\n')


@pytest.mark.parametrize("tax,passed", [(1.12, True), (1.1199, False)])
def test_tax_growth_relative_mode_with_office_figure(tax, passed):
    f = by_rule(evaluate(rec(fig(20, tax=tax), LAST), pack=RELATIVE))["annual-tax-growth"]  # 0.10 × 1.2 = 0.12
    assert f.passed is passed and f.threshold == 0.12


def test_tax_growth_relative_mode_with_a_falling_average_stays_above_it():
    f = by_rule(evaluate(rec(fig(20, tax=0.92), LAST), ctx(growth=-0.10), pack=RELATIVE))["annual-tax-growth"]
    assert f.threshold == -0.08 and f.passed  # −10 % + 20 % of 10 % = −8 %
    assert not by_rule(evaluate(rec(fig(20, tax=0.9199), LAST), ctx(growth=-0.10), pack=RELATIVE))[
        "annual-tax-growth"
    ].passed


def test_pooled_city_growth_both_modes():
    # pooled: (1.5 + 1.1) ÷ (1.0 + 1.0) − 1 = 0.30; town C has no 2017 tax and is left out of the pool
    a = rec(fig(20, tax=1.5), LAST, code="SX-A")
    b = rec(fig(20, tax=1.1), LAST, code="SX-B")
    c = rec(fig(20, tax=9.0), None, code="SX-C")
    context = annual_context([a, b, c], Y, PACK, None)
    assert context.city_tax_growth_source == "pooled" and context.city_tax_growth == pytest.approx(0.30)
    fa = by_rule(evaluate_annual_town(a, Y, PACK, context))["annual-tax-growth"]
    assert fa.threshold == 0.5 and fa.value == 0.5 and fa.passed  # 0.30 + 0.20; A grew exactly 0.50: inclusive
    assert "pooled" in fa.reason_en
    fb = by_rule(evaluate_annual_town(b, Y, PACK, context))["annual-tax-growth"]
    assert fb.value == 0.1 and not fb.passed
    rel = annual_context([a, b, c], Y, RELATIVE, None)
    fr = by_rule(evaluate_annual_town(a, Y, RELATIVE, rel))["annual-tax-growth"]
    assert fr.threshold == 0.36 and fr.passed  # 0.30 × 1.2


def test_office_figure_wins_over_pooled():
    a = rec(fig(20, tax=1.5), LAST, code="SX-A")
    context = annual_context([a], Y, PACK, 0.05)
    assert context.city_tax_growth == 0.05 and context.city_tax_growth_source == "office"


def test_tax_growth_points_partial_and_missing():
    # growth 0.15 against required 0.30: half of 15 points
    p = evaluate(rec(fig(20, tax=1.15), LAST))
    assert p.inputs["points"]["tax_growth"] == 7.5 and p.score == 92.5
    # a town listed before Y without last year's tax: its own gap, 0 points, failed
    p = evaluate(rec(fig(20, tax=1.15), None))
    f = by_rule(p)["annual-tax-growth"]
    assert not f.passed and f.value is None and "2017" in f.reason_en
    assert p.score == 85.0 and not p.inputs["rescaled"]


def test_tax_growth_not_assessed_without_base_year_or_city_average():
    # listed in Y: no base year, not assessed, the other 85 points scaled to 100
    p = evaluate(rec(fig(20, tax=1.15), None, listed_year=2018))
    f = by_rule(p)["annual-tax-growth"]
    assert f.passed and f.threshold is None and "not assessed" in f.reason_en and "不考核" in f.reason_zh
    assert p.inputs["rescaled"] and p.score == 100.0
    # no city average at all
    p = evaluate(rec(fig(20, tax=1.15), LAST), ctx(growth=None, source="none"))
    f = by_rule(p)["annual-tax-growth"]
    assert f.passed and f.value == 0.15 and f.threshold is None and "no city average" in f.reason_en
    assert p.score == 100.0


def test_no_town_with_both_tax_figures_gives_source_none():
    context = annual_context([rec(fig(20, tax=1.0), None, code="SX-A")], Y, PACK, None)
    assert context.city_tax_growth is None and context.city_tax_growth_source == "none"


# ---------------------------------------------------------------- innovation


def test_innovation_ranks_with_a_tie():
    towns = [
        rec(fig(20, high_tech_enterprises=5, high_end_talents=3, new_enterprises=2), code="SX-A"),  # 10
        rec(fig(20, high_tech_enterprises=7), code="SX-B"),  # 7 (missing counts are 0)
        rec(fig(20, high_end_talents=4, new_enterprises=3), code="SX-C"),  # 7
        rec(fig(20, new_enterprises=3), code="SX-D"),  # 3
    ]
    assert innovation_ranks(towns, Y) == {"SX-A": (10, 1), "SX-B": (7, 2), "SX-C": (7, 2), "SX-D": (3, 4)}
    context = annual_context(towns, Y, PACK, 0.1)
    # 15 × (4 − rank) ÷ 3
    assert context.innovation_scores == {"SX-A": "15", "SX-B": "10", "SX-C": "10", "SX-D": "0"}
    f = by_rule(evaluate_annual_town(towns[2], Y, PACK, context))["annual-innovation"]
    assert f.passed and f.clause == "SX2018-T3" and f.value == 7
    assert f.inputs["rank"] == 2 and f.inputs["towns"] == 4 and f.inputs["points"] == 10.0
    assert "ranks 2 of 4" in f.reason_en and "第 2 名" in f.reason_zh


@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=60))
def test_innovation_rank_is_one_plus_the_towns_ahead(counts):
    """However many towns and ties: a town's rank is one plus the number of towns with a higher index
    (what the ranking says, computed here the slow way)."""
    towns = [rec(fig(20, high_tech_enterprises=c), code=f"SX-{i:03d}") for i, c in enumerate(counts)]
    ranks = innovation_ranks(towns, Y)
    for code, (index, rank) in ranks.items():
        assert rank == 1 + sum(1 for other, _ in ranks.values() if other > index), code


def test_single_town_gets_full_innovation_points():
    assert annual_context([rec(fig(20), code="SX-A")], Y, PACK, 0.1).innovation_scores == {"SX-A": "15"}


# ---------------------------------------------------------------- score and grade


@pytest.mark.parametrize(
    "innovation,score,grade",
    [
        (5.0, 90.0, "excellent"),
        (4.99, 89.99, "good"),
    ],
)
def test_band_excellent_good(innovation, score, grade):
    p = evaluate(rec(fig(20, **FULL_TAX), LAST), ctx(innovation=innovation))  # 85 + innovation
    assert p.score == score and p.proposed_grade == grade


@pytest.mark.parametrize(
    "innovation,score,grade",
    [
        (10.0, 80.0, "good"),
        (9.99, 79.99, "pass"),
    ],
)
def test_band_good_pass(innovation, score, grade):
    p = evaluate(rec(fig(20, tax=None), LAST), ctx(innovation=innovation))  # 70 (no tax figure) + innovation
    assert p.score == score and p.proposed_grade == grade


@pytest.mark.parametrize(
    "innovation,score,grade",
    [
        (5.0, 60.0, "pass"),
        (4.99, 59.99, "warning"),
    ],
)
def test_band_pass_warning(innovation, score, grade):
    # investment 40 + industry 15 + nongov 0 + tax 0 + innovation
    p = evaluate(rec(fig(20, nongov=0, tax=None), LAST), ctx(innovation=innovation))
    assert p.score == score and p.proposed_grade == grade
    g = by_rule(p)["annual-grade"]
    assert g.clause == "ZJ-ASSESS-GRADES" and g.passed is (grade == "pass")


def test_missing_the_investment_target_warns_whatever_the_score():
    p = evaluate(rec(fig(14.99, **FULL_TAX), LAST))
    assert p.score == 99.97  # 40 × 14.99/15 + 60
    assert p.proposed_grade == "warning"
    g = by_rule(p)["annual-grade"]
    assert not g.passed and "excellent" in g.reason_en and "whatever the score" in g.reason_en


# ---------------------------------------------------------------- dynamic management

MISSED = fig(14, **FULL_TAX)  # below the 15 target, good score otherwise


@pytest.mark.parametrize(
    "tier,first,second",
    [
        ("provincial_creation", "warning", "demoted"),
        ("provincial_cultivation", "warning", "eliminated"),
        ("named", "warning", "warning"),
    ],
)
def test_second_consecutive_warning(tier, first, second):
    assert evaluate(rec(MISSED, LAST, tier=tier, warnings=0)).proposed_grade == first
    p = evaluate(rec(MISSED, LAST, tier=tier, warnings=1))
    assert p.proposed_grade == second
    d = by_rule(p)["annual-dynamic-management"]
    assert not d.passed and d.value == 2
    if tier == "named":
        assert "not demoted automatically" in d.reason_en and p.effects.warnings == 2


def test_second_warning_city_is_eliminated():
    # 9 of 10: warned (not slow: ≥ 5), score 55 × 0.9 + 45 = 94.5
    def record(w):
        return rec(fig(9, **FULL_TAX), LAST, tier="city", planned_investment=30, warnings=w)

    assert evaluate(record(0)).proposed_grade == "warning"
    p = evaluate(record(1))
    assert p.proposed_grade == "eliminated" and by_rule(p)["annual-dynamic-management"].clause == "SX2018-S3"


def test_named_auto_demote_when_the_pack_says_so():
    pack = what_if('[[tiers]]\nid = "named"\non_warnings = "demoted"\n')
    p = evaluate(rec(MISSED, LAST, tier="named", warnings=1), pack=pack)
    assert p.proposed_grade == "demoted" and p.effects.tier == "provincial_creation"


def test_good_grade_after_a_warning_is_not_a_consequence():
    p = evaluate(rec(fig(20, **FULL_TAX), LAST, warnings=1))
    assert p.proposed_grade == "excellent" and p.effects.warnings == 0
    assert "annual-dynamic-management" not in by_rule(p)


CITY = dict(tier="city", planned_investment=30)  # target 10, slow below 5


def test_city_slow_and_poor_is_eliminated_at_once():
    # fai 4.99 < 5; score 55 × 0.499 + 15 + 0 + 0 = 42.445 < 60
    p = evaluate(rec(fig(4.99, tax=None), LAST, **CITY), ctx(innovation=0))
    assert p.score == 42.45 and p.proposed_grade == "eliminated" and p.effects.state == "eliminated"
    f = by_rule(p)["annual-slow-and-poor"]
    assert not f.passed and f.clause == "SX2018-S3" and f.threshold == 5.0


def test_city_not_slow_or_not_poor_is_only_warned():
    # not slow: fai exactly 5.0; score 27.5 + 15 = 42.5
    p = evaluate(rec(fig(5.0, tax=None), LAST, **CITY), ctx(innovation=0))
    assert p.proposed_grade == "warning" and by_rule(p)["annual-slow-and-poor"].passed
    # slow but not poor: 27.445 + 15 + 15 + 15 = 72.45
    p = evaluate(rec(fig(4.99, **FULL_TAX), LAST, **CITY))
    assert p.score == 72.45 and p.proposed_grade == "warning"


def test_city_scenic_is_informational():
    low = evaluate(rec(fig(20, scenic_level=2, **FULL_TAX), LAST, **CITY))
    high = evaluate(rec(fig(20, scenic_level=3, **FULL_TAX), LAST, **CITY))
    assert not by_rule(low)["annual-scenic"].passed and by_rule(high)["annual-scenic"].passed
    assert by_rule(low)["annual-scenic"].clause == "SX2018-G8"
    assert low.score == high.score and low.proposed_grade == high.proposed_grade == "excellent"
    assert "annual-scenic" not in by_rule(evaluate(rec(fig(20, scenic_level=2, **FULL_TAX), LAST)))


def test_proposal_carries_inputs_effects_and_clauses():
    p = evaluate(rec(fig(20, **FULL_TAX), LAST))
    json.dumps(p.inputs)
    assert p.inputs["december"]["fai"] == 20 and p.inputs["december_last_year_tax"] == 1.0
    assert p.inputs["annual_target"] == 15.0 and p.inputs["city_tax_growth"] == 0.1
    assert p.tier == "provincial_creation" and p.effects.state == "creating"
    for f in p.findings:
        assert f.clause and f.reason_zh and f.reason_en


# ---------------------------------------------------------------- city aggregates


def test_city_aggregates_hand_computed():
    towns = [
        rec(fig(100, industry=70, tax=1.3), LAST, code="SX-A", district="keqiao"),
        rec(fig(30.5, industry=20, tax=1.3), LAST, code="SX-B", district="keqiao", tier="city", planned_investment=30),
        rec(
            fig(80, industry=60, nongov=40, tax=1.3), LAST, code="SX-C", district="zhuji", tier="provincial_cultivation"
        ),
        rec(None, LAST, code="SX-D", district="shangyu"),  # no December report: warned
    ]
    context = annual_context(towns, Y, PACK, 0.10)
    proposals = [evaluate_annual_town(t, Y, PACK, context) for t in towns]
    assert [p.proposed_grade for p in proposals][3] == "warning"
    city = annual_city(towns, proposals, Y, PACK, named_this_year=0)
    v = city.values
    assert v["total_fai"] == 210.5  # 100 + 30.5 + 80
    assert v["total_industry_fai"] == 150.0  # 70 + 20 + 60
    assert v["districts"] == {
        "yuecheng": {"total": 0.0, "quota": 26.0},
        "keqiao": {"total": 130.5, "quota": 80.0},
        "shangyu": {"total": 0.0, "quota": 48.0},
        "zhuji": {"total": 80.0, "quota": 75.0},
        "shengzhou": {"total": 0.0, "quota": 30.0},
        "xinchang": {"total": 0.0, "quota": 35.0},
        "paojiang": {"total": 0.0, "quota": 6.0},
    }
    assert v["g6_risk"] == ["SX-D"]  # C passes: 40/80 nongov costs points, not the grade
    assert v["city_tax_growth"] == 0.1 and v["city_tax_growth_source"] == "office" and v["named_this_year"] == 0
    f = by_rule(city)
    assert not f["city-fai"].passed and f["city-fai"].clause == "SX2018-G1" and f["city-fai"].threshold == 300
    assert not f["city-industry-fai"].passed and f["city-industry-fai"].clause == "SX2018-G2"
    assert f["city-district-keqiao"].passed and f["city-district-zhuji"].passed
    assert not f["city-district-shangyu"].passed and not f["city-district-paojiang"].passed
    assert all(f[f"city-district-{d}"].clause == "SX2018-T4" for d in v["districts"])
    assert not f["city-g6-risk"].passed and "SX-D" in f["city-g6-risk"].reason_en
    assert f["city-g6-risk"].clause == "SX2018-G6"
    assert not f["city-named"].passed and f["city-named"].clause == "SX2018-G7"
    assert "SX-D" in v["missing_december"]


@pytest.mark.parametrize("fai,industry,passed", [(300.0, 180.0, True), (299.99, 179.99, False)])
def test_city_targets_boundary(fai, industry, passed):
    towns = [
        rec(fig(fai - 200, industry=industry - 150), LAST, code="SX-A", district="keqiao"),
        rec(fig(200, industry=150), LAST, code="SX-B", district="zhuji"),
    ]
    context = annual_context(towns, Y, PACK, 0.1)
    city = annual_city(towns, [evaluate_annual_town(t, Y, PACK, context) for t in towns], Y, PACK, 1)
    f = by_rule(city)
    assert f["city-fai"].passed is passed and f["city-industry-fai"].passed is passed
    assert f["city-named"].passed and f["city-g6-risk"].passed
    assert city.values["g6_risk"] == []


def test_g6_lists_demoted_and_warned_provincial_towns_only():
    towns = [
        rec(MISSED, LAST, code="SX-A", warnings=1),  # creation, second warning → demoted
        rec(MISSED, LAST, code="SX-B"),  # creation, warning
        rec(fig(4, tax=None), LAST, code="SX-C", **CITY),  # city eliminated: not a provincial town
        rec(MISSED, LAST, code="SX-E", tier="named"),  # named: not on a creation list
    ]
    context = annual_context(towns, Y, PACK, 0.1)
    proposals = [evaluate_annual_town(t, Y, PACK, context) for t in towns]
    assert [p.proposed_grade for p in proposals] == ["demoted", "warning", "eliminated", "warning"]
    assert annual_city(towns, proposals, Y, PACK, 1).values["g6_risk"] == ["SX-A", "SX-B"]


# ---------------------------------------------------------------- the pack sections


def test_pack_annual_parameters_are_cited_and_weights_sum_to_100():
    assert PACK.pack.version == "2018.3" and PACK.pack.layers == ["zj 2015.1", "sx2018 2018.3"]
    assert sum(w.value for w in PACK.weights().values()) == 100
    assert [b.min for b in PACK.bands] == [90, 80, 60, 0]
    assert PACK.annual_value("approval_overdue_days") == 14
    assert PACK.annual_value("weight:investment") == 40


def test_pack_refuses_weights_not_summing_to_100():
    with pytest.raises(PackError, match="sum to 101"):
        what_if(
            '[params.annual.weights.investment]\nclause = "SX2018-G3"\nvalues = { 2018-01-01 = 41 }\n',
            as_of=date(2018, 6, 30),
        )


def test_pack_refuses_bands_not_descending():
    bands = "".join(
        f'[[bands]]\ngrade = "{g}"\nmin = {m}\nclause = "ZJ-ASSESS-GRADES"\n'
        for g, m in (("excellent", 90), ("good", 95), ("pass", 60), ("warning", 0))
    )
    with pytest.raises(PackError, match="descending"):
        what_if(bands)


def test_pack_refuses_unknown_keys_and_clauses():
    with pytest.raises(PackError, match="unknown clause 'SX2018-S9'"):
        what_if('[params.annual.slow_fai_ratio]\nclause = "SX2018-S9"\nvalues = { 2018-01-01 = 0.5 }\n')
    with pytest.raises(PackError, match="Extra inputs"):
        what_if('[params.annual.slow_fai_ratio]\nclause = "SX2018-S3"\nsurprise = 1\nvalues = { 2018-01-01 = 0.5 }\n')


def test_a_city_level_target_does_not_fall_when_its_creation_is_extended():
    """30 亿元 planned over 3 years is 10 a year; a failed acceptance extends the period to 4
    years, but the annual target stays 10 (not 7.5)."""
    extended = TownRecord(
        profile=town(tier="city", planned_investment=30, creation_years=4),
        acceptance_failures=1,
        december={Y: fig(9.99, **FULL_TAX), Y - 1: LAST},
    )
    f = by_rule(evaluate(extended))["annual-investment"]
    assert f.threshold == 10.0 and not f.passed


def test_round_contexts_are_exact_fractions():
    """Eight towns: the second earns 15 × 6/7 points — kept as the fraction 90/7, so the town's
    rank and score come back exactly, whatever a float would round to."""
    towns = [rec(fig(20, high_tech_enterprises=10 - i), LAST, code=f"SX-{i}") for i in range(8)]
    context = annual_context(towns, Y, PACK, 0.1)
    assert context.innovation_scores["SX-1"] == "90/7" and context.city_tax_growth_exact == "1/10"
    f = by_rule(evaluate_annual_town(towns[1], Y, PACK, context))["annual-innovation"]
    assert f.inputs["rank"] == 2 and f.inputs["towns"] == 8
