"""`towns server`: the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set) and a worker.

State lives in $TOWNS_HOME/temporal.db, so workflows survive a restart. The address is
written to $TOWNS_HOME/server.json so the other CLI commands find this server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Awaitable, Callable, Optional

from rich.console import Console
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from .config import Settings, venv_binary
from .models.db import engine_for
from .models.town import Town
from .temporal import connect
from .worker import build_worker


def home_is_empty(settings: Settings) -> bool:
    with Session(engine_for(settings.database_url)) as s:
        return s.exec(select(Town.code).limit(1)).first() is None


async def serve(settings: Settings, port: int, ui_port: Optional[int], console: Console,
                on_ready: Optional[Callable[[Client, Settings], Awaitable[None]]] = None) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with AsyncExitStack() as stack:
        if os.environ.get("TEMPORAL_ADDRESS"):
            client = await connect(settings)
            ui = None
            console.print(f"Temporal: {settings.temporal_address} (TEMPORAL_ADDRESS)")
        else:
            ui_port = ui_port or port + 1000
            console.print(f"starting the embedded Temporal dev server on 127.0.0.1:{port} "
                          f"(state in {settings.home / 'temporal.db'}) …")
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=venv_binary("temporal"),
                ip="127.0.0.1", port=port, ui=True, ui_port=ui_port,
                dev_server_database_filename=str(settings.home / "temporal.db"),
                data_converter=pydantic_data_converter,
                dev_server_log_level="error",
            )
            await stack.enter_async_context(env)
            client = env.client
            ui = f"http://127.0.0.1:{ui_port}"
            settings = Settings(home=settings.home, database_url=settings.database_url,
                                temporal_address=f"127.0.0.1:{port}")
        settings.server_file.write_text(json.dumps(
            {"temporal_address": settings.temporal_address, "ui": ui, "pid": os.getpid(),
             "database_url": settings.database_url}, indent=2))
        stack.callback(lambda: settings.server_file.unlink(missing_ok=True))
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=16))
        worker = build_worker(client, engine_for(settings.database_url), settings.task_queue, executor)
        await stack.enter_async_context(worker)
        from .rules.pack import load_pack
        from .schedule import SCHEDULE_ID, ensure_schedule

        made = await ensure_schedule(client, settings.task_queue, int(load_pack().value("bulletin_day")))
        console.print(f"schedule {SCHEDULE_ID}: {made} (quarterly bulletin 季度通报)")
        console.print(f"[green]towns server ready[/] — Temporal {settings.temporal_address}"
                      + (f", UI [link={ui}]{ui}[/link]" if ui else "")
                      + f", database {settings.database_url}")
        if on_ready is not None:
            await on_ready(client, settings)
        console.print("Ctrl-C stops the server and the worker. 按 Ctrl-C 停止。")
        await stop.wait()
        console.print("stopping …")
