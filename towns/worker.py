"""The towns worker: every workflow and activity on the ``towns`` task queue.

``python worker.py`` (or ``python -m towns.worker``) runs a worker alone against
``TEMPORAL_ADDRESS`` — what a production container runs. ``towns server`` runs the same
worker beside the embedded dev server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from .activities.bulletins import Bulletins
from .activities.reports import Reports
from .activities.rounds import Rounds
from .config import ConfigError, Settings, load_settings
from .models.db import engine_for, installation_id, prepare_database
from .temporal import connect
from .workflows.bulletin import BulletinWorkflow
from .workflows.round import RoundWorkflow
from .workflows.town import TownWorkflow

WORKFLOWS = [TownWorkflow, RoundWorkflow, BulletinWorkflow]


def activities_for(engine: Engine, client: Client | None = None) -> list[Callable[..., Any]]:
    """Every activity of the implementations, found on the classes themselves (the methods declared
    in ``towns.models.activities`` and implemented in ``towns.activities``)."""
    return [
        method
        for impl in (Reports(engine), Rounds(engine, client), Bulletins(engine))
        for method in activity_methods(impl)
    ]


def activity_methods(impl: object) -> list[Callable[..., Any]]:
    """The bound methods of ``impl`` that are Temporal activities (decorated with ``activity.defn``);
    TypeError when a declared activity is left unimplemented (its declaration would run instead)."""
    found = []
    for name in dir(type(impl)):
        attr = getattr(impl, name)
        if name.startswith("__") or not hasattr(attr, "__temporal_activity_definition"):
            continue
        owner = next(c for c in type(impl).__mro__ if name in vars(c))
        if owner.__module__ == "towns.models.activities":
            raise TypeError(f"{type(impl).__name__} does not implement the activity {name}")
        found.append(attr)
    return found


def worker_identity(engine: Engine) -> str:
    """``towns:<installation>:<host>:<pid>`` — commands check that the workers they send work to write to
    their database (``cli.common.ensure_worker``)."""
    return f"towns:{(installation_id(engine, create=True) or '?')[:12]}:{socket.gethostname()}:{os.getpid()}"


def build_worker(
    client: Client,
    engine: Engine,
    task_queue: str,
    executor: ThreadPoolExecutor,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        identity=worker_identity(engine),
        interceptors=interceptors,
        workflows=WORKFLOWS,
        activities=activities_for(engine, client),
        activity_executor=executor,
        max_concurrent_activities=16,
        # one cached workflow per live town keeps update latency flat (see DESIGN.md)
        max_cached_workflows=5000,
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings)
    engine = engine_for(settings.database_url)
    prepare_database(engine)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, engine, settings.task_queue, executor)
        await worker.run()


def main() -> None:
    from .temporal import quiet_core_logs

    quiet_core_logs("WARN")
    try:
        settings = load_settings()
        if not settings.temporal_address:
            raise ConfigError(
                "set TEMPORAL_ADDRESS (and DATABASE_URL) for a worker alone, or run `towns server`. "
                "请设置 TEMPORAL_ADDRESS 和 DATABASE_URL。"
            )
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"towns worker on {settings.temporal_address}, task queue {settings.task_queue}, database {settings.database_url}"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
