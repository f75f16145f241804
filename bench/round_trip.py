"""Benchmark: report round trips and an annual round on the embedded dev server.

    python bench/round_trip.py [--towns 200] [--database-url URL]

Measures, on a fresh file-backed dev server and database: registering towns, submitting
one December report per town (an Update that runs two activities), and an annual round of
all of them (batched evaluation, approval, decisions applied and signalled). Prints
rates; it asserts nothing (speed goals are read here, not in the test suite).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from towns.config import venv_binary
from towns.intake.service import register_town, submit_report
from towns.models.db import make_engine, prepare_database
from towns.models.report import ReportSubmission
from towns.models.round import Approval, RoundKind
from towns.models.town import TownProfile
from towns.worker import build_worker
from towns.workflows.round import RoundStart, RoundView, RoundWorkflow

DISTRICTS = ["yuecheng", "keqiao", "shangyu", "zhuji", "shengzhou", "xinchang", "paojiang"]


async def main(n: int, url: str | None) -> None:
    home = Path(tempfile.mkdtemp(prefix="towns-bench-"))
    engine = make_engine(url or f"sqlite:///{home / 'towns.db'}")
    prepare_database(engine)
    async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=venv_binary("temporal"), data_converter=pydantic_data_converter,
            dev_server_database_filename=str(home / "temporal.db"), dev_server_log_level="error") as env:
        with ThreadPoolExecutor(max_workers=16) as ex:
            async with build_worker(env.client, engine, "bench", ex):
                t0 = time.perf_counter()
                sem = asyncio.Semaphore(16)

                async def reg(i):
                    async with sem:
                        await register_town(env.client, engine, TownProfile(
                            code=f"B{i:05d}", name=f"bench {i}", district=DISTRICTS[i % 7], tier="provincial_creation",
                            industry="fashion", listed_year=2016, planned_investment=50), "bench", "bench")

                await asyncio.gather(*(reg(i) for i in range(n)))
                t1 = time.perf_counter()

                async def rep(i):
                    async with sem:
                        fai = 10 + i % 15
                        await submit_report(env.client, ReportSubmission(
                            code=f"B{i:05d}", period="2017-12", fai=fai, industry_fai=fai * 0.8, nongov_fai=fai * 0.9,
                            tax=1 + i % 5 / 10, high_tech_enterprises=i % 20, submitted_by="bench",
                            submission_id=f"bench:{i}"))

                await asyncio.gather(*(rep(i) for i in range(n)))
                t2 = time.perf_counter()
                handle = await env.client.start_workflow(
                    RoundWorkflow.run, RoundStart(kind=RoundKind.annual, year=2017, city_tax_growth=0.05),
                    id="round-2017-annual", task_queue="bench")
                await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
                t3 = time.perf_counter()
                await handle.execute_update(RoundWorkflow.approve, Approval(by="bench"), result_type=RoundView)
                t4 = time.perf_counter()
    print(f"towns: {n}; database: {engine.url}")
    print(f"register        {t1 - t0:7.2f} s  {n / (t1 - t0):7.1f} towns/s")
    print(f"monthly reports {t2 - t1:7.2f} s  {n / (t2 - t1):7.1f} reports/s (one Update per report: check, evaluate and record in one activity)")
    print(f"round proposals {t3 - t2:7.2f} s  {n / (t3 - t2):7.1f} towns/s (batched evaluation)")
    print(f"approve + apply {t4 - t3:7.2f} s  {n / (t4 - t3):7.1f} towns/s (decisions, ledger, signals)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--towns", type=int, default=200)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    asyncio.run(main(args.towns, args.database_url))
    import os
    import sys

    sys.stdout.flush()
    os._exit(0)  # see towns.cli.main: avoid the Temporal core's threads at interpreter exit
