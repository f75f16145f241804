"""`towns round approve` whose server dies while the decisions are being applied says whether the
approval was recorded — no traceback."""

import asyncio
import os
import subprocess

from tests.cli.conftest import TOWNS
from tests.faults.conftest import TASK_QUEUE, client_of, prepared, until
from tests.faults.test_worker_killed import load
from towns.models.round import RoundKind
from towns.models.workflows import RoundStart, RoundView
from towns.workflows.round import RoundWorkflow


async def test_approve_interrupted_by_the_server_says_it_was_recorded(temporal, workers, tmp_path):
    url = f"sqlite:///{tmp_path / 'towns.db'}"
    engine = prepared(url)
    pool = workers(url)
    pool.start(pauses="apply_round_batch:before")
    client = await client_of(temporal)
    await load(client, engine, "APR", n=3)
    rid = "round-2017-annual"
    handle = await client.start_workflow(
        RoundWorkflow.run,
        RoundStart(kind=RoundKind.annual, year=2017, city_tax_growth=0.0),
        id=rid,
        task_queue=TASK_QUEUE,
    )
    await asyncio.wait_for(handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView), 60)

    env = {
        **os.environ,
        "TOWNS_HOME": str(tmp_path / "cli-home"),
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": temporal.address,
        "COLUMNS": "200",
    }
    approving = subprocess.Popen(
        [*TOWNS, "round", "approve", rid, "--by", "王主任"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    await until(lambda: (tmp_path / "apply_round_batch.before").exists(), 60, "the apply about to start")
    await temporal.stop()  # the server dies while the approval waits for its decisions
    _out, errs = approving.communicate(timeout=180)
    assert "Traceback" not in errs, errs
    assert "the server went away" in errs and "your approval was recorded" in errs, errs
    assert "round-2017-annual approved by 王主任" in errs


async def test_an_import_whose_server_never_comes_back_says_which_rows_are_unanswered(temporal, workers, tmp_path):
    import json

    from sqlalchemy import func
    from sqlmodel import Session, select

    from towns.models.rejection import Rejection

    url = f"sqlite:///{tmp_path / 'towns.db'}"
    engine = prepared(url)
    pool = workers(url)
    pool.start(pauses="take_reports:before")
    client = await client_of(temporal)
    codes = await _towns_only(client, engine)
    (tmp_path / "r.csv").write_text(
        "code,period,fai,industry_fai,nongov_fai\n"
        + "".join(f"{c},2018-01,1,0.8,0.9\n" for c in codes)
        + "NOPE,2018-01,1,0.8,0.9\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "TOWNS_HOME": str(tmp_path / "cli-home"),
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": temporal.address,
        "TOWNS_RETRY_WAIT": "3",
    }
    importing = subprocess.Popen(
        [*TOWNS, "import", "reports", str(tmp_path / "r.csv"), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    await until(lambda: (tmp_path / "take_reports.before").exists(), 60, "a town taking its rows")
    await temporal.stop()
    out, errs = importing.communicate(timeout=180)
    assert importing.returncode == 1, errs
    result = json.loads(out)
    statuses = [r["status"] for r in result["rows"]]
    assert statuses.count("rejected") == 1 and statuses.count("unanswered") == len(codes)
    assert result["unanswered"] == len(codes)
    with Session(engine) as s:  # only the unknown town's row is quarantined: the others may yet be taken
        assert s.exec(select(func.count()).select_from(Rejection)).one() == 1


async def _towns_only(client, engine) -> list[str]:
    from towns.intake.service import register_town
    from towns.models.town import TownProfile

    codes = [f"UNA-{i}" for i in range(3)]
    for c in codes:
        await register_town(
            client,
            engine,
            TownProfile(
                code=c, name="镇", district="keqiao", tier="provincial_creation", industry="fashion", listed_year=2016
            ),
            "fault-test",
            TASK_QUEUE,
        )
    return codes
