"""The typed read models: what status, history, rounds, the quarantine and bulletins say, as of any
moment, and the JSON the commands print from them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from towns.bulletin.compute import compute_bulletin
from towns.models.bulletin import BulletinRow
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport
from towns.models.round import DecisionRow
from towns.models.times import CST, as_utc
from towns.models.town import Town
from towns.queries import (
    TownHistory,
    TownStatus,
    all_status,
    get_town,
    history,
    parse_as_of,
    published_bulletin,
    quarantine_list,
    round_detail,
    round_list,
    status_of,
    town_status,
)

from .data import CORRECTED, DECIDED, T0, month_recorded, populate

# SQL the databases run differently (window functions, times compared as text or as moments)
pytestmark = pytest.mark.storage

# the fields of `towns status --json`, in order (the web API returns the same)
STATUS_FIELDS = [
    "code",
    "name",
    "district",
    "district_zh",
    "tier",
    "tier_zh",
    "industry",
    "industry_zh",
    "state",
    "state_zh",
    "listed_year",
    "creation_years",
    "annual_fai_target",
    "annual_fai_target_source",
    "periods_reported",
    "last_period",
    "last_report",
    "findings",
    "failed",
    "rejections",
    "warnings",
    "last_grade",
    "acceptance_failures",
    "applying_for",
    "as_of",
]
EVENT_FIELDS = {
    "report": [
        "kind",
        "time",
        "period",
        "revision",
        "correction",
        "submitted_by",
        "source",
        "submission_id",
        "figures",
        "ledger_seq",
    ],
    "finding": [
        "kind",
        "time",
        "period",
        "revision",
        "submission_id",
        "rule",
        "clause",
        "clause_zh",
        "clause_en",
        "passed",
        "value",
        "threshold",
        "inputs",
        "reason_zh",
        "reason_en",
        "pack",
        "ledger_seq",
    ],
    "rejection": ["kind", "time", "period", "source", "submitted_by", "problems", "raw"],
    "decision": [
        "kind",
        "time",
        "period",
        "round",
        "round_kind",
        "grade",
        "grade_zh",
        "proposed_grade",
        "score",
        "by",
        "reason",
        "before",
        "effects",
        "pack",
        "ledger_seq",
    ],
}
# moments around every recording of the city below: each month's reports, the decisions, the correction
SECOND = timedelta(seconds=1)
MOMENTS = sorted(
    {T0 - timedelta(days=500), DECIDED - SECOND, DECIDED, CORRECTED - SECOND, CORRECTED}
    | {month_recorded(m) - d for m in (1, 2, 3) for d in (timedelta(0), SECOND)}
)


def reference(engine, code: str, as_of):
    """What a town's status must say, worked out row by row in Python (the way the old views did)."""

    def seen(t):
        return as_of is None or as_utc(t) <= as_of

    with Session(engine) as s:
        town = s.get(Town, code)
        latest: dict[str, MonthlyReport] = {}
        for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
            if seen(r.recorded_at) and (r.period not in latest or r.revision > latest[r.period].revision):
                latest[r.period] = r
        rejected = len(
            [j for j in s.exec(select(Rejection).where(Rejection.code == code)).all() if seen(j.received_at)]
        )
        later = [
            d
            for d in s.exec(
                select(DecisionRow).where(DecisionRow.code == code).order_by(DecisionRow.recorded_at, DecisionRow.id)
            ).all()
            if not seen(d.recorded_at)
        ]
    standing = {k: getattr(town, k) for k in ("tier", "warnings", "last_grade")}
    if later:
        standing.update({k: later[0].before[k] for k in standing})
    last = max(latest, default=None)
    return {
        "periods_reported": len(latest),
        "last_period": last,
        "revision": latest[last].revision if last else None,
        "rejections": rejected,
        **standing,
    }


