"""One bench worker process: the towns worker, as ``python worker.py`` runs it, plus the no-op
workflow and activity of ``bench/noop.py`` on the same task queue.

    TEMPORAL_ADDRESS=127.0.0.1:7233 DATABASE_URL=sqlite:///… TOWNS_HOME=/tmp/x python bench/worker.py

The worker is ``towns.worker.build_worker`` (the production options and identity, so the CLI's
``ensure_worker`` accepts it); the no-op parts come in through a plugin on the client
(``noop.plugin()``). It prints ``worker ready`` once polling starts and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import noop
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

import towns.worker
from towns.config import load_settings
from towns.models.db import engine_for, prepare_database
from towns.temporal import quiet_core_logs
from towns.worker import build_worker


async def main() -> None:
    settings = load_settings()
    if not settings.temporal_address:
        raise SystemExit("set TEMPORAL_ADDRESS and DATABASE_URL")
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=pydantic_data_converter,
        plugins=[noop.plugin()],
    )
    engine = engine_for(settings.database_url)
    prepare_database(engine)
    # as towns.worker.run_worker: sized by the environment (TOWNS_MAX_CONCURRENT_ACTIVITIES …) where the
    # worker has such a tuning, else its fixed 16 threads
    tuning_cls = getattr(towns.worker, "WorkerTuning", None)
    tuning = tuning_cls.from_env() if tuning_cls is not None else None
    threads = tuning.max_concurrent_activities if tuning is not None else 16
    extra = {"tuning": tuning} if tuning is not None else {}
    with ThreadPoolExecutor(max_workers=threads) as executor:
        worker = build_worker(client, engine, settings.task_queue, executor, **extra)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(worker.shutdown()))
        print(f"worker ready pid {os.getpid()} queue {settings.task_queue} {tuning or ''}", flush=True)
        await worker.run()


if __name__ == "__main__":
    quiet_core_logs("WARN")
    code = 0
    try:
        asyncio.run(main())
    except BaseException as exc:  # reported; then the exit below
        print(f"worker failed: {exc!r}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the Temporal core's threads can crash a normal interpreter exit
