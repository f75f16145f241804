"""The towns worker as `python worker.py` runs it, with faults to order, for the fault tests.

    TEMPORAL_ADDRESS=… DATABASE_URL=… TOWNS_FAULT_DIR=/tmp/x \\
    TOWNS_FAULT_PAUSE=evaluate_round_batch:before,apply_round_batch:after python -m tests.faults.worker

For each ``activity:when`` in TOWNS_FAULT_PAUSE, the first attempt of that activity writes
``$TOWNS_FAULT_DIR/<activity>.<when>`` and then waits (before the work, or after it and
before answering) for TOWNS_FAULT_PAUSE_SECONDS (default a minute: long enough for the test to kill
the process there; a few seconds to let something happen to the world meanwhile).
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from towns.config import load_settings
from towns.models.db import engine_for, prepare_database
from towns.temporal import connect, quiet_core_logs
from towns.worker import build_worker

PAUSES = {tuple(p.split(":", 1)) for p in os.environ.get("TOWNS_FAULT_PAUSE", "").split(",") if ":" in p}
MARKS = Path(os.environ.get("TOWNS_FAULT_DIR", "."))
PAUSE = float(os.environ.get("TOWNS_FAULT_PAUSE_SECONDS", "60"))


class _Pause(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        name = info.activity_type
        first = info.attempt == 1
        if first and (name, "before") in PAUSES:
            (MARKS / f"{name}.before").write_text(str(os.getpid()))
            await asyncio.sleep(PAUSE)
        result = await super().execute_activity(input)
        if first and (name, "after") in PAUSES:
            (MARKS / f"{name}.after").write_text(str(os.getpid()))
            await asyncio.sleep(PAUSE)
        return result


class Pauses(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Pause(next)


async def main() -> None:
    quiet_core_logs("WARN")
    settings = load_settings()
    client = await connect(settings)
    engine = engine_for(settings.database_url)
    prepare_database(engine)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, engine, settings.task_queue, executor, interceptors=[Pauses()])
        print("worker ready", flush=True)
        await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
