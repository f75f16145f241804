"""The quarterly bulletin against a hand-computed city (tests/bulletin/conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from sqlmodel import Session

from towns.bulletin import compute_bulletin, parse_quarter
from towns.bulletin.compute import project
from towns.models.report import Figures
from towns.rules.library import load_pack

from .conftest import add_report, add_town


@pytest.fixture
def bulletin(city):
    return compute_bulletin(city, "2018Q2", "sx2018", issued_on=date(2018, 7, 15))


def test_parse_quarter():
    assert parse_quarter("2018Q2") == (2018, 2)
    assert parse_quarter(" 2019-q4 ") == (2019, 4)
    for bad in ("2018Q5", "2018Q0", "2018-06", "Q2 2018", ""):
        with pytest.raises(ValueError, match="YYYYQn"):
            parse_quarter(bad)


def test_header(bulletin):
    d = bulletin.model_dump(mode="json")
    assert d["quarter"] == "2018Q2" and d["year"] == 2018 and d["quarter_no"] == 2
    assert d["period"] == "2018-06"
    assert d["elapsed_share"] == 0.5 and d["pace_factor"] == 0.8
    # judged under the programme as in force on the quarter's last day, and it says which
    in_force = load_pack("sx2018", date(2018, 6, 30))
    assert d["pack"]["hash"] == in_force.hash != load_pack("sx2018", date(2017, 6, 30)).hash
    assert d["pack"]["id"] == "sx2018" and d["pack"]["version"] == "2018.3"
    assert d["synthetic_note"] is None
    assert d["title_zh"] == "绍兴市特色小镇 2018年第二季度通报"


def test_towns_ranks_completion_and_schedule(bulletin):
    towns = bulletin.model_dump(mode="json")["towns"]
    got = [(t["code"], t["rank"], t["tier_rank"], t["completion"], t["behind_schedule"]) for t in towns]
    assert got == [
        ("SX-C", 1, 1, 0.6, False),
        ("SX-E", 1, 1, 0.6, False),  # a tie shares the better rank
        ("SX-B", 3, 1, 0.4, False),  # exactly on the pace line 0.5 × 0.8: not behind
        ("SX-A", 4, 2, 0.32, True),  # the correction (revision 2, 4.8) wins over revision 1 (3.0)
        ("SX-D", 5, 1, 0.0, True),  # no June report: kept, null figures, behind
    ]
    by = {t["code"]: t for t in towns}
    assert by["SX-A"]["fai"] == 4.8 and by["SX-A"]["industry_fai"] == 4.0 and by["SX-A"]["revision"] == 2
    assert by["SX-A"]["annual_target"] == 15.0 and by["SX-B"]["annual_target"] == 10.0
    assert by["SX-D"]["annual_target"] == 10.0 and by["SX-E"]["annual_target"] == 10.0
    assert by["SX-D"]["fai"] is None and by["SX-D"]["industry_fai"] is None and by["SX-D"]["reported"] is False
    assert by["SX-A"]["district"] == "keqiao" and by["SX-A"]["district_zh"] == "柯桥区"
    assert by["SX-C"]["tier"] == "provincial_cultivation" and by["SX-C"]["tier_zh"] == "省级培育"
    assert "SX-F" not in by and "SX-G" not in by  # applied only / eliminated


def test_town_findings_latest_revision_and_quarter_only(bulletin):
    by = {t.code: [(f.period, f.rule, f.reason_en) for f in t.findings] for t in bulletin.towns}
    assert by["SX-A"] == [("2018-06", "pace-provincial", "A behind pace")]
    assert by["SX-B"] == [
        ("2018-04", "report-overdue", "B April overdue"),
        ("2018-06", "nongov-share", "B nongov below 80%"),
    ]
    assert by["SX-C"] == []
    assert by["SX-D"] == [("2018-06", "report-overdue", "D June overdue")]
    assert by["SX-E"] == [("2018-05", "report-late", "E May late"), ("2018-05", "report-overdue", "E May overdue")]
    f = bulletin.towns[3].findings[0]
    assert (f.clause, f.reason_zh) == ("SX2018-G3", "A behind pace（中文）")


def test_districts(bulletin):
    d = {x["district"]: x for x in bulletin.model_dump(mode="json")["districts"]}
    assert list(d) == ["yuecheng", "keqiao", "shangyu", "zhuji", "shengzhou", "xinchang", "paojiang"]
    assert (d["keqiao"]["total"], d["keqiao"]["quota"], d["keqiao"]["completion"]) == (8.8, 80.0, 0.11)
    assert (d["zhuji"]["total"], d["zhuji"]["quota"], d["zhuji"]["completion"]) == (9.0, 75.0, 0.12)
    assert (d["shangyu"]["total"], d["shangyu"]["quota"], d["shangyu"]["completion"]) == (6.0, 48.0, 0.125)
    assert (d["yuecheng"]["total"], d["yuecheng"]["quota"], d["yuecheng"]["completion"]) == (0.0, 26.0, 0.0)
    assert d["paojiang"]["towns"] == [] and d["paojiang"]["quota"] == 6.0
    assert d["keqiao"]["towns"] == ["SX-A", "SX-B"] and d["zhuji"]["towns"] == ["SX-C", "SX-D"]
    assert d["zhuji"]["district_zh"] == "诸暨市" and all(x["elapsed_share"] == 0.5 for x in d.values())


def test_city(bulletin):
    c = bulletin.model_dump(mode="json")["city"]
    assert c["total_fai"] == 23.8 and c["fai_target"] == 300.0 and c["fai_completion"] == 0.0793
    assert c["total_industry_fai"] == 19.4 and c["industry_fai_target"] == 180.0
    assert c["industry_fai_completion"] == 0.1078
    # (4.0 + 3.0 + 8.1 + 5.4) ÷ (4.8 + 4.0 + 9.0 + 6.0) = 20.5 ÷ 23.8 over creation, cultivation and named towns
    assert c["provincial_nongov_share"] == 0.8613 and c["nongov_share_min"] == 0.8
    assert c["monthly_cumulative"] == [
        {"period": "2018-01", "total_fai": 0.0, "towns_reported": 0},
        {"period": "2018-02", "total_fai": 0.0, "towns_reported": 0},
        {"period": "2018-03", "total_fai": 0.0, "towns_reported": 0},
        {"period": "2018-04", "total_fai": 7.0, "towns_reported": 2},
        {"period": "2018-05", "total_fai": 21.5, "towns_reported": 5},
        {"period": "2018-06", "total_fai": 23.8, "towns_reported": 4},
    ]
    assert bulletin.clauses["fai_target"] == "SX2018-G1" and bulletin.clauses["industry_fai_target"] == "SX2018-G2"
    assert bulletin.clauses["nongov_share_min"] == "SX2018-G4" and bulletin.clauses["district_quotas"] == "SX2018-T4"


def test_early_warnings(bulletin):
    w = bulletin.model_dump(mode="json")["early_warnings"]
    # SX-A: 4.8 × 12/6 = 9.6 < 15 and one warning already → demoted; SX-B: 8.0 < 10, no warning → warning;
    # SX-C: 18 ≥ 15, on pace → not listed; SX-D (city) and SX-E (named) are not on a provincial creation list
    assert [(x["code"], x["projected_grade"], x["projected_fai"], x["annual_target"]) for x in w] == [
        ("SX-A", "demoted", 9.6, 15.0),
        ("SX-B", "warning", 8.0, 10.0),
    ]
    a, b = w
    assert a["tier"] == "provincial_creation" and a["name"] == "柯桥甲小镇" and a["warnings_before"] == 1
    assert a["projected_grade_zh"] == "降格" and b["projected_grade_zh"] == "警告"
    assert a["fai"] == 4.8 and b["fai"] == 4.0
    rules_a = [r["rule"] for r in a["reasons"]]
    assert "annual-investment" in rules_a and "annual-dynamic-management" in rules_a
    inv = next(r for r in a["reasons"] if r["rule"] == "annual-investment")
    assert inv["clause"] == "SX2018-G3" and "9.6" in inv["reason_en"] and "15" in inv["reason_en"]
    assert inv["reason_zh"]
    dm = next(r for r in a["reasons"] if r["rule"] == "annual-dynamic-management")
    assert dm["clause"] == "ZJ-ASSESS-GRADES"  # a demotion cites the grading clause (the pack's tier ladder), not G6
    # 40 × 9.6/15 + 15 + 15 + 0 (tax 2.0 on 2.0 vs pooled 20 % + 20 points) + 15 = 70.6
    assert a["projected_score"] == 70.6
    # 40 × 0.8 + 15 + 15 × 0.75/0.8 + 0 (no 2017 tax base) + 15 = 76.0625
    assert b["projected_score"] == 76.06


def test_missing_reports(bulletin):
    """2018Q2 judges the reports for its own months: April, May and June (due by 10 July, the bulletin's
    as-of). Every town was registered on 2 January 2018 and owes them (from December 2017 on,
    models.period.reporting_from). The workflow's findings are not needed: the reports received say it."""
    m = bulletin.model_dump(mode="json")["missing_reports"]

    def never(code, name, period, due):
        return dict(code=code, name=name, period=period, due=due, status="open", status_zh="未报", received_at=None) | {
            "clause": "SX2018-S3"
        }

    names = {
        "SX-A": "柯桥甲小镇",
        "SX-B": "柯桥乙小镇",
        "SX-C": "诸暨丙小镇",
        "SX-D": "诸暨丁小镇",
        "SX-E": "上虞戊小镇",
    }
    assert m == [
        # April: A, D and E never reported it; B reported it five days late
        never("SX-A", names["SX-A"], "2018-04", "2018-05-10"),
        {
            "code": "SX-B",
            "name": "柯桥乙小镇",
            "period": "2018-04",
            "due": "2018-05-10",
            "status": "late",
            "status_zh": "迟报",
            "received_at": "2018-05-15T09:30:00+00:00",
            "clause": "SX2018-S3",
        },
        never("SX-D", names["SX-D"], "2018-04", "2018-05-10"),
        never("SX-E", names["SX-E"], "2018-04", "2018-05-10"),
        # May: E reported it on 14 June, late
        {
            "code": "SX-E",
            "name": "上虞戊小镇",
            "period": "2018-05",
            "due": "2018-06-10",
            "status": "late",
            "status_zh": "迟报",
            "received_at": "2018-06-14T08:00:00+00:00",
            "clause": "SX2018-S3",
        },
        # June (due 10 July): everybody but D reported it by 28 June; nobody missed March in this quarter
        never("SX-D", names["SX-D"], "2018-06", "2018-07-10"),
    ]