def summary(st: TownStatus) -> dict:
    return {
        "periods_reported": st.periods_reported,
        "last_period": st.last_period,
        "revision": st.last_report.revision if st.last_report else None,
        "rejections": st.rejections,
        "tier": st.tier,
        "warnings": st.warnings,
        "last_grade": st.last_grade,
    }


def test_status_shows_the_latest_revision_of_the_last_month_and_its_findings(engine):
    populate(engine, 3, months=3)
    st = town_status(engine, "Q-0000")  # corrected its March report; demoted in 2017; one row refused
    assert (st.last_period, st.periods_reported, st.rejections) == ("2018-03", 3, 1)
    assert st.last_report is not None and (st.last_report.revision, st.last_report.fai) == (2, 5.0)
    assert [f.rule for f in st.findings] == ["pace-provincial", "nongov-share", "industry-share"]
    assert st.failed == ["nongov-share"] and st.findings[0].clause_zh and st.findings[0].pack.id == "sx2018"
    assert (st.tier, st.tier_zh, st.last_grade, st.as_of) == ("provincial_cultivation", "省级培育", "demoted", None)
    other = town_status(engine, get_town(engine, "Q-0001"))  # a registry row works as well as a code
    assert other.last_report is not None and other.last_report.revision == 1 and other.rejections == 0
    assert status_of(engine, "Q-0000") == st and status_of(engine, "NOPE") is None
    with pytest.raises(KeyError):
        town_status(engine, "NOPE")


def test_a_registry_row_read_with_core_gives_the_towns_own_profile(engine):
    from towns.models.town import profile_of
    from towns.queries.towns import registry_row

    populate(engine, 2, months=1)
    with engine.connect() as conn:
        row = registry_row(conn, "Q-0001")
        assert row is not None and registry_row(conn, "NOPE") is None
    town = get_town(engine, "Q-0001")
    assert row == town.model_dump() and profile_of(row) == town.profile()


def test_as_of_shows_what_was_recorded_by_then_and_the_town_as_it_stood(engine):
    populate(engine, 3, months=3)
    before = DECIDED - timedelta(seconds=1)
    st = town_status(engine, "Q-0000", before)
    # February's reports were recorded on 5 March; the 2017 decision (demotion) came on the 15th
    assert (st.last_period, st.periods_reported, st.rejections) == ("2018-02", 2, 1)
    assert (st.tier, st.warnings, st.last_grade, st.as_of) == ("provincial_creation", 0, None, before)
    assert town_status(engine, "Q-0000", DECIDED).tier == "provincial_cultivation"  # recorded at that very moment
    # the March correction is not there a second before it was recorded
    assert town_status(engine, "Q-0000", CORRECTED - timedelta(seconds=1)).last_report.revision == 1
    assert town_status(engine, "Q-0000", CORRECTED).last_report.revision == 2


@pytest.mark.parametrize("as_of", [None, *MOMENTS])
def test_every_status_agrees_with_the_rows_and_with_one_towns_status(engine, as_of):
    codes = populate(engine, 7, months=3)
    rows = all_status(engine, as_of)
    assert [r.code for r in rows] == (
        []
        if as_of is not None and as_of < T0 - timedelta(days=400)
        else sorted(codes, key=lambda c: (get_town(engine, c).district, c))
    )
    for r in rows:
        assert summary(r) == reference(engine, r.code, as_of), r.code
        assert r == town_status(engine, r.code, as_of) == town_status(engine, get_town(engine, r.code), as_of)
        assert r == status_of(engine, r.code, as_of)


def test_a_town_registered_after_the_moment_is_not_listed(engine):
    populate(engine, 2, months=1)
    with Session(engine) as s:
        late = Town(
            code="LATE",
            name="后来小镇",
            district="keqiao",
            tier="city",
            industry="fashion",
            listed_year=2018,
            planned_investment=30,
            registered_at=DECIDED + timedelta(days=1),
        )
        s.add(late)
        s.commit()
    assert "LATE" not in {r.code for r in all_status(engine, DECIDED)}
    assert "LATE" in {r.code for r in all_status(engine, DECIDED + timedelta(days=1))}
    assert "LATE" in {r.code for r in all_status(engine)}


