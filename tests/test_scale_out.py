"""Scaling out: two worker processes on one task queue share an annual round's batches.

What `docker compose up --scale worker=2` does, on this machine: one Temporal dev server, one
PostgreSQL database, two ``python -m towns.worker`` processes given only ``TEMPORAL_ADDRESS`` and
``DATABASE_URL`` (as their containers are). Enough towns for three evaluation batches; the round's
history then shows batches taken by both workers (an ``ActivityTaskStarted`` event carries the
identity of the worker that ran the attempt).

Each worker runs at most two activities at once (``TOWNS_MAX_CONCURRENT_ACTIVITIES=2``): three
batches scheduled together cannot all be taken by one of them at once: the one it has no slot for
goes to the other, which is waiting for work.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from tests.conftest import fresh_pg_database
from tests.factories import town
from towns.config import NAMESPACE, TASK_QUEUE, venv_binary
from towns.intake.service import register_town
from towns.models.db import installation_id, make_engine, prepare_database
from towns.models.round import RoundKind
from towns.models.town import Town
from towns.models.workflows import RoundStart, RoundView
from towns.workflows.round import BATCH_SIZE, RoundWorkflow

ROOT = Path(__file__).resolve().parent.parent
TOWNS = 2 * BATCH_SIZE + 1  # three batches
WORKERS = 2
DEADLINE = 90.0  # seconds for the whole test, servers included; it takes far less


@pytest.fixture
def database_url():
    with fresh_pg_database("towns_scale") as url:
        yield url


def start_worker(n: int, address: str, database_url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    home = tmp_path / f"worker-{n}"
    home.mkdir()
    log = tmp_path / f"worker-{n}.log"
    env = {
        **os.environ,
        "TOWNS_HOME": str(home),  # a home with no server of its own, as in a container
        "TEMPORAL_ADDRESS": address,
        "DATABASE_URL": database_url,
        "TOWNS_MAX_CONCURRENT_ACTIVITIES": "2",
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "towns.worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return proc, log


async def activity_pollers(client: Client) -> set[str]:
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=NAMESPACE,
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return {p.identity for p in resp.pollers}


def logs(workers: list[tuple[subprocess.Popen[bytes], Path]]) -> str:
    return "\n".join(
        f"--- {log.name} (exit {p.poll()}):\n{log.read_text(errors='replace')[-3000:]}" for p, log in workers
    )


async def batch_identities(handle) -> list[str]:
    """The identity of the worker that ran each evaluate_round_batch activity of the round."""
    scheduled: dict[int, str] = {}
    identities: list[str] = []
    history = await handle.fetch_history()
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            if scheduled.get(attrs.scheduled_event_id) == "evaluate_round_batch":
                identities.append(attrs.identity)
    return identities


async def test_two_worker_processes_share_a_rounds_batches(database_url, tmp_path):
    started = time.monotonic()
    engine = make_engine(database_url)
    prepare_database(engine)  # the workers would, too (they take turns); done once here to read the id
    tag = f"towns:{(installation_id(engine) or '?')[:12]}:"
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=venv_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        ui=False,
    ) as env:
        address = env.client.service_client.config.target_host
        workers = [start_worker(n, address, database_url, tmp_path) for n in range(WORKERS)]
        try:
            # registered while the workers start (registering needs no worker)
            sem = asyncio.Semaphore(32)

            async def register(i: int) -> None:
                async with sem:
                    profile = town(code=f"S{i:04d}", name=f"规模 {i}", district=("keqiao", "zhuji", "shangyu")[i % 3])
                    await register_town(env.client, engine, profile, "scale-test", TASK_QUEUE)

            await asyncio.gather(*(register(i) for i in range(TOWNS)))
            with Session(engine) as s:
                assert s.exec(select(func.count()).select_from(Town)).one() == TOWNS

            pollers: set[str] = set()
            wait_until = time.monotonic() + 30
            while len(pollers) < WORKERS:
                assert all(p.poll() is None for p, _ in workers), f"a worker exited:\n{logs(workers)}"
                assert time.monotonic() < wait_until, f"workers not polling: {pollers}\n{logs(workers)}"
                await asyncio.sleep(0.2)
                pollers = await activity_pollers(env.client)
            assert all(i.startswith(tag) for i in pollers), pollers  # both write to this database

            handle = await env.client.start_workflow(
                RoundWorkflow.run,
                RoundStart(kind=RoundKind.annual, year=2017, city_tax_growth=0.05, started_by="scale-test"),
                id="round-2017-annual",
                task_queue=TASK_QUEUE,
            )
            view = await asyncio.wait_for(
                handle.execute_update(RoundWorkflow.proposals_ready, result_type=RoundView),
                DEADLINE - (time.monotonic() - started),
            )
            assert view.state == "proposed"
            assert len(view.proposals) == TOWNS

            identities = await batch_identities(handle)
            assert len(identities) == 3, identities  # 200 + 200 + 1
            assert set(identities) <= pollers, (identities, pollers)
            assert len(set(identities)) == WORKERS, f"one worker took every batch: {identities}"
        finally:
            for p, _ in workers:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)  # the worker stops polling and shuts down
            for p, _ in workers:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            engine.dispose()
    assert time.monotonic() - started < DEADLINE
