"""Real processes for the fault tests: a file-backed Temporal dev server, towns workers as
separate processes (killable), PostgreSQL or SQLite. Every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.cli.conftest import free_port
from tests.conftest import fresh_pg_database
from towns.config import venv_binary
from towns.devserver import DevServer
from towns.models.db import make_engine, prepare_database

TASK_QUEUE = "towns"


@pytest_asyncio.fixture
async def temporal(tmp_path):
    """A file-backed Temporal dev server of the test's own; its address."""
    server = DevServer(
        venv_binary("temporal"), tmp_path / "temporal.db", free_port(), free_port(), tmp_path / "temporal.log"
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def pg_database():
    """A fresh PostgreSQL database; its URL."""
    with fresh_pg_database("towns_fault") as url:
        yield url


def prepared(url: str):
    engine = make_engine(url)
    prepare_database(engine)
    return engine


async def client_of(server: DevServer) -> Client:
    return await Client.connect(server.address, data_converter=pydantic_data_converter)


class Workers:
    """Worker processes (``python -m tests.faults.worker``) that the test can kill."""

    def __init__(self, address: str, db_url: str, marks: Path, home: Path):
        self.address, self.db_url, self.marks, self.home = address, db_url, marks, home
        self.procs: list[subprocess.Popen] = []

    def start(self, pauses: str = "", pause_seconds: float = 60) -> subprocess.Popen:
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": self.address,
            "DATABASE_URL": self.db_url,
            "TOWNS_FAULT_DIR": str(self.marks),
            "TOWNS_FAULT_PAUSE": pauses,
            "TOWNS_HOME": str(self.home),
            "TOWNS_FAULT_PAUSE_SECONDS": str(pause_seconds),
        }
        log = self.marks / f"worker-{len(self.procs) + 1}.log"  # a file, not a pipe: a full pipe would stall it
        with open(log, "w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.worker"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
            )
        self.procs.append(proc)
        end = time.monotonic() + 60
        while "worker ready" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(f"the worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.fixture
def workers(temporal, tmp_path):
    def make(db_url: str) -> Workers:
        w = Workers(temporal.address, db_url, tmp_path, tmp_path / "home")
        made.append(w)
        return w

    made: list[Workers] = []
    yield make
    for w in made:
        w.stop_all()


async def until(predicate, timeout: float, what: str) -> float:
    """Poll an outside fact (a file, a row, a process) until it holds; seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.2)
    return time.monotonic() - started
