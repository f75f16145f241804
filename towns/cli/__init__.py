"""`towns` — the command line for office staff, district reporters and auditors.

Building the command tree imports only the light tops of the command modules (typer, rich, the
standard library, ``towns.config``): each command imports the database, Temporal, the rules or
openpyxl when it runs, so that ``towns --help`` and the reads start fast (see ``common``).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from . import audit, bulletins, db, demo, imports, packs, quarantine, reads, rounds, server, users

app = typer.Typer(
    name="towns",
    help="特色小镇创建评估引擎 — rules-and-workflow engine for characteristic towns (programmes as rule packs: Shaoxing 2018 ships).\n\n"
    "Start with `towns server` (or `make run`), then `towns import towns FILE`, `towns import reports FILE`, "
    "`towns status`, `towns history CODE`.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.command("server")(server.server)
app.add_typer(imports.app, name="import")
app.add_typer(quarantine.app, name="quarantine")
app.command("status")(reads.status)
app.command("history")(reads.history)
app.add_typer(rounds.app, name="round")
app.command("apply")(rounds.apply_for_tier)
app.add_typer(bulletins.app, name="bulletin")
app.add_typer(audit.app, name="audit")
app.add_typer(demo.app, name="demo")
app.add_typer(db.app, name="db")
app.add_typer(packs.app, name="pack")
app.add_typer(users.app, name="user")


def main() -> None:
    """Run the CLI and leave without interpreter finalisation.

    Temporal's Rust core keeps threads that may call back into Python while the
    interpreter shuts down ("Fatal Python error: PyGILState_Release", seen in DESIGN.md's
    benchmarks), turning a finished, successful command into a crash. Every command has
    closed what it opened and committed its writes by the time it returns, so we flush
    and exit at once with the command's own exit code.
    """
    from ..config import ConfigError
    from .common import err

    # The Temporal core's logs go to stderr (``towns.temporal.quiet_core_logs``): set up where a
    # command first uses Temporal (``common.client_for``, ``towns server``), not for every command.
    code: int = 0
    try:
        app()
    except ConfigError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        code = 2
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:
        lost = _server_went_away(exc) or _database_unusable(exc)
        if lost:
            err.print(f"[red]{lost}[/]", highlight=False)
            code = 2
        else:
            traceback.print_exc()
            code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _database_unusable(exc: BaseException) -> str | None:
    """A message for a database that cannot be reached or used (instead of a traceback), else None."""
    dbapi = sys.modules.get("sqlalchemy.exc")  # loaded only if the command used the database
    if dbapi is None or not isinstance(exc, dbapi.OperationalError):
        return None
    from ..config import load_settings, shown_url

    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    try:
        where = shown_url(load_settings().database_url)
    except Exception:
        where = "the database"
    return (
        f"the database {where} could not be used: {reason}. Check DATABASE_URL (or the home's server.json) "
        "and that the database is running, then repeat the command.\n"
        f"无法使用数据库 {where}：请检查 DATABASE_URL 以及数据库是否在运行，然后重试。"
    )


def _server_went_away(exc: BaseException) -> str | None:
    """A message for losing Temporal in the middle of a command (instead of a traceback), else None."""
    if "temporalio" not in sys.modules:  # a command that never used Temporal cannot have lost it
        return None
    from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
    from temporalio.service import RPCError, RPCStatusCode

    if isinstance(exc, WorkflowUpdateRPCTimeoutOrCancelledError) or (
        isinstance(exc, RPCError)
        and exc.status
        in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN)
    ):
        return (
            "the server went away while the command was running (Temporal stopped answering). What was "
            "recorded before that is kept; start `towns server` again and check with `towns status` or "
            "`towns round show`, then repeat the command if needed — commands are safe to repeat.\n"
            "服务在执行过程中中断；已记录的内容不会丢失。请重新启动 towns server，核对后再重试。"
        )
    return None
