"""`towns` — the command line for office staff, district reporters and auditors."""

from __future__ import annotations

import typer

from . import demo, imports, reads, server

app = typer.Typer(
    name="towns",
    help="特色小镇创建评估引擎 — rules-and-workflow engine for characteristic towns (Shaoxing 2018 work points).\n\n"
    "Start with `towns server` (or `make run`), then `towns import towns FILE`, `towns import reports FILE`, "
    "`towns status`, `towns history CODE`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.command("server")(server.server)
app.add_typer(imports.app, name="import")
app.command("status")(reads.status)
app.command("history")(reads.history)
app.add_typer(demo.app, name="demo")


def main() -> None:
    app()
