"""`towns server`: the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set) and a worker.

State lives in the home: ``temporal.db`` for Temporal, ``towns.db`` for the database (or
DATABASE_URL), ``temporal.log`` for the dev server's own log. The server holds
``server.lock`` while it runs and writes ``server.json`` (state, pid, Temporal address,
database URL) so that every other command of this home uses exactly its database and its
Temporal (see ``config``). It refuses to start when the home already has a running server
or a port is taken, and stops (exit 1) if its Temporal server dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path
from typing import IO

from rich.console import Console
from sqlmodel import Session, select
from temporalio.client import Client

from .config import ConfigError, ServerInfo, Settings, lock_file, server_file, venv_binary
from .devserver import DevServer, DevServerError
from .models.db import SchemaError, engine_for, prepare_database
from .models.town import Town
from .temporal import connect
from .worker import WorkerTuning, build_worker


def home_is_empty(settings: Settings) -> bool:
    with Session(engine_for(settings.database_url)) as s:
        return s.exec(select(Town.code).limit(1)).first() is None


def take_home_lock(home: Path) -> IO[str]:
    """Hold the home's lock for the server's lifetime; ConfigError if another server holds it."""
    fh = open(lock_file(home), "a+")  # noqa: SIM115 - held (locked) for the server's lifetime
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return fh
    for _ in range(20):  # a command probing the lock holds it shared for an instant
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except OSError:
            import time

            time.sleep(0.1)
    fh.close()
    other = ServerInfo.read(server_file(home))
    raise ConfigError(
        f"a towns server already runs for {home}"
        + (f" (pid {other.pid})" if other else "")
        + ": one home has one server. Use that one, or give this one another home "
        "(TOWNS_HOME=/path/to/other towns server --temporal-port 7300).\n"
        f"{home} 已有正在运行的 towns server；如需另起一个，请使用其他 TOWNS_HOME 和端口。"
    )


def write_server_file(settings: Settings, state: str, ui: str | None) -> None:
    path = server_file(settings.home)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps(
            {
                "state": state,
                "pid": os.getpid(),
                "temporal_address": settings.temporal_address,
                "ui": ui,
                "database_url": settings.database_url,
            },
            indent=2,
        )
    )
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o600)  # the database URL may carry a password
    os.replace(tmp, path)


async def serve(
    settings: Settings,
    port: int,
    ui_port: int | None,
    console: Console,
    on_ready: Callable[[Client, Settings], Awaitable[None]] | None = None,
    web_port: int = 0,
) -> int:
    """Run until Ctrl-C / SIGTERM (exit code 0) or until the embedded Temporal server dies (1);
    with ``web_port``, the web console and the REST API on 127.0.0.1 too."""
    settings.home.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tuning = (
        WorkerTuning.from_env()
    )  # as a worker alone (TOWNS_MAX_CONCURRENT_ACTIVITIES …); refused before anything starts
    lock = take_home_lock(settings.home)
    try:
        async with AsyncExitStack() as stack:
            stack.callback(lambda: server_file(settings.home).unlink(missing_ok=True))
            devserver: DevServer | None = None
            remote = os.environ.get("TEMPORAL_ADDRESS")
            if not remote:
                ui_port = ui_port or port + 1000
                devserver = DevServer(
                    venv_binary("temporal"),
                    settings.home / "temporal.db",
                    port,
                    ui_port,
                    settings.home / "temporal.log",
                )
                devserver.check_ports()  # before anything is written to the home
                # the embedded server's address, which server.json gives every other command
                settings = Settings(
                    home=settings.home, database_url=settings.database_url, temporal_address=f"127.0.0.1:{port}"
                )
            if web_port:
                from .web.serving import check_port

                check_port("127.0.0.1", web_port)
            write_server_file(settings, "starting", None)
            engine = engine_for(settings.database_url)
            installation = prepare_database(engine)
            if remote:
                client = await connect(settings)
                ui = None
                console.print(f"Temporal: {settings.temporal_address} (TEMPORAL_ADDRESS)")
            else:
                assert devserver is not None
                console.print(
                    f"starting the embedded Temporal dev server on 127.0.0.1:{port} "
                    f"(state in {settings.home / 'temporal.db'}) …"
                )
                stack.push_async_callback(devserver.stop)
                client = await devserver.start()
                ui = f"http://127.0.0.1:{ui_port}"
            executor = stack.enter_context(ThreadPoolExecutor(max_workers=tuning.max_concurrent_activities))
            worker = build_worker(client, engine, settings.task_queue, executor, tuning=tuning)
            await stack.enter_async_context(worker)
            web_url = None
            if web_port:
                from .web.app import create_app
                from .web.auth import secret_for
                from .web.serving import Web

                web = Web(
                    create_app(engine, client, settings.task_queue, secret_for(settings.home)), "127.0.0.1", web_port
                )
                await web.start()
                stack.push_async_callback(web.stop)
                web_url = f"http://127.0.0.1:{web_port}"
            write_server_file(settings, "ready", ui)
            from .rules.library import load_programme
            from .schedule import ensure_schedule, programmes_in_use, schedule_id

            for programme in programmes_in_use(engine):
                cal = load_programme(engine, programme).programme
                made = await ensure_schedule(
                    client,
                    settings.task_queue,
                    cal.bulletin_day,
                    programme,
                    tuple(cal.bulletin_months),
                    cal.calendar_clause,
                )
                console.print(f"schedule {schedule_id(programme)}: {made} (quarterly bulletin 季度通报, {programme})")
            console.print(
                f"[green]towns server ready[/] — home {settings.home}, Temporal {settings.temporal_address}"
                + (f", UI [link={ui}]{ui}[/link]" if ui else "")
                + f", database {settings.database_url} (installation {installation[:12]})"
                + (f", web console and API [link={web_url}]{web_url}[/link] (docs {web_url}/docs)" if web_url else "")
            )
            if on_ready is not None:
                await on_ready(client, settings)
            console.print("Ctrl-C stops the server and the worker. 按 Ctrl-C 停止。")
            waits: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
            if devserver is not None:
                waits.append(asyncio.ensure_future(devserver.wait()))
            _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
            if stop.is_set():
                console.print("stopping …")
                return 0
            # not stopped: the embedded server's exit ended the wait
            assert devserver is not None and devserver.process is not None
            console.print(
                f"[red]the embedded Temporal server stopped (exit code {devserver.process.returncode})"
                f"[/]; see {settings.home / 'temporal.log'}. Temporal 服务已停止。"
            )
            return 1
    finally:
        lock.close()


def serve_or_explain(
    settings: Settings,
    port: int,
    ui_port: int | None,
    console: Console,
    on_ready: Callable[[Client, Settings], Awaitable[None]] | None = None,
    web_port: int = 0,
) -> int:
    """``serve`` with its refusals turned into a message and an exit code (2: could not start)."""
    from .web.serving import WebError

    try:
        return asyncio.run(serve(settings, port, ui_port, console, on_ready, web_port))
    except (ConfigError, DevServerError, SchemaError, WebError) as exc:
        console.print(f"[red]towns server cannot start[/]: {exc}")
        return 2
    except KeyboardInterrupt:
        return 0