def test_first_quarter(city):
    b = compute_bulletin(
        city, "2018Q1", "sx2018", issued_on=date(2018, 4, 15), synthetic_note="合成数据 synthetic data"
    )
    assert b.period == "2018-03" and b.elapsed_share == 0.25 and b.synthetic_note == "合成数据 synthetic data"
    # nobody reported March: every town kept, completion 0, all share rank 1, all behind
    assert [(t.code, t.rank, t.completion, t.behind_schedule, t.fai) for t in b.towns] == [
        (c, 1, 0.0, True, None) for c in ("SX-A", "SX-B", "SX-C", "SX-D", "SX-E")
    ]
    # read up to the end of 10 April, March's due date; the quarter's reports (January to March): nobody
    # sent any (December 2017's belongs to 2017Q4)
    assert b.as_of == date(2018, 4, 10)
    assert [(m.code, m.period, m.status) for m in b.missing_reports] == [
        *((c, p, "open") for p in ("2018-01", "2018-02", "2018-03") for c in ("SX-A", "SX-B", "SX-C", "SX-D", "SX-E")),
    ]
    assert [x.period for x in b.city.monthly_cumulative] == ["2018-01", "2018-02", "2018-03"]
    assert b.city.total_fai == 0.0 and b.city.provincial_nongov_share is None


