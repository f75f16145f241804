"""Record a TownWorkflow / RoundWorkflow history for the replay tests.

Run it before changing workflow code, with the code as it is, and keep the JSON under
tests/workflows/histories/: `python -m tests.workflows.record_history v2` writes
town-v2.json and round-v2.json. (town-v1.json was recorded from the walking skeleton,
before the year-end patch and the decisions; v3 added the overdue timers; v4 the reports
taken one Update at a time, a file's rows in one Update, and the approval's year-order check;
v5 the months owed from registration (``reports-owed-from-registration``): the town is
registered on the 5th of a month, so it owes the previous month's report, which becomes
overdue and then arrives late; v6 the reports taken by a local activity
(``take-reports-local-activity``) and the round's city context referred to by hash; v7 one patch at a
run's start for every path (``town-v7-current-paths``).) The replay test then proves the changed code still replays
the old history (patching done right).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.factories import report, town
from towns.config import venv_binary
from towns.intake.service import register_town, submit_report

try:  # histories before v4 were recorded without file batches
    from towns.intake.service import submit_batch
    from towns.models.report import ReportBatch, ReportRow

    HAS_BATCHES = True
except ImportError:  # pragma: no cover
    HAS_BATCHES = False
try:  # histories before v5 watched from the month the workflow started
    from towns.models.period import previous_month, report_deadline

    HAS_OWED_FROM = True
except ImportError:  # pragma: no cover
    HAS_OWED_FROM = False
from towns.models.db import make_engine, prepare_database
from towns.models.round import Approval, Override, RoundKind
from towns.models.workflows import RoundStart, RoundView, workflow_id
from towns.worker import build_worker
from towns.workflows.round import RoundWorkflow

HERE = Path(__file__).parent / "histories"
CST = timezone(timedelta(hours=8))


async def record(name: str) -> Path:
    db = Path(tempfile.mkdtemp()) / "towns.db"
    engine = make_engine(f"sqlite:///{db}")
    prepare_database(engine)
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        with ThreadPoolExecutor(max_workers=4) as ex:
            async with build_worker(env.client, engine, "record", ex):
                owed_first = None
                if HAS_OWED_FROM:  # v5: registered on the 5th: the previous month's report is owed
                    now = (await env.get_current_time()).astimezone(CST)
                    y, m = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
                    fifth = datetime(y, m, 5, 9, 0, tzinfo=CST)
                    await env.sleep(fifth - now)
                    owed_first = previous_month(f"{y:04d}-{m:02d}")
                t = town(code="REC-1")
                await register_town(env.client, engine, t, "recorder", "record")
                await submit_report(
                    env.client,
                    report(
                        code="REC-1", period="2018-01", fai=1.0, industry_fai=0.8, nongov_fai=0.9, submission_id="r1"
                    ),
                )
                await submit_report(
                    env.client,
                    report(
                        code="REC-1", period="2018-02", fai=2.0, industry_fai=1.2, nongov_fai=1.9, submission_id="r2"
                    ),
                )
                await submit_report(
                    env.client,
                    report(
                        code="REC-1",
                        period="2018-02",
                        fai=2.5,
                        industry_fai=2.0,
                        nongov_fai=2.1,
                        correction=True,
                        submission_id="r3",
                    ),
                )
                await submit_report(
                    env.client,
                    report(
                        code="REC-1",
                        period="2018-12",
                        fai=20.0,
                        industry_fai=16.0,
                        nongov_fai=18.0,
                        tax=1.5,
                        submission_id="r4",
                    ),
                )
                if HAS_BATCHES:  # v4: a file's rows in one Update — accepted, unchanged, rejected
                    await submit_batch(
                        env.client,
                        ReportBatch(
                            code="REC-1",
                            rows=[
                                ReportRow(
                                    row="2",
                                    submission=report(
                                        code="REC-1",
                                        period="2018-03",
                                        fai=3.0,
                                        industry_fai=2.4,
                                        nongov_fai=2.5,
                                        submission_id="b2",
                                    ),
                                ),
                                ReportRow(
                                    row="3",
                                    submission=report(
                                        code="REC-1",
                                        period="2018-01",
                                        fai=1.0,
                                        industry_fai=0.8,
                                        nongov_fai=0.9,
                                        submission_id="b3",
                                    ),
                                ),
                                ReportRow(
                                    row="4",
                                    raw={"fai": "0.5"},
                                    submission=report(
                                        code="REC-1",
                                        period="2018-04",
                                        fai=0.5,
                                        industry_fai=0.4,
                                        nongov_fai=0.4,
                                        submission_id="b4",
                                    ),
                                ),
                            ],
                        ),
                        update_id="batch-1",
                    )
                if owed_first is not None:  # v5: its due date passes (overdue), then it arrives late
                    await env.sleep(
                        report_deadline(owed_first, 10) + timedelta(hours=1) - (await env.get_current_time())
                    )
                    await submit_report(
                        env.client,
                        report(
                            code="REC-1",
                            period=owed_first,
                            fai=1.0,
                            industry_fai=0.8,
                            nongov_fai=0.9,
                            submission_id="late-1",
                        ),
                    )
                handle = await env.client.start_workflow(
                    RoundWorkflow.run,
                    RoundStart(kind=RoundKind.annual, year=2018, city_tax_growth=0.0),
                    id="round-2018-annual",
                    task_queue="record",
                )
                await handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView)
                await handle.execute_update(
                    RoundWorkflow.approve,
                    Approval(
                        by="recorder", overrides=[Override(code="REC-1", grade="pass", reason="recorded override")]
                    ),
                    result_type=RoundView,
                )
                await handle.result()
                town_history = await env.client.get_workflow_handle(workflow_id("REC-1")).fetch_history()
                round_history = await handle.fetch_history()
    (HERE / f"town-{name}.json").write_text(town_history.to_json())
    (HERE / f"round-{name}.json").write_text(round_history.to_json())
    return HERE


if __name__ == "__main__":
    print(asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else "vN")))
