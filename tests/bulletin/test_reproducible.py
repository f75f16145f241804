"""A past quarter's bulletin is the same whenever it is computed: as of the quarter's reports (the end,
in Beijing time, of the day its last month's report is due: 10 July for 2018Q2 with the pack's due day
10), never as of the clock or the issue date; and the months a town owes
(``models.period.reporting_from``) are the ones its workflow watches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlmodel import Session

from towns.bulletin import compute_bulletin
from towns.bulletin.compute import quarter_as_of
from towns.models.round import DecisionRow
from towns.models.town import Town

from .conftest import add_finding, add_report, add_town

CST = timezone(timedelta(hours=8))


def decision(code: str, kind: str, year: int, before: dict, effects: dict, recorded_at: datetime) -> DecisionRow:
    return DecisionRow(
        round_id=f"round-{year}-{kind}",
        kind=kind,
        year=year,
        code=code,
        proposed_grade="x",
        final_grade="x",
        by="王主任",
        before=before,
        effects=effects,
        pack_id="sx2018",
        pack_version="2018.2",
        pack_hash="x",
        recorded_at=recorded_at,
    )


def content(b) -> dict:
    return b.model_dump(mode="json", exclude={"issued_on"})


def town_kw(code: str, **over) -> dict:
    return (
        dict(
            code=code,
            name=f"{code}小镇",
            district="keqiao",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
        )
        | over
    )


def test_the_as_of_of_a_quarter_is_the_end_of_its_last_months_due_day_in_beijing():
    # June's report is due on 10 July: the Q2 bulletin reads up to 24:00 on 10 July, Beijing time
    assert quarter_as_of(2018, 2, 10) == datetime(2018, 7, 11, tzinfo=CST) == datetime(2018, 7, 10, 16, tzinfo=UTC)
    # December's is due in January of the next year
    assert quarter_as_of(2018, 4, 10) == datetime(2019, 1, 11, tzinfo=CST)
    # another programme's due day
    assert quarter_as_of(2019, 1, 15) == datetime(2019, 4, 16, tzinfo=CST)


def test_later_data_changes_nothing_but_the_issue_date(city):
    first = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 11))
    late = datetime(2018, 7, 20, 2, 0, tzinfo=UTC)
    with Session(city) as s:
        # reports for a later period
        add_report(s, "SX-B", "2018-07", 1, 5.0, 4.0, 3.8, received_at=datetime(2018, 8, 5, tzinfo=UTC))
        add_report(s, "SX-D", "2018-07", 1, 5.0, 4.0, 3.8, received_at=datetime(2018, 8, 5, tzinfo=UTC))
        # late reports for the quarter, received after the as-of (10 July): SX-D's June (never sent), SX-A's
        # April; the previous quarter's March everybody missed; a correction of SX-C's June
        add_report(s, "SX-D", "2018-06", 1, 6.0, 5.0, 2.0, received_at=late)
        add_finding(s, "SX-D", "2018-06", 1, "pace-city", "SX2018-G3", False, {}, "D behind pace", late)
        for code in ("SX-A", "SX-B", "SX-C", "SX-D", "SX-E"):
            add_report(s, code, "2018-03", 1, 1.0, 0.8, 0.9, received_at=late)
            add_finding(
                s, code, "2018-03", 0, "report-late", "SX2018-S3", True, {"received_at": late.isoformat()}, "", late
            )
        add_report(s, "SX-A", "2018-04", 1, 2.0, 1.6, 1.8, received_at=late)
        add_report(s, "SX-C", "2018-06", 2, 12.0, 9.0, 11.0, received_at=late)
        add_finding(s, "SX-C", "2018-06", 2, "pace-provincial", "SX2018-G3", True, {}, "C on pace (corrected)", late)
        # a later decision (the 2018 annual round, recorded in 2019), applied to the town's row
        s.add(
            decision(
                "SX-A",
                "annual",
                2018,
                {"state": "creating", "tier": "provincial_creation", "warnings": 1, "last_grade": "warning"},
                {"state": "creating", "tier": "provincial_cultivation", "warnings": 0},
                datetime(2019, 3, 1, tzinfo=UTC),
            )
        )
        # a decision in effect in 2018 by its year (the 2017 annual round), but recorded after the as-of
        # (00:00 on 11 July in Beijing)
        s.add(
            decision(
                "SX-B",
                "annual",
                2017,
                {"state": "creating", "tier": "provincial_creation", "warnings": 0, "last_grade": None},
                {"state": "creating", "tier": "provincial_creation", "warnings": 1},
                datetime(2018, 7, 10, 16, 0, tzinfo=UTC),
            )
        )
        a, b = s.get(Town, "SX-A"), s.get(Town, "SX-B")
        a.tier, a.warnings, a.last_grade = "provincial_cultivation", 0, "demoted"
        b.warnings, b.last_grade = 1, "warning"
        s.add_all([a, b])
        s.commit()
    again = compute_bulletin(city, "2018Q2", issued_on=date(2019, 5, 1))
    assert again.issued_on == date(2019, 5, 1) and first.issued_on == date(2018, 7, 11)
    assert content(again) == content(first)
    assert again.as_of == date(2018, 7, 10)
    # what it says, for the record: D unreported, D's June and A's April open, March not its business
    towns = {t.code: t for t in again.towns}
    assert towns["SX-D"].reported is False and towns["SX-C"].fai == 9.0 and towns["SX-A"].tier == "provincial_creation"
    assert {w.code: w.warnings_before for w in again.early_warnings}["SX-B"] == 0
    statuses = {(m.code, m.period): m.status for m in again.missing_reports}
    assert statuses[("SX-A", "2018-04")] == statuses[("SX-D", "2018-06")] == "open"
    assert not [m for m in again.missing_reports if m.period == "2018-03"]
    # March is 2018Q1's month: its bulletin, computed after these late reports, still has it open for all
    q1 = compute_bulletin(city, "2018Q1", issued_on=date(2019, 5, 1))
    assert {(m.code, m.status) for m in q1.missing_reports if m.period == "2018-03"} == {
        (c, "open") for c in ("SX-A", "SX-B", "SX-C", "SX-D", "SX-E")
    }
    # the next quarter judges its own months only: none of these late reports is its business
    q3 = compute_bulletin(city, "2018Q3", issued_on=date(2018, 10, 15))
    assert {m.period for m in q3.missing_reports} == {"2018-07", "2018-08", "2018-09"}


def test_the_as_of_is_beijing_time(engine):
    """2018Q2's as-of is the end of 10 July, June's due day, in Beijing: 2018-07-10T15:59Z is 23:59 on
    10 July in Beijing (read); 2018-07-10T16:00Z is 00:00 on 11 July (not read), though still 10 July
    in UTC."""
    inside, after = datetime(2018, 7, 10, 15, 59, tzinfo=UTC), datetime(2018, 7, 10, 16, 0, tzinfo=UTC)
    registered = datetime(2018, 1, 2, tzinfo=UTC)
    with Session(engine) as s:
        for code in ("SX-IN", "SX-OUT"):
            s.add(Town(**town_kw(code), registered_at=registered))
        for code, at in (("SX-IN", inside), ("SX-OUT", after)):
            for m in ("03", "04"):
                add_report(s, code, f"2018-{m}", 1, 1.0, 0.8, 0.9)
            add_report(s, code, "2018-05", 1, 5.0, 4.0, 4.5, received_at=at)  # late: due on 10 June
            add_report(s, code, "2018-06", 1, 6.0, 5.0, 5.5, received_at=at)
        # the 2017 annual round recorded one minute into 11 July, Beijing time: not in effect for 2018Q2
        s.add(
            decision(
                "SX-OUT",
                "annual",
                2017,
                {"state": "creating", "tier": "provincial_creation", "warnings": 0},
                {"state": "creating", "tier": "provincial_cultivation", "warnings": 0},
                datetime(2018, 7, 10, 16, 1, tzinfo=UTC),
            )
        )
        out = s.get(Town, "SX-OUT")
        out.tier = "provincial_cultivation"
        s.add(out)
        s.commit()
    b = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 11))
    assert b.as_of == date(2018, 7, 10)
    towns = {t.code: t for t in b.towns}
    assert towns["SX-IN"].reported and towns["SX-IN"].fai == 6.0
    assert not towns["SX-OUT"].reported and towns["SX-OUT"].fai is None
    assert towns["SX-OUT"].tier == "provincial_creation"
    # SX-IN's June report arrived a minute before its due date was over: on time, not missing
    assert [(m.code, m.period, m.status, m.received_at) for m in b.missing_reports] == [
        ("SX-IN", "2018-05", "late", inside.isoformat()),
        ("SX-OUT", "2018-05", "open", None),
        ("SX-OUT", "2018-06", "open", None),
    ]


def test_a_town_owes_from_the_month_whose_report_was_not_yet_due(engine):
    """Registered on 9 May (before April's report was due, on 10 May): it owes April's; on 11 May: from
    May's. 23:59 on 10 May in Beijing is still before the due date is over; 00:00 on 11 May is not.
    Registered on 5 July, after the quarter but before June's due date (the bulletin's as-of): it owes
    June's, as its workflow does; on 11 July, after the as-of: nothing in 2018Q2."""
    registrations = {
        "SX-9": datetime(2018, 5, 9, 12, 0, tzinfo=CST),
        "SX-10": datetime(2018, 5, 10, 15, 59, tzinfo=UTC),  # 23:59 on 10 May in Beijing
        "SX-11": datetime(2018, 5, 10, 16, 0, tzinfo=UTC),  # 00:00 on 11 May in Beijing
        "SX-12": datetime(2018, 5, 11, 12, 0, tzinfo=CST),
        "SX-JUL5": datetime(2018, 7, 5, 12, 0, tzinfo=CST),
        "SX-JUL11": datetime(2018, 7, 11, 9, 0, tzinfo=CST),
    }
    with Session(engine) as s:
        for code, at in registrations.items():
            s.add(Town(**town_kw(code), registered_at=at))
        # listed in 2018, registered in December 2017: not before January 2018
        s.add(Town(**town_kw("SX-NEW", listed_year=2018), registered_at=datetime(2017, 12, 5, tzinfo=CST)))
        s.commit()
    q2 = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 15))
    owed = {}
    for m in q2.missing_reports:
        owed.setdefault(m.code, []).append(m.period)
    assert owed == {
        "SX-9": ["2018-04", "2018-05", "2018-06"],
        "SX-10": ["2018-04", "2018-05", "2018-06"],
        "SX-11": ["2018-05", "2018-06"],
        "SX-12": ["2018-05", "2018-06"],
        "SX-JUL5": ["2018-06"],
        "SX-NEW": ["2018-04", "2018-05", "2018-06"],
    }
    # SX-NEW owes from January 2018, not December 2017 (due 10 January, after it was registered)
    q1 = compute_bulletin(engine, "2018Q1", issued_on=date(2018, 4, 15))
    assert [(m.code, m.period) for m in q1.missing_reports] == [
        ("SX-NEW", "2018-01"),
        ("SX-NEW", "2018-02"),
        ("SX-NEW", "2018-03"),
    ]


