"""What every final grade does to its town."""

import pytest

from tests.factories import town
from towns.models.round import TownRecord
from towns.rules.effects import effects
from towns.rules.library import load_pack

PACK = load_pack()
Y = 2018


def rec(warnings=1, failures=0, applying_for=None, **profile):
    return TownRecord(
        profile=town(**profile), warnings=warnings, acceptance_failures=failures, applying_for=applying_for
    )


def full(e):
    return (e.state, e.tier, e.warnings, e.listed_year, e.creation_years, e.acceptance_failures)


@pytest.mark.parametrize("grade", ["excellent", "good", "pass"])
def test_good_grades_reset_warnings(grade):
    assert full(effects(rec(warnings=1), grade, Y, PACK)) == ("creating", "provincial_creation", 0, 2016, 3, 0)


def test_warning_counts_up_and_changes_nothing_else():
    assert full(effects(rec(warnings=1), "warning", Y, PACK)) == ("creating", "provincial_creation", 2, 2016, 3, 0)
    assert full(effects(rec(warnings=0, tier="named", state="named"), "warning", Y, PACK)) == (
        "named",
        "named",
        1,
        2016,
        3,
        0,
    )


def test_demoted_moves_to_cultivation_and_resets_warnings():
    assert full(effects(rec(warnings=1), "demoted", Y, PACK)) == ("creating", "provincial_cultivation", 0, 2016, 3, 0)
    # a named town demoted (override or named_auto_demote) is back in provincial creation
    assert full(effects(rec(tier="named", state="named"), "demoted", Y, PACK)) == (
        "creating",
        "provincial_creation",
        0,
        2016,
        3,
        0,
    )
    # no list below cultivation: tier unchanged
    assert effects(rec(tier="provincial_cultivation"), "demoted", Y, PACK).tier == "provincial_cultivation"


@pytest.mark.parametrize("tier", ["provincial_creation", "provincial_cultivation", "city"])
def test_eliminated(tier):
    e = effects(rec(tier=tier), "eliminated", Y, PACK)
    assert e.state == "eliminated" and e.tier == tier and e.warnings == 1


@pytest.mark.parametrize(
    "tier,named_tier", [("provincial_creation", "named"), ("provincial_cultivation", "named"), ("city", "city")]
)
def test_named(tier, named_tier):
    e = effects(rec(tier=tier, warnings=0), "named", Y, PACK)
    assert full(e) == ("named", named_tier, 0, 2016, 3, 0)


def test_not_named_extends_creation_and_counts_the_failure():
    assert full(effects(rec(warnings=0), "not_named", Y, PACK)) == ("creating", "provincial_creation", 0, 2016, 4, 1)


def test_admitted_starts_creation_this_year():
    r = rec(warnings=2, failures=1, applying_for="provincial_creation", state="applied", listed_year=None)
    assert full(effects(r, "admitted", Y, PACK)) == ("creating", "provincial_creation", 0, 2018, 3, 0)
    r = rec(warnings=1, applying_for="provincial_cultivation", tier="city", listed_year=2015)
    assert full(effects(r, "admitted", Y, PACK)) == ("creating", "provincial_cultivation", 0, 2018, 3, 0)


def test_admitted_without_a_tier_applied_for_is_an_error():
    with pytest.raises(ValueError, match="applied for no tier"):
        effects(rec(), "admitted", Y, PACK)


def test_rejected():
    applied = rec(warnings=0, applying_for="provincial_creation", state="applied", listed_year=None)
    assert full(effects(applied, "rejected", Y, PACK)) == ("rejected", "provincial_creation", 0, None, 3, 0)
    existing = rec(applying_for="provincial_creation", tier="city", listed_year=2015)
    assert full(effects(existing, "rejected", Y, PACK)) == ("creating", "city", 1, 2015, 3, 0)


def test_unknown_grade_is_refused():
    with pytest.raises(ValueError):
        effects(rec(), "splendid", Y, PACK)


def test_chinese_grade_names_are_understood():
    assert effects(rec(), "警告", Y, PACK).warnings == 2