def test_status_json_keeps_its_fields_and_labels(engine):
    populate(engine, 1, months=1)
    moment = (DECIDED - timedelta(seconds=1)).astimezone(CST)  # the as-of moment keeps the zone it was given in
    data = town_status(engine, "Q-0000", moment).model_dump(mode="json")
    assert list(data) == STATUS_FIELDS
    assert (data["district"], data["district_zh"], data["tier"], data["state_zh"]) == (
        "keqiao",
        "柯桥区",
        "provincial_creation",
        "创建中",
    )
    assert data["as_of"] == moment.isoformat() and data["as_of"].endswith("+08:00")
    assert list(data["last_report"]) == [
        "fai",
        "industry_fai",
        "nongov_fai",
        "tax",
        "new_enterprises",
        "high_tech_enterprises",
        "high_end_talents",
        "tourists_10k",
        "scenic_level",
        "revision",
    ]
    assert list(data["findings"][0]) == [
        "rule",
        "clause",
        "clause_zh",
        "clause_en",
        "passed",
        "value",
        "threshold",
        "inputs",
        "reason_zh",
        "reason_en",
        "pack",
    ]
    assert TownStatus.model_validate(data) == town_status(engine, "Q-0000", moment)


def test_history_is_in_recording_order_with_clause_text_and_ledger_numbers(engine):
    populate(engine, 1, months=2)
    h = history(engine, "Q-0000")
    kinds = [e.kind for e in h.events]
    # January's report and findings (5 Feb), the refused row an hour later, February's (5 Mar), the decision (15 Mar),
    # then February's correction
    assert kinds == [
        "report",
        *["finding"] * 3,
        "rejection",
        "report",
        *["finding"] * 3,
        "decision",
        "report",
        *["finding"] * 3,
    ]
    times = [e.time for e in h.events]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    first = h.events[0]
    assert first.kind == "report" and first.ledger_seq is not None and first.figures.fai == 2.0
    decision = next(e for e in h.events if e.kind == "decision")
    assert (decision.grade, decision.grade_zh, decision.round, decision.period) == (
        "demoted",
        "降格",
        "round-2017-annual",
        "2017",
    )
    assert decision.before.tier == "provincial_creation" and decision.effects.tier == "provincial_cultivation"
    rejection = next(e for e in h.events if e.kind == "rejection")
    assert rejection.problems[0].field == "period" and rejection.raw == {"period": "2018-13"}
    assert h.as_of is None and h.state is None


def test_history_json_keeps_its_fields_and_reads_back(engine):
    populate(engine, 1, months=2)
    data = history(engine, "Q-0000").model_dump(mode="json")
    assert list(data) == ["code", "events"]  # no as_of, no state: as the command always printed it
    for e in data["events"]:
        assert list(e) == EVENT_FIELDS[e["kind"]], e["kind"]
        assert e["time"].endswith("+00:00")
    assert TownHistory.model_validate(json.loads(json.dumps(data))) == history(engine, "Q-0000")
    then = history(engine, "Q-0000", DECIDED - timedelta(seconds=1)).model_dump(mode="json")
    assert list(then) == ["code", "events", "as_of", "state"]
    assert then["state"] == {
        "state": "creating",
        "tier": "provincial_creation",
        "warnings": 0,
        "last_grade": None,
        "listed_year": 2016,
        "creation_years": 3,
    }
    assert [e["kind"] for e in then["events"]].count("decision") == 0
    assert history(engine, "Q-0000", T0).events == []