def test_a_town_put_on_a_list_owes_from_the_decision(engine):
    """An applicant registered in 2017, admitted by the 2018 application round recorded on 20 May 2018:
    April's report was already due, so it owes from May (as its workflow watches)."""
    with Session(engine) as s:
        s.add(
            Town(
                **town_kw("SX-ADM", listed_year=2018, applying_for=None),
                registered_at=datetime(2017, 9, 1, tzinfo=UTC),
            )
        )
        s.add(
            decision(
                "SX-ADM",
                "application",
                2018,
                {"state": "applied", "tier": "provincial_creation", "listed_year": None, "warnings": 0},
                {"state": "creating", "tier": "provincial_creation", "listed_year": 2018, "warnings": 0},
                datetime(2018, 5, 20, tzinfo=UTC),
            )
        )
        s.commit()
    q2 = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 15))
    assert [(m.code, m.period) for m in q2.missing_reports] == [("SX-ADM", "2018-05"), ("SX-ADM", "2018-06")]
    # a draft of 2018Q2 before the decision was recorded: still an applicant, not in the bulletin
    draft = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 5, 19), draft=True)
    assert draft.towns == [] and draft.missing_reports == []


def test_history_loaded_after_the_fact_is_shown_as_loaded(city):
    """A town registered after the quarter's as-of was not known to the office then: a bulletin
    recomputed for the quarter shows what was loaded for it, and it owed no report then."""
    loaded = datetime(2019, 2, 1, tzinfo=UTC)
    with Session(city) as s:
        add_town(s, **town_kw("SX-HIST", district="paojiang"))
        t = s.get(Town, "SX-HIST")
        t.registered_at = loaded
        s.add(t)
        add_report(s, "SX-HIST", "2018-06", 1, 7.5, 6.0, 7.0, received_at=loaded)
        s.commit()
    b = compute_bulletin(city, "2018Q2", issued_on=date(2019, 2, 2))
    hist = next(t for t in b.towns if t.code == "SX-HIST")
    assert hist.reported and hist.fai == 7.5 and hist.completion == 0.5
    assert not [m for m in b.missing_reports if m.code == "SX-HIST"]


