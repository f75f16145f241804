"""`towns server`."""

from __future__ import annotations

from typing import Optional

import typer

from ..server import home_is_empty, serve
from .common import console, run, settings


def server(
    temporal_port: int = typer.Option(7233, "--temporal-port", help="port of the embedded Temporal server (UI on port+1000)"),
    ui_port: Optional[int] = typer.Option(None, "--ui-port", help="port of the Temporal UI (default temporal port + 1000)"),
    demo_if_empty: bool = typer.Option(False, "--demo-if-empty", help="load the demo towns when the home has no towns yet (what `make run` does)"),
) -> None:
    """Run the embedded Temporal dev server and a worker in the foreground. 启动服务。

    State is kept in $TOWNS_HOME (default ./.towns): temporal.db for Temporal, towns.db for
    the database (or DATABASE_URL). With TEMPORAL_ADDRESS set, only the worker runs, against
    that cluster. Ctrl-C stops everything it started.
    """
    s = settings()
    s.home.mkdir(parents=True, exist_ok=True)
    load = demo_if_empty and home_is_empty(s)

    async def on_ready(client, live):
        if load:
            from .demo import load_demo_async

            console.print("empty home: loading the demo towns (synthetic figures) … 首次运行，加载演示数据")
            await load_demo_async(client, live)

    try:
        run(serve(s, temporal_port, ui_port, console, on_ready))
    except KeyboardInterrupt:
        pass
