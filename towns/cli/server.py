"""`towns server`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from ..config import Settings
from .common import console, settings

if TYPE_CHECKING:
    from temporalio.client import Client


def server(
    temporal_port: int = typer.Option(
        7233, "--temporal-port", help="port of the embedded Temporal server (UI on port+1000)"
    ),
    ui_port: int | None = typer.Option(
        None, "--ui-port", help="port of the Temporal UI (default temporal port + 1000)"
    ),
    demo_if_empty: bool = typer.Option(
        False, "--demo-if-empty", help="load the demo towns when the home has no towns yet (what `make run` does)"
    ),
    web_port: int = typer.Option(
        8000, "--web-port", help="port of the web console and REST API on 127.0.0.1 (0: none)"
    ),
) -> None:
    """Run the embedded Temporal dev server and a worker in the foreground. 启动服务。

    State is kept in the home: TOWNS_HOME, else the per-user data folder
    (~/.local/share/towns on Linux) — temporal.db for Temporal, towns.db for the database
    (or DATABASE_URL), temporal.log for the Temporal server's log. Every other command of
    the same home uses this server's database and Temporal. One server per home; it
    refuses to start (exit 2) when the home already has one or a port is taken, and stops
    (exit 1) if its Temporal server dies. With TEMPORAL_ADDRESS set, only the worker runs,
    against that cluster. Ctrl-C stops everything it started.
    """
    from ..temporal import quiet_core_logs

    quiet_core_logs()  # before anything of Temporal runs (see towns.cli.main)
    from ..server import home_is_empty, serve_or_explain

    s = settings()
    if s.server is not None:
        console.print(
            f"[red]towns server cannot start[/]: a towns server already runs for {s.home} "
            f"(pid {s.server.pid}). 该目录已有正在运行的 towns server。"
        )
        raise typer.Exit(2)

    async def on_ready(client: Client, live: Settings) -> None:
        if demo_if_empty and home_is_empty(live):
            from .demo import load_demo_async

            console.print("empty home: loading the demo towns (synthetic figures) … 首次运行，加载演示数据")
            await load_demo_async(client, live)

    code = serve_or_explain(s, temporal_port, ui_port, console, on_ready, web_port)
    raise typer.Exit(code)
