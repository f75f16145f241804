"""Checks of a report against its town and earlier reports (shared by importer and workflow)."""

import pytest
from pydantic import ValidationError

from tests.factories import report, town
from towns.models.report import ReportedPeriod
from towns.rules.report_checks import check_report


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
    (p,) = problems(report(period="2015-12"), t=town(listed_year=2016))
    assert "before the town was listed in 2016" in p.en


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
