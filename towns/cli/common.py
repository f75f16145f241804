"""Shared helpers for the CLI commands: the home's settings, its database, its Temporal.

Commands that only read use ``settings()`` and ``engine(s)``: the database of the home's
running server, else the home's own (``DATABASE_URL`` or ``towns.db``), and never one
that does not exist yet. Commands that send work or write use ``client_for(s)`` /
``require_server(s)``: they need the home's running server (or an explicit remote set-up),
and are refused at once, saying why, without one (see ``towns.config``).

The CLI starts fast (``towns --help`` in a fraction of a second): the modules of ``towns.cli``
import only typer, rich, the standard library and ``towns.config`` at their top; the database
layer (SQLModel/SQLAlchemy), Temporal, openpyxl and the rules are imported by the commands that
use them (``tests/cli/test_startup.py`` checks it). What an option's declaration needs (its type,
its default) must therefore be light: hence ``DEFAULT_PACK`` here, and the round kinds of
``towns.cli.rounds``.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from rich.console import Console

from ..config import ConfigError, Settings, load_settings, no_server_message

if TYPE_CHECKING:  # for annotations; the database and Temporal are imported where they are used
    from sqlalchemy.engine import Engine
    from temporalio.client import Client

T = TypeVar("T")
P = ParamSpec("P")

DEFAULT_PACK = "sx2018"
"""``towns.models.finding.DEFAULT_PACK`` (the default of the ``--pack`` options), without importing the
models for it; ``tests/cli/test_startup.py`` checks that the two agree."""

console = Console(soft_wrap=True)  # long lines stay whole (grep-able, copy-able)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    return load_settings()


def engine(s: Settings) -> Engine:
    """The home's database; ConfigError (not an empty new database) when there is none yet."""
    from ..models.engine import engine_for, has_schema, sqlite_path

    path = sqlite_path(s.database_url)
    if path is not None and not path.exists():
        raise ConfigError(
            f"there is no database yet at {path}: start `towns server` once for this home "
            f"({s.home}), or set TOWNS_HOME to the home you mean.\n"
            f"{path} 尚无数据库：请先为该目录运行一次 towns server，或检查 TOWNS_HOME。"
        )
    eng = engine_for(s.database_url)
    if not has_schema(eng):
        raise ConfigError(
            f"the database {s.database_url} has no towns tables yet: start `towns server` once "
            "with it. 数据库中还没有 towns 的表：请先运行一次 towns server。"
        )
    return eng


def collector_paused(command: Callable[P, T]) -> Callable[P, T]:
    """A short read run with Python's cyclic garbage collector paused.

    Such a command imports the database layer and the models (SQLAlchemy, SQLModel, pydantic), reads,
    prints and exits. The imports build tens of thousands of objects, nearly all of which live as long
    as the process, and the collector would traverse them again and again while they are built (about
    15 % of `towns status CODE`'s time) for little to free. Reference counting still frees memory
    meanwhile; only cycles wait for the collector.

    When the command returns, what it built is moved into the collector's oldest generation without a
    traversal (``gc.freeze`` then ``gc.unfreeze``; nothing in towns freezes objects otherwise), where
    the next full collection looks at it, cycles included, and the collector resumes. Resumed as it
    was, it would first traverse everything built meanwhile, in the command's last steps."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        if not gc.isenabled():  # paused already (a command calling another)
            return command(*args, **kwargs)
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            gc.freeze()
            gc.unfreeze()
            gc.enable()

    return run


def require_server(s: Settings) -> Settings:
    """The settings of a command that writes: the home's running server (waiting, bounded, for one that
    is starting) or an explicit remote set-up; ConfigError otherwise."""
    if s.server is None and not s.remote:
        raise ConfigError(no_server_message(s))
    if s.server is not None and s.server.state != "ready":
        wait = float(os.environ.get("TOWNS_CONNECT_WAIT", "30"))
        end = time.monotonic() + wait
        while time.monotonic() < end:
            time.sleep(0.25)
            s = load_settings()
            if s.server is None:
                raise ConfigError(no_server_message(s))
            if s.server.state == "ready":
                break
        else:
            raise ConfigError(
                f"the towns server of {s.home} is still starting after {wait:.0f} s; "
                f"see {s.home / 'temporal.log'}. 服务仍在启动中。"
            )
    return s


async def client_for(s: Settings) -> Client:
    """A Temporal client for the home's running server (see ``require_server``)."""
    from temporalio.service import RPCError

    from ..temporal import connect, quiet_core_logs

    quiet_core_logs()  # before the first connection: the core's log lines go to stderr, not stdout

    s = require_server(s)
    try:
        return await connect(s)
    except (RPCError, RuntimeError, OSError) as exc:
        raise ConfigError(
            f"cannot reach Temporal at {s.temporal_address} ({str(exc).splitlines()[0][:200]}). "
            + (
                "Is the towns server of this home still running? `towns server` starts it."
                if s.server
                else "Check TEMPORAL_ADDRESS."
            )
            + f"\n无法连接 Temporal（{s.temporal_address}）：请确认 towns server 正在运行。"
        ) from None


async def ensure_worker(client: Client, s: Settings) -> None:
    """Refuse to send work when no worker of THIS database polls the task queue.

    Updates to a queue nobody polls wait forever; work taken by a worker of another
    database would split the system in two. A worker's identity carries the installation
    id of its database (``towns.worker``)."""
    import asyncio

    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    from ..models.db import installation_id

    mine = installation_id(engine(s))
    if mine is None:
        raise ConfigError(
            f"the database {s.database_url} has no installation id: start `towns server` (or "
            "`python worker.py`) with it once. 数据库缺少安装标识：请先运行 towns server。"
        )
    tag = f"towns:{mine[:12]}:"
    identities: list[str] = []
    for _ in range(30):  # a worker that has just started may not have polled yet
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=s.namespace,
                task_queue=TaskQueue(name=s.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        identities = [p.identity for p in resp.pollers]
        if any(i.startswith(tag) for i in identities):
            return
        if identities:  # workers are polling, none of them ours: no need to wait for them
            break
        await asyncio.sleep(0.3)
    if identities:
        raise ConfigError(
            f"the towns workers on task queue '{s.task_queue}' at {s.temporal_address} write to another "
            f"database ({', '.join(sorted(set(identities)))}), not to {s.database_url} (installation {mine[:12]}): "
            "sending work there would split your data between two databases. Check TOWNS_HOME, DATABASE_URL "
            "and TEMPORAL_ADDRESS.\n该任务队列上的 worker 使用的是另一个数据库，已拒绝，以免数据分散到两个库。"
        )
    raise ConfigError(
        f"no towns worker is running on task queue '{s.task_queue}' at {s.temporal_address}; "
        "start `towns server` (or `python worker.py`) first. 请先启动 towns server。"
    )


def run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)


def default_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def cli_author(by: str | None) -> str:
    """Who a command-line write is recorded as: the operating-system user (role ``os-user``); a
    ``--by`` naming someone else is kept beside it, never instead of it."""
    me = default_user()
    return me if not by or by == me else f"{by} (via OS user {me})"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def mark(passed: bool) -> str:
    return "[green]✓ pass 达标[/]" if passed else "[red]✗ fail 未达标[/]"
