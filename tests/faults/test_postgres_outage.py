"""PostgreSQL refuses connections for a few seconds during an import and during an apply:
activities retry, the work finishes, nothing is lost or duplicated."""

import asyncio
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from tests.faults.conftest import TASK_QUEUE, client_of, prepared, until
from tests.faults.proxy import Proxy
from tests.faults.test_worker_killed import load
from towns.audit.verify import verify
from towns.intake.files import Row
from towns.intake.service import import_reports
from towns.models.db import make_engine
from towns.models.report import MonthlyReport
from towns.models.round import Approval, DecisionRow, RoundKind
from towns.models.workflows import RoundStart, RoundView
from towns.workflows.round import RoundWorkflow

OUTAGE = 3.0  # seconds


def rows_for(codes: list[str], year: int) -> list[Row]:
    out, n = [], 2
    for m in range(1, 13):
        for c in codes:
            fai = round(1.5 * m, 2)
            values = {
                "code": c,
                "period": f"{year}-{m:02d}",
                "fai": fai,
                "industry_fai": round(fai * 0.8, 2),
                "nongov_fai": round(fai * 0.9, 2),
                "tax": round(0.1 * m, 2),
            }
            out.append(Row(number=n, raw=dict(values), values=dict(values)))
            n += 1
    return out


async def test_postgresql_outage_during_an_import_and_an_apply(temporal, workers, pg_database):
    direct = prepared(pg_database)
    proxy = Proxy()
    try:
        proxied_url = pg_database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        assert proxied_url != pg_database
        proxied = make_engine(proxied_url)
        pool = workers(proxied_url)
        pool.start(pauses="apply_round_batch:before", pause_seconds=2)  # the apply starts 2 s into the outage
        client = await client_of(temporal)
        codes = await load(client, direct, "PGO", n=10)

        # ---- an import: the outage starts once a part of it is answered
        rows = rows_for(codes, 2018)
        answered: list = []
        importing = asyncio.ensure_future(
            import_reports(
                client, proxied, rows, by="fault-test", source="pg.csv", progress=answered.append, concurrency=4
            )
        )
        await until(lambda: len(answered) >= 10 or importing.done(), 120, "part of the import answered")
        proxy.outage()
        down_at = time.monotonic()
        await asyncio.sleep(OUTAGE)  # the outage itself lasts this long (not a wait for the system)
        proxy.restore()
        results = await asyncio.wait_for(importing, 300)
        assert time.monotonic() - down_at >= OUTAGE
        assert [r.status for r in results] == ["accepted"] * len(rows), {r.status for r in results}
        with Session(direct) as s:
            stored = s.exec(select(MonthlyReport.code, MonthlyReport.period, MonthlyReport.revision)).all()
        assert len(stored) == len(rows) + len(codes)  # and the Decembers of 2017 loaded before
        assert len(set(stored)) == len(stored)

        # ---- an apply: PostgreSQL goes away as the approval is given
        rid = "round-2018-annual"
        handle = await client.start_workflow(
            RoundWorkflow.run,
            RoundStart(kind=RoundKind.annual, year=2018, city_tax_growth=0.0),
            id=rid,
            task_queue=TASK_QUEUE,
        )
        await asyncio.wait_for(handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView), 120)
        approving = asyncio.ensure_future(
            handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
        )
        marks = Path(pool.marks)
        await until(lambda: (marks / "apply_round_batch.before").exists(), 60, "the apply about to start")
        proxy.outage()
        await asyncio.sleep(OUTAGE)
        proxy.restore()
        view = await asyncio.wait_for(approving, 300)
        assert view.state == "applied"
        with Session(direct) as s:
            decisions = s.exec(select(DecisionRow.code).where(DecisionRow.round_id == rid)).all()
            assert s.exec(select(func.count()).select_from(MonthlyReport)).one() == len(rows) + len(codes)
        assert sorted(decisions) == codes
        report = verify(direct)
        assert report.ok, report.problems
    finally:
        proxy.close()
