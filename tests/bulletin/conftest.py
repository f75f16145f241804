"""A small hand-computed city for the bulletin tests (2018Q2: data period 2018-06).

| town | district | tier | target | June YTD fai (latest rev.) | completion |
|---|---|---|---|---|---|
| SX-A | keqiao  | provincial_creation (fashion, 1 warning) | 15 | 4.8 (rev. 2; rev. 1 said 3.0) | 0.32 |
| SX-B | keqiao  | provincial_creation (information economy) | 10 | 4.0 | 0.40 (exactly on the pace line 0.5 × 0.8) |
| SX-C | zhuji   | provincial_cultivation (equipment) | 15 | 9.0 | 0.60 |
| SX-D | zhuji   | city (planned 30 over 3 years) | 10 | no June report | 0 |
| SX-E | shangyu | named (own target 10) | 10 | 6.0 | 0.60 |
| SX-F | yuecheng | applied only: out of scope | | 20 | |
| SX-G | zhuji   | eliminated: out of scope | | 10 | |
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from towns.models.finding import FindingRow
from towns.models.report import MonthlyReport
from towns.models.town import Town

T0 = datetime(2018, 1, 2, 8, 0, tzinfo=UTC)

TOWNS = [
    dict(
        code="SX-A",
        name="柯桥甲小镇",
        district="keqiao",
        tier="provincial_creation",
        industry="fashion",
        listed_year=2016,
        planned_investment=50,
        warnings=1,
    ),
    dict(
        code="SX-B",
        name="柯桥乙小镇",
        district="keqiao",
        tier="provincial_creation",
        industry="information_economy",
        listed_year=2017,
        planned_investment=30,
    ),
    dict(
        code="SX-C",
        name="诸暨丙小镇",
        district="zhuji",
        tier="provincial_cultivation",
        industry="high_end_equipment",
        listed_year=2016,
        planned_investment=50,
    ),
    dict(
        code="SX-D",
        name="诸暨丁小镇",
        district="zhuji",
        tier="city",
        industry="tourism",
        listed_year=2017,
        planned_investment=30,
        creation_years=3,
    ),
    dict(
        code="SX-E",
        name="上虞戊小镇",
        district="shangyu",
        tier="named",
        industry="health",
        listed_year=2015,
        annual_fai_target=10,
        state="named",
    ),
    dict(
        code="SX-F",
        name="越城申报小镇",
        district="yuecheng",
        tier="provincial_creation",
        industry="fashion",
        state="applied",
        planned_investment=50,
    ),
    dict(
        code="SX-G",
        name="诸暨淘汰小镇",
        district="zhuji",
        tier="provincial_cultivation",
        industry="fashion",
        listed_year=2016,
        state="eliminated",
        planned_investment=50,
    ),
]

# (code, period, revision, fai, industry_fai, nongov_fai, tax, received_at)
REPORTS = [
    ("SX-A", "2017-12", 1, 16.0, 12.0, 14.0, 2.0, None),
    ("SX-C", "2017-12", 1, 15.0, 12.0, 13.0, 3.0, None),
    ("SX-C", "2018-04", 1, 5.0, 4.0, 4.5, None, None),
    ("SX-B", "2018-04", 1, 2.0, 1.6, 1.5, None, datetime(2018, 5, 15, 9, 30, tzinfo=UTC)),
    ("SX-A", "2018-05", 1, 3.5, 3.0, 3.0, None, None),
    ("SX-B", "2018-05", 1, 3.0, 2.4, 2.2, None, None),
    ("SX-C", "2018-05", 1, 7.0, 5.6, 6.3, None, None),
    ("SX-D", "2018-05", 1, 3.0, 2.5, 1.0, None, None),
    ("SX-E", "2018-05", 1, 5.0, 4.0, 4.5, None, datetime(2018, 6, 14, 8, 0, tzinfo=UTC)),
    ("SX-A", "2018-06", 1, 3.0, 2.5, 2.5, 0.5, None),
    ("SX-A", "2018-06", 2, 4.8, 4.0, 4.0, 1.0, None),
    ("SX-B", "2018-06", 1, 4.0, 3.2, 3.0, 0.5, None),
    ("SX-C", "2018-06", 1, 9.0, 7.2, 8.1, 2.0, None),
    ("SX-E", "2018-06", 1, 6.0, 5.0, 5.4, None, None),
    ("SX-F", "2018-06", 1, 20.0, 15.0, 18.0, None, None),
    ("SX-G", "2018-06", 1, 10.0, 8.0, 9.0, None, None),
    ("SX-A", "2018-07", 1, 99.0, 80.0, 90.0, None, None),
]

# (code, period, revision, rule, clause, passed, inputs, reason)
FINDINGS = [
    ("SX-A", "2018-06", 1, "pace-provincial", "SX2018-G3", False, {}, "stale: revision 1"),
    ("SX-A", "2018-06", 2, "pace-provincial", "SX2018-G3", False, {}, "A behind pace"),
    ("SX-A", "2018-06", 2, "nongov-share", "SX2018-G4", True, {}, "A nongov ok"),
    ("SX-A", "2018-07", 1, "pace-provincial", "SX2018-G3", False, {}, "July: next quarter"),
    ("SX-B", "2018-06", 1, "nongov-share", "SX2018-G4", False, {}, "B nongov below 80%"),
    ("SX-B", "2018-04", 0, "report-overdue", "SX2018-S3", False, {"due": "2018-05-10"}, "B April overdue"),
    ("SX-B", "2018-03", 0, "report-overdue", "SX2018-S3", False, {"due": "2018-04-10"}, "B March overdue"),
    ("SX-C", "2018-06", 1, "pace-provincial", "SX2018-G3", True, {}, "C on pace"),
    ("SX-D", "2018-06", 0, "report-overdue", "SX2018-S3", False, {"due": "2018-07-10"}, "D June overdue"),
    ("SX-E", "2018-05", 0, "report-overdue", "SX2018-S3", False, {"due": "2018-06-10"}, "E May overdue"),
    ("SX-E", "2018-05", 1, "report-late", "SX2018-S3", False, {"due": "2018-06-10"}, "E May late"),
]


def add_town(s: Session, **kw) -> None:
    s.add(Town(registered_at=T0, **kw))


def add_report(s: Session, code, period, revision, fai, industry_fai, nongov_fai, tax=None, received_at=None):
    received = received_at or datetime(int(period[:4]), int(period[5:]), 28, 12, 0, tzinfo=UTC)
    s.add(
        MonthlyReport(
            submission_id=f"t:{code}:{period}:{revision}",
            code=code,
            period=period,
            revision=revision,
            fai=fai,
            industry_fai=industry_fai,
            nongov_fai=nongov_fai,
            tax=tax,
            correction=revision > 1,
            submitted_by="tester",
            received_at=received,
            recorded_at=received,
            raw={},
        )
    )


def add_finding(s: Session, code, period, revision, rule, clause, passed, inputs, reason, recorded_at=T0):
    s.add(
        FindingRow(
            key=f"t:{code}:{period}:{revision}/{rule}",
            submission_id=f"t:{code}:{period}:{revision}",
            code=code,
            period=period,
            revision=revision,
            rule=rule,
            clause=clause,
            passed=passed,
            inputs=inputs,
            reason_zh=f"{reason}（中文）",
            reason_en=reason,
            pack_id="sx2018",
            pack_version="2018.2",
            pack_hash="x",
            recorded_at=recorded_at,
        )
    )


@pytest.fixture
def city(engine):
    with Session(engine) as s:
        for t in TOWNS:
            add_town(s, **t)
        for r in REPORTS:
            add_report(s, *r)
        for f in FINDINGS:
            add_finding(s, *f)
        s.commit()
    return engine