def test_rounds(engine):
    populate(engine, 3, months=1)
    d = round_detail(engine, "round-2017-annual")
    assert d is not None and (d.kind, d.kind_zh, d.state, d.approved_by) == ("annual", "年度考核", "applied", "王主任")
    town = d.towns[0]
    assert (town.code, town.name, town.final_grade, town.final_grade_zh) == ("Q-0000", "测试小镇0", "demoted", "降格")
    assert town.findings[0].clause == "SX2018-G3" and town.effects is not None and town.effects.warnings == 0
    data = d.model_dump(mode="json")
    assert data["started_at"] == as_utc(DECIDED - timedelta(days=2)).isoformat()
    assert data["city"] == {"values": {"total_fai": 1.0}, "findings": []}
    assert round_detail(engine, "round-1999-annual") is None
    (summary,) = round_list(engine)
    assert summary.model_dump(mode="json") == {
        "id": "round-2017-annual",
        "kind": "annual",
        "year": 2017,
        "state": "applied",
        "towns": 3,
        "started_by": "tester",
        "approved_by": "王主任",
        "overdue": False,
        "pack": "sx2018 2018.2",
    }


def test_quarantine_list_filters_by_time_code_and_kind(engine):
    populate(engine, 4, months=1)  # Q-0000 and Q-0003 each had a row refused
    with Session(engine) as s:
        s.add(
            Rejection(
                kind="town",
                code=None,
                source="t.csv:2",
                submitted_by="office",
                received_at=DECIDED,
                raw={"code": "bad code"},
                problems=[{"field": "code", "en": "not a code", "zh": "代码不正确"}],
            )
        )
        s.commit()
    everything = quarantine_list(engine)
    assert [(r.kind, r.code) for r in everything] == [("report", "Q-0000"), ("report", "Q-0003"), ("town", None)]
    assert [r.code for r in quarantine_list(engine, code="Q-0003")] == ["Q-0003"]
    assert [r.kind for r in quarantine_list(engine, kind="town")] == ["town"]
    assert [r.kind for r in quarantine_list(engine, since=DECIDED)] == ["town"]  # received at that very moment
    assert quarantine_list(engine, since=DECIDED + timedelta(microseconds=1)) == []
    data = everything[-1].model_dump(mode="json")
    assert list(data) == ["id", "kind", "received_at", "source", "code", "period", "submitted_by", "problems", "raw"]
    assert data["received_at"] == DECIDED.isoformat() and data["problems"][0] == {
        "field": "code",
        "en": "not a code",
        "zh": "代码不正确",
    }


def test_published_bulletin_is_the_stored_one(engine):
    populate(engine, 3, months=6)
    assert published_bulletin(engine, "2018Q2") is None
    bulletin = compute_bulletin(engine, "2018Q2", issued_on=date(2018, 7, 15))
    published_at = datetime(2018, 7, 14, 17, 0, tzinfo=UTC)  # 15 July, 01:00 in Beijing
    with Session(engine) as s:
        s.add(
            BulletinRow(
                quarter="2018Q2",
                content=bulletin.model_dump(mode="json"),
                pack_hash=bulletin.pack.hash,
                published_at=published_at,
                published_by="office",
            )
        )
        without_date = bulletin.model_copy(update={"issued_on": None, "quarter": "2018Q1"})
        s.add(
            BulletinRow(
                quarter="2018Q1",
                content=without_date.model_dump(mode="json"),
                pack_hash=bulletin.pack.hash,
                published_at=published_at,
                published_by="office",
            )
        )
        s.commit()
    assert published_bulletin(engine, "2018-q2") == bulletin
    older = published_bulletin(engine, "2018Q1")  # published before bulletins kept their issue date
    assert older is not None and older.issued_on == date(2018, 7, 15)
    with pytest.raises(ValueError):
        published_bulletin(engine, "2018Q5")


def test_parse_as_of():
    assert parse_as_of("2018-06-30") == datetime(2018, 6, 30, 23, 59, 59, 999999, tzinfo=CST)
    assert parse_as_of("2018-06-30T17:00") == datetime(2018, 6, 30, 17, 0, tzinfo=CST)
    assert parse_as_of("2018-06-30T09:00+00:00") == datetime(2018, 6, 30, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a date"):
        parse_as_of("June")
