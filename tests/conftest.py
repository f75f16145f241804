"""Shared fixtures: both databases, the time-skipping Temporal server, a worker per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import pytest_asyncio
from sqlalchemy import MetaData, create_engine, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from towns.config import venv_binary
from towns.models.db import make_engine, prepare_database
from towns.temporal import quiet_core_logs
from towns.worker import build_worker

PG_ADMIN_URL = os.environ.get("TOWNS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

quiet_core_logs()  # the Temporal core's warnings through logging (stderr), as the CLI has them
# every workflow of the suite runs in Temporal's sandbox (in-process workers and the servers and workers the
# tests start as processes): a clock, randomness or I/O in workflow code fails the tests; production
# workers run unsandboxed (towns.worker's docstring says why)
os.environ["TOWNS_WORKFLOW_SANDBOX"] = "1"


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory):
    """No test touches the user's own towns home (~/.local/share/towns) or a server of theirs."""
    saved = {k: os.environ.get(k) for k in ("TOWNS_HOME", "DATABASE_URL", "TEMPORAL_ADDRESS")}
    os.environ["TOWNS_HOME"] = str(tmp_path_factory.mktemp("towns-home"))
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("TEMPORAL_ADDRESS", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    with fresh_pg_database("towns_test") as url:
        yield url
        from towns.models.db import engine_for

        engine_for.cache_clear()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "storage: where the database itself is the point (the ledger, concurrency, "
        "migrations, raw rows): run on SQLite and on PostgreSQL; every other test runs once, on "
        "SQLite",
    )


def pytest_generate_tests(metafunc):
    """``db_url`` (and so ``engine``): both databases for tests marked ``storage``, SQLite for the rest."""
    if "db_url" in metafunc.fixturenames:
        kinds = ["sqlite", "postgresql"] if metafunc.definition.get_closest_marker("storage") else ["sqlite"]
        metafunc.parametrize("db_url", kinds, indirect=True)


@pytest.fixture
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'towns.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url):
    """An empty database brought to the newest revision by the migrations (as `towns server` does).

    Everything is dropped first, alembic_version and the ledger trigger's function included: the
    PostgreSQL database is shared by the session (SQLite gets a new file per test)."""
    eng = make_engine(db_url)
    if eng.dialect.name == "postgresql":
        with eng.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    else:
        everything = MetaData()
        everything.reflect(eng)
        everything.drop_all(eng)
    prepare_database(eng)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture(scope="session")
async def env():
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    ) as e:
        yield e


@pytest_asyncio.fixture
async def own_env():
    """A time-skipping server of the test's own, for tests that move time forward.

    On the shared server, workflows left by earlier tests (whose workers are gone) hold
    tasks that never complete, and the test server will not skip time past pending work.
    """
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=venv_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    ) as e:
        yield e


@pytest.fixture(scope="session")
def executor():
    with ThreadPoolExecutor(max_workers=16) as ex:
        yield ex


@pytest_asyncio.fixture
async def worker(env, engine, executor):
    """A worker on its own task queue; yields the task queue name."""
    queue = f"towns-test-{uuid.uuid4().hex[:8]}"
    async with build_worker(env.client, engine, queue, executor):
        yield queue


@pytest_asyncio.fixture
async def own_worker(own_env, engine, executor):
    queue = f"towns-test-{uuid.uuid4().hex[:8]}"
    async with build_worker(own_env.client, engine, queue, executor):
        yield queue


@pytest.fixture
def office(env, engine, worker):
    """An office driving towns and rounds on the shared time-skipping server."""
    from tests.office import Office

    return Office(env, engine, worker)


@pytest.fixture
def office_alone(own_env, engine, own_worker):
    """An office on a time-skipping server of its own (for tests that move time)."""
    from tests.office import Office

    return Office(own_env, engine, own_worker)
