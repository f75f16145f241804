"""The towns worker: every workflow and activity on the ``towns`` task queue.

``python worker.py`` (or ``python -m towns.worker``) runs a worker alone against
``TEMPORAL_ADDRESS`` and ``DATABASE_URL`` — what a production container runs; start more of
them (``docker compose up --scale worker=N``) and they share the task queue. ``towns server``
runs the same worker beside the embedded dev server.

A worker alone is sized by the environment (``WorkerTuning.from_env``; unset: the defaults
``towns server`` uses):

- ``TOWNS_MAX_CONCURRENT_ACTIVITIES`` (16): activities at once, and the threads that run them;
- ``TOWNS_MAX_CONCURRENT_WORKFLOW_TASKS`` (16): workflow tasks at once;
- ``TOWNS_MAX_CACHED_WORKFLOWS`` (5000): workflows kept in memory between tasks;
- ``TOWNS_WORKFLOW_POLLERS`` and ``TOWNS_ACTIVITY_POLLERS`` (5 each): long polls on the task queue;
- ``TOWNS_WORKFLOW_SANDBOX`` (0): 1 runs the workflows in Temporal's sandbox (see below).

**The sandbox.** Temporal's Python sandbox re-imports a workflow's module for every workflow it
runs and enters it for every payload it converts (SDK 1.35: an ``exec`` per payload, for its
serialization context). Measured on a town's monthly report, that was 3.5–4 ms of the worker's
12–13 ms of Temporal work per report, and about half of a new town's first workflow task. What the
sandbox guards — no clock, randomness or I/O in workflow code — is guarded before a build ships:
``.importlinter`` keeps ``towns.workflows`` to the pure modules, the test suite runs every
workflow in the sandbox (``tests/conftest.py`` sets ``TOWNS_WORKFLOW_SANDBOX=1``), and the replay
test replays every recorded history under both runners. So production workers run the workflows
unsandboxed by default; set ``TOWNS_WORKFLOW_SANDBOX=1`` to run them as the tests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Interceptor, PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from .activities.bulletins import Bulletins
from .activities.reports import Reports
from .activities.rounds import Rounds
from .config import ConfigError, Settings, load_settings, shown_url
from .models.db import engine_for, installation_id, prepare_database
from .temporal import connect
from .workflows.bulletin import BulletinWorkflow
from .workflows.round import RoundWorkflow
from .workflows.town import TownWorkflow

WORKFLOWS = [TownWorkflow, RoundWorkflow, BulletinWorkflow]


@dataclass(frozen=True)
class WorkerTuning:
    """How much one worker process takes on at once (see the module's docstring)."""

    max_concurrent_activities: int = 16
    # workflow code is Python on one core: more tasks at once than this only queue inside the process
    # (600 towns, SDK default 100 → 16: apply 55 → 63 towns/s, reports 22 → 25/s, proposals 2.7 → 2.4 s)
    max_concurrent_workflow_tasks: int | None = 16
    # one cached workflow per live town keeps update latency flat (see DESIGN.md)
    max_cached_workflows: int = 5000
    workflow_pollers: int = 5
    activity_pollers: int = 5
    # the guard of the test suite, not of production: see the module's docstring
    sandboxed: bool = False

    ENV: ClassVar[dict[str, str]] = {
        "max_concurrent_activities": "TOWNS_MAX_CONCURRENT_ACTIVITIES",
        "max_concurrent_workflow_tasks": "TOWNS_MAX_CONCURRENT_WORKFLOW_TASKS",
        "max_cached_workflows": "TOWNS_MAX_CACHED_WORKFLOWS",
        "workflow_pollers": "TOWNS_WORKFLOW_POLLERS",
        "activity_pollers": "TOWNS_ACTIVITY_POLLERS",
        "sandboxed": "TOWNS_WORKFLOW_SANDBOX",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerTuning:
        """The tuning the environment gives (unset or empty: the default); ConfigError for a value
        that is not a whole number of at least 1 (0 for the cache)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field, name in cls.ENV.items():
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            if field == "sandboxed":
                if raw not in ("0", "1"):
                    raise ConfigError(f"{name} is {raw!r}: give 1 (sandboxed) or 0. {name} 须为 1（沙箱）或 0。")
                values[field] = raw == "1"
                continue
            least = 0 if field == "max_cached_workflows" else 1
            try:
                value = int(raw)
                if value < least:
                    raise ValueError
            except ValueError:
                raise ConfigError(
                    f"{name} is {raw!r}: give a whole number of at least {least}. {name} 须为不小于 {least} 的整数。"
                ) from None
            values[field] = value
        return cls(**values)


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
    tuning: WorkerTuning | None = None,
) -> Worker:
    """The worker; ``executor`` needs at least ``tuning.max_concurrent_activities`` threads
    (``tuning``: from the environment when not given)."""
    tuning = WorkerTuning.from_env() if tuning is None else tuning
    return Worker(
        client,
        task_queue=task_queue,
        identity=worker_identity(engine),
        interceptors=interceptors,
        workflows=WORKFLOWS,
        workflow_runner=SandboxedWorkflowRunner() if tuning.sandboxed else UnsandboxedWorkflowRunner(),
        activities=activities_for(engine, client),
        activity_executor=executor,
        max_concurrent_activities=tuning.max_concurrent_activities,
        max_concurrent_workflow_tasks=tuning.max_concurrent_workflow_tasks,
        max_cached_workflows=tuning.max_cached_workflows,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=tuning.workflow_pollers),
        activity_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=tuning.activity_pollers),
    )


async def run_worker(settings: Settings, tuning: WorkerTuning = WorkerTuning()) -> None:
    """Run until SIGTERM or SIGINT (``docker stop``, Ctrl-C), then stop polling and shut down; an
    activity cut short is retried, by another worker if this one does not come back."""
    client = await connect(settings)
    engine = engine_for(settings.database_url)
    prepare_database(engine)
    with ThreadPoolExecutor(max_workers=tuning.max_concurrent_activities) as executor:
        worker = build_worker(client, engine, settings.task_queue, executor, tuning=tuning)
        stopping: list[asyncio.Future[None]] = []

        def stop() -> None:
            if not stopping:
                stopping.append(asyncio.ensure_future(worker.shutdown()))

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop)
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
        tuning = WorkerTuning.from_env()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"towns worker on {settings.temporal_address}, task queue {settings.task_queue}, "
        f"database {shown_url(settings.database_url)}; {tuning}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings, tuning))


if __name__ == "__main__":
    main()