def test_provincial_town_without_report_is_warned(engine):
    """A provincial cultivation town with one warning and no report: projected as a year without
    figures, graded a warning → eliminated; still in the town list."""
    with Session(engine) as s:
        add_town(
            s,
            code="SX-H",
            name="嵊州己小镇",
            district="shengzhou",
            tier="provincial_cultivation",
            industry="fashion",
            listed_year=2017,
            planned_investment=50,
            warnings=1,
        )
        add_town(
            s,
            code="SX-I",
            name="新昌庚小镇",
            district="xinchang",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2017,
            planned_investment=50,
        )
        add_report(s, "SX-I", "2018-09", 1, 12.0, 10.0, 11.0, received_at=datetime(2018, 9, 29, tzinfo=UTC))
        s.commit()
    b = compute_bulletin(engine, "2018Q3", load_pack(), issued_on=date(2018, 10, 15))
    assert b.elapsed_share == 0.75
    assert [(t.code, t.rank, t.completion, t.behind_schedule) for t in b.towns] == [
        ("SX-I", 1, 0.8, False),
        ("SX-H", 2, 0.0, True),
    ]
    assert [(w.code, w.projected_grade, w.projected_fai) for w in b.early_warnings] == [("SX-H", "eliminated", None)]
    assert "annual-december-report" in [r.rule for r in b.early_warnings[0].reasons]


def test_projection():
    fig = Figures(
        fai=4.8,
        industry_fai=4.0,
        nongov_fai=4.0,
        tax=1.1,
        new_enterprises=7,
        high_end_talents=3,
        scenic_level=3,
        tourists_10k=12.5,
    )
    p = project(fig, 6)
    assert (p.fai, p.industry_fai, p.nongov_fai, p.tax) == (9.6, 8.0, 8.0, 2.2)
    assert (p.new_enterprises, p.high_end_talents, p.scenic_level, p.tourists_10k) == (7, 3, 3, 12.5)
    assert project(Figures(fai=1.0, industry_fai=1.0, nongov_fai=1.0), 9).fai == float(Fraction(4, 3))