def test_a_june_report_sent_on_time_in_july_is_in_the_q2_bulletin(engine):
    """June's reports are due on 10 July. One received on 8 July (on time) is in the 2018Q2 bulletin —
    figures, rank, not behind, not missing. One received on 12 July, after the as-of, is not: that town
    has no June figures and its June report is open (not received by the as-of), in 2018Q2's bulletin
    whenever it is computed; 2018Q3's judges July to September only."""
    with Session(engine) as s:
        for code in ("SX-ONTIME", "SX-LATE"):
            s.add(Town(**town_kw(code), registered_at=datetime(2018, 1, 2, tzinfo=UTC)))
            for m in ("01", "02", "03", "04", "05"):
                add_report(s, code, f"2018-{m}", 1, 1.0, 0.8, 0.9)
        add_report(s, "SX-ONTIME", "2018-06", 1, 7.5, 6.0, 7.0, received_at=datetime(2018, 7, 8, 10, 0, tzinfo=CST))
        add_report(s, "SX-LATE", "2018-06", 1, 9.0, 7.0, 8.0, received_at=datetime(2018, 7, 12, 10, 0, tzinfo=CST))
        s.commit()
    b = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 15))
    assert b.as_of == date(2018, 7, 10)
    towns = {t.code: t for t in b.towns}
    on_time, late = towns["SX-ONTIME"], towns["SX-LATE"]
    # 7.5 of a target of 15: half the year's target at half the year, ahead of the pace line 0.5 × 0.8
    assert (on_time.reported, on_time.fai, on_time.completion, on_time.rank, on_time.behind_schedule) == (
        True,
        7.5,
        0.5,
        1,
        False,
    )
    assert (late.reported, late.fai, late.completion, late.rank, late.behind_schedule) == (False, None, 0.0, 2, True)
    assert b.city.total_fai == 7.5 and b.city.monthly_cumulative[-1].towns_reported == 1
    assert [(m.code, m.period, m.due, m.status, m.received_at) for m in b.missing_reports] == [
        ("SX-LATE", "2018-06", "2018-07-10", "open", None)
    ]
    # the same later, though the 12 July report is in the database by then
    assert content(compute_bulletin(engine, "2018Q2", issued_on=date(2019, 1, 20))) == content(b)
    q3 = compute_bulletin(engine, "2018Q3", issued_on=date(2018, 10, 15))
    assert not [m for m in q3.missing_reports if m.period == "2018-06"]
    # a draft on 9 July (before June's due date is over): the 8 July report is in, June is not yet missing
    draft = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 9), draft=True)
    assert draft.draft and draft.as_of == date(2018, 7, 9)
    assert {t.code: t.reported for t in draft.towns} == {"SX-ONTIME": True, "SX-LATE": False}
    assert draft.missing_reports == []
