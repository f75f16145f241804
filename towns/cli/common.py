"""Shared helpers for the CLI commands."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from temporalio.service import RPCError

from ..config import Settings, load_settings
from ..models.db import engine_for
from ..temporal import connect

console = Console(soft_wrap=True)  # long lines stay whole (grep-able, copy-able)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    return load_settings()


def engine(s: Settings):
    return engine_for(s.database_url)


async def client_for(s: Settings):
    """Connect, waiting a little for a server that is still starting (`towns server &` then a command).

    TOWNS_CONNECT_WAIT (seconds, default 15) bounds the wait.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + float(os.environ.get("TOWNS_CONNECT_WAIT", "15"))
    while True:
        try:
            return await connect(s)
        except (RPCError, RuntimeError, OSError) as exc:
            if loop.time() >= deadline:
                err.print(f"[red]cannot reach Temporal at {s.temporal_address}[/]: {exc}\n"
                          "Start it with `towns server` (same TOWNS_HOME) or set TEMPORAL_ADDRESS. "
                          "无法连接 Temporal：请先运行 towns server。")
                raise typer.Exit(2)
            await asyncio.sleep(0.5)
            s = load_settings()  # the server may have written server.json meanwhile


async def ensure_worker(client, s: Settings) -> None:
    """Refuse to send work when no worker polls the task queue: updates would wait forever."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    for attempt in range(30):  # a worker that has just started may not have polled yet
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=s.namespace, task_queue=TaskQueue(name=s.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
        if resp.pollers:
            return
        await asyncio.sleep(0.3)
    if not resp.pollers:
        err.print(f"[red]no towns worker is running on task queue '{s.task_queue}' at {s.temporal_address}[/]; "
                  "start `towns server` (or `python worker.py`) first. 请先启动 towns server。")
        raise typer.Exit(2)


def run(coro):
    return asyncio.run(coro)


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def mark(passed: bool) -> str:
    return "[green]✓ pass 达标[/]" if passed else "[red]✗ fail 未达标[/]"
