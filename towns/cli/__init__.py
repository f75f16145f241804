"""`towns` — the command line for office staff, district reporters and auditors."""

from __future__ import annotations

import os
import sys
import traceback

import typer

from . import audit, bulletins, demo, imports, reads, rounds, server

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
app.add_typer(rounds.app, name="round")
app.command("apply")(rounds.apply_for_tier)
app.add_typer(bulletins.app, name="bulletin")
app.add_typer(audit.app, name="audit")
app.add_typer(demo.app, name="demo")


def main() -> None:
    """Run the CLI and leave without interpreter finalisation.

    Temporal's Rust core keeps threads that may call back into Python while the
    interpreter shuts down ("Fatal Python error: PyGILState_Release", seen in DESIGN.md's
    benchmarks), turning a finished, successful command into a crash. Every command has
    closed what it opened and committed its writes by the time it returns, so we flush
    and exit at once with the command's own exit code.
    """
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - report, then leave like Python would
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
