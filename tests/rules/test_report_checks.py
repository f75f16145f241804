"""Checks of a report against its town and earlier reports (shared by importer and workflow)."""

import pytest
from pydantic import ValidationError

from tests.factories import report, town
from towns.models.report import ReportedPeriod
from towns.rules.report_checks import check_report, is_base_period


def problems(sub, reported=None, t=None, now="2026-11"):
    return check_report(sub, t or town(), reported or {}, now, 300, 100)


def seen(period, **fig):
    base = dict(period=period, revision=1, fai=5.0, industry_fai=4.0, nongov_fai=4.5, tax=0.5)
    return {period: ReportedPeriod(**{**base, **fig})}


def test_clean_report_has_no_problems():
    assert problems(report()) == []


def test_future_period():
    (p,) = problems(report(period="2027-01"))
    assert p.field == "period" and "future" in p.en and "2026-11" in p.en


def test_before_listing():
    (p,) = problems(report(period="2015-11"), t=town(listed_year=2016))
    assert p.field == "period" and "before the town was listed in 2016" in p.en
    assert "only 2015-12 may be reported" in p.en and "base year" in p.en
    assert "2015-12" in p.zh and "基数" in p.zh


def test_base_december_before_the_listed_year_is_accepted():
    """December of listed_year − 1 is the base of the first year's tax growth (SX2018-G5)."""
    assert problems(report(period="2015-12"), t=town(listed_year=2016)) == []


@pytest.mark.parametrize("period", ["2015-11", "2015-01", "2014-12", "2014-06"])
def test_other_months_before_the_listed_year_are_refused(period):
    (p,) = problems(report(period=period), t=town(listed_year=2016))
    assert p.field == "period" and "before the town was listed in 2016" in p.en


def test_a_town_not_yet_listed_has_no_base_period_and_no_listing_limit():
    """A town with no listed year (applied for): no period is refused for being before listing."""
    t = town(listed_year=None, state="applied")
    assert t.listed_year is None
    for period in ("2014-12", "2015-11", "2015-12", "2018-06"):
        assert problems(report(period=period), t=t) == [], period


def test_base_december_has_no_same_year_neighbours():
    """Its year-to-date figures are not compared with the listed year's months: a base December
    larger than the January after it, or than the listed year's December, is fine."""
    t = town(listed_year=2016)
    reported = {**seen("2016-01", fai=0.5, industry_fai=0.4, nongov_fai=0.4, tax=0.1), **seen("2016-12")}
    assert problems(report(period="2015-12", fai=10.0, tax=1.0), reported, t=t) == []
    # and the listed year's January is not compared with the base December either
    base = seen("2015-12", fai=20.0, industry_fai=18.0, nongov_fai=18.0, tax=2.0)
    assert problems(report(period="2016-01", fai=1.0, industry_fai=0.8, nongov_fai=0.9, tax=0.1), base, t=t) == []


def test_base_december_is_still_a_report_like_any_other():
    """Duplicates, corrections and the unit check apply to the base December as to any month."""
    t = town(listed_year=2016)
    (p,) = problems(report(period="2015-12"), seen("2015-12"), t=t)
    assert "already reported (revision 1)" in p.en
    assert problems(report(period="2015-12", correction=True), seen("2015-12"), t=t) == []
    (p,) = problems(report(period="2015-12", fai=35000, industry_fai=30000, nongov_fai=30000), t=t)
    assert p.field == "fai"


def test_is_base_period():
    assert is_base_period("2015-12", 2016)
    for period in ("2015-11", "2016-12", "2014-12", "2016-01"):
        assert not is_base_period(period, 2016), period
    assert not is_base_period("2015-12", None)


def test_duplicate_without_correction_and_with_it():
    (p,) = problems(report(period="2018-06"), seen("2018-06"))
    assert "already reported (revision 1)" in p.en and "correction" in p.en
    assert problems(report(period="2018-06", correction=True), seen("2018-06")) == []


def test_year_to_date_cannot_fall_within_a_year():
    ps = problems(report(period="2018-06", fai=4.0, industry_fai=3.5, nongov_fai=3.9), seen("2018-05"))
    assert {p.field for p in ps} == {"fai", "industry_fai", "nongov_fai"}
    assert "below 5.0 reported for 2018-05" in ps[0].en


def test_late_report_above_a_later_month_is_caught_too():
    ps = problems(report(period="2018-04", fai=6.0, industry_fai=3.0, nongov_fai=3.0, tax=0.4), seen("2018-05"))
    assert [p.field for p in ps] == ["fai"] and "above 5.0 already reported for the later month 2018-05" in ps[0].en


def test_new_year_restarts_the_year_to_date():
    assert problems(report(period="2019-01", fai=1.0, industry_fai=0.8, nongov_fai=0.9), seen("2018-12")) == []


def test_implausible_figure_hints_at_the_unit():
    (p,) = problems(report(fai=35000, industry_fai=30000, nongov_fai=30000))
    assert p.field == "fai" and "万元" in p.en


@pytest.mark.parametrize(
    "over,field",
    [
        (dict(fai=-1), "fai"),
        (dict(fai="abc"), "fai"),
        (dict(nongov_fai=11), None),
        (dict(period="2018-13"), "period"),
        (dict(scenic_level=7), "scenic_level"),
        (dict(correction="maybe"), "correction"),
    ],
)
def test_row_level_problems(over, field):
    with pytest.raises(ValidationError) as exc:
        report(**over)
    err = exc.value.errors()[0]
    if field:
        assert err["loc"] == (field,)
    else:
        assert "11.0 is above fai 10.0" in err["msg"] and err["ctx"]["field"] == "nongov_fai"
        assert "11.0 大于固定资产投资 10.0" in err["ctx"]["zh"]
