"""A city written straight into the tables (no Temporal): towns, monthly reports with a correction,
findings, refused rows, rounds with proposals and decisions, all at known recording times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from towns.models.finding import FindingRow
from towns.models.ledger import LedgerEntry
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport
from towns.models.round import DecisionRow, ProposalRow, RoundRow
from towns.models.town import Town

T0 = datetime(2018, 1, 1, 0, 0, tzinfo=UTC)
PACK = dict(pack_id="sx2018", pack_version="2018.2", pack_hash="h" * 64)
DISTRICTS = ("keqiao", "zhuji", "shangyu", "yuecheng")


def month_recorded(month: int) -> datetime:
    """When the report of 2018-<month> was recorded: the 5th of the next month."""
    return T0 + timedelta(days=31 * month + 4)


DECIDED = month_recorded(2) + timedelta(days=10)  # the 2017 annual decisions were applied in March 2018
CORRECTED = month_recorded(12) + timedelta(days=3)  # the December correction


def code_of(i: int) -> str:
    return f"Q-{i:04d}"


def populate(engine: Engine, towns: int, months: int = 12, start: int = 0) -> list[str]:
    """``towns`` towns (codes Q-0000 …), each reporting 2018-01 … 2018-<months> with three findings per
    report (nongov-share fails in odd months), a correction of the last month for even towns, a refused
    row for towns divisible by 3, and a 2017 annual decision (warning) that demoted every fifth town."""
    codes = []
    with Session(engine) as s:
        for i in range(start, start + towns):
            code = code_of(i)
            codes.append(code)
            demoted = i % 5 == 0
            s.add(
                Town(
                    code=code,
                    name=f"测试小镇{i}",
                    district=DISTRICTS[i % len(DISTRICTS)],
                    tier="provincial_cultivation" if demoted else "provincial_creation",
                    industry="fashion",
                    listed_year=2016,
                    planned_investment=50,
                    registered_at=T0 - timedelta(days=400, minutes=i),
                    warnings=0 if demoted else 1,
                    last_grade="demoted" if demoted else "warning",
                )
            )
            for m in range(1, months + 1):
                revisions = (1, 2) if m == months and i % 2 == 0 else (1,)
                for rev in revisions:
                    sid = f"{code}:2018-{m:02d}:{rev}"
                    at = CORRECTED if rev == 2 else month_recorded(m)
                    s.add(
                        MonthlyReport(
                            submission_id=sid,
                            code=code,
                            period=f"2018-{m:02d}",
                            revision=rev,
                            fai=1.0 * m + rev,
                            industry_fai=0.8 * m,
                            nongov_fai=0.7 * m,
                            tax=0.1 * m,
                            new_enterprises=m,
                            scenic_level=3,
                            correction=rev > 1,
                            submitted_by="tester",
                            source=f"r.csv:{m}",
                            received_at=at,
                            recorded_at=at,
                            raw={},
                        )
                    )
                    for rule, clause, passed in (
                        ("pace-provincial", "SX2018-G3", True),
                        ("nongov-share", "SX2018-G4", m % 2 == 0),
                        ("industry-share", "ZJ-GUIDE-IND70", True),
                    ):
                        s.add(
                            FindingRow(
                                key=f"{sid}/{rule}",
                                submission_id=sid,
                                code=code,
                                period=f"2018-{m:02d}",
                                revision=rev,
                                rule=rule,
                                clause=clause,
                                passed=passed,
                                value=0.5,
                                threshold=0.8,
                                inputs={"m": m},
                                reason_zh="说明",
                                reason_en="reason",
                                recorded_at=at,
                                **PACK,
                            )
                        )
                    s.add(
                        LedgerEntry(
                            seq=1000 * i + 10 * m + rev,
                            key=f"findings:{sid}",
                            kind="findings",
                            code=code,
                            body="{}",
                            prev_hash="0" * 64,
                            hash="0" * 64,
                        )
                    )
            if i % 3 == 0:
                s.add(
                    Rejection(
                        kind="report",
                        code=code,
                        period="2018-13",
                        source="bad.csv:2",
                        submitted_by="tester",
                        received_at=month_recorded(1) + timedelta(hours=1),
                        raw={"period": "2018-13"},
                        problems=[{"field": "period", "en": "not a month", "zh": "月份：不是有效的月份"}],
                    )
                )
            before = {
                "state": "creating",
                "tier": "provincial_creation",
                "warnings": 1,
                "last_grade": "warning",
                "listed_year": 2016,
                "creation_years": 3,
                "acceptance_failures": 0,
            }
            effects = {
                "state": "creating",
                "tier": "provincial_cultivation" if demoted else "provincial_creation",
                "warnings": 0 if demoted else 1,
                "listed_year": 2016,
                "creation_years": 3,
                "acceptance_failures": 0,
            }
            s.add(
                DecisionRow(
                    round_id="round-2017-annual",
                    kind="annual",
                    year=2017,
                    code=code,
                    proposed_grade="demoted" if demoted else "warning",
                    final_grade="demoted" if demoted else "warning",
                    score=55.5,
                    by="王主任",
                    before={**before, "warnings": 0, "last_grade": None}
                    if demoted
                    else {**before, "warnings": 0, "last_grade": "pass"},
                    effects=effects,
                    recorded_at=DECIDED,
                    **PACK,
                )
            )
            s.add(
                ProposalRow(
                    round_id="round-2017-annual",
                    code=code,
                    recorded_at=DECIDED - timedelta(days=1),
                    proposal={
                        "code": code,
                        "name": f"测试小镇{i}",
                        "tier": "provincial_creation",
                        "proposed_grade": "demoted" if demoted else "warning",
                        "score": 55.5,
                        "findings": [
                            {
                                "rule": "annual-investment",
                                "clause": "SX2018-G3",
                                "inputs": {},
                                "threshold": 15.0,
                                "value": 9.0,
                                "passed": False,
                                "reason_zh": "未完成",
                                "reason_en": "below",
                            }
                        ],
                        "inputs": {"year": 2017},
                        "effects": effects,
                    },
                )
            )
        if s.get(RoundRow, "round-2017-annual") is None:
            s.add(
                RoundRow(
                    id="round-2017-annual",
                    kind="annual",
                    year=2017,
                    state="applied",
                    started_by="tester",
                    started_at=DECIDED - timedelta(days=2),
                    approved_by="王主任",
                    approved_at=DECIDED,
                    city={"values": {"total_fai": 1.0}, "findings": []},
                    **PACK,
                )
            )
        s.commit()
    return codes


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
