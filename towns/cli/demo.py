"""`towns demo load|write`: the Shaoxing demo towns with synthetic 2015–2018 figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..config import Settings
from .common import client_for, console, engine, ensure_worker, run, settings

if TYPE_CHECKING:  # the intake, the database and Temporal are imported where they are used
    from sqlalchemy.engine import Engine
    from temporalio.client import Client

    from ..intake.files import Row

app = typer.Typer(help="Demo data: Shaoxing towns with synthetic figures. 演示数据（合成）。", no_args_is_help=True)


def _rows(dicts: list[dict[str, Any]]) -> list[Row]:
    from ..intake.files import Row

    return [
        Row(number=i + 2, raw=d, values={k: v for k, v in d.items() if v is not None and v != ""})
        for i, d in enumerate(dicts)
    ]


async def load_demo_async(client: Client, s: Settings) -> tuple[int, int]:
    """Load what is not loaded yet: towns are registered idempotently and reports already recorded
    answer "unchanged" (so a second load changes nothing and quarantines nothing)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .. import demo
    from ..intake.service import import_reports, import_towns

    eng = engine(s)
    towns = await import_towns(
        client, eng, _rows(demo.town_rows()), by=demo.DEMO_ACTOR, source="demo-towns", task_queue=s.task_queue
    )
    console.print(f"demo: {sum(r.accepted for r in towns)} towns registered or already there")
    todo = demo.report_rows()
    with Progress(
        TextColumn("demo reports 演示月报"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("reports", total=len(todo))
        reports = await import_reports(
            client, eng, _rows(todo), by=demo.DEMO_ACTOR, source="demo-reports", progress=lambda _r: bar.advance(task)
        )
    ok = sum(r.accepted for r in reports)
    unchanged = sum(r.status == "unchanged" for r in reports)
    # a row the rules judged is a report of a known town: it has its code
    failing = sorted({r.code for r in reports if r.failed_rules and r.code is not None})
    if unchanged == len(reports):
        console.print("demo: every demo report is already loaded 演示数据已加载")
        return 0, 0
    console.print(
        f"demo: {ok - unchanged} monthly reports accepted, {unchanged} already there, {len(reports) - ok} rejected; "
        f"towns with failed checks: {', '.join(failing) or 'none'}"
    )
    console.print(f"[dim]{demo.SYNTHETIC_NOTE}[/]")
    demo_users(eng)
    return ok, len(reports) - ok


DEMO_USERS = (("demo-reporter", "reporter", "keqiao"), ("demo-staff", "staff", None), ("demo-auditor", "auditor", None))


def demo_users(eng: Engine) -> None:
    """One user of each role for the demo, with random passwords printed once (and only once:
    they are stored as hashes)."""
    import secrets

    from ..web.accounts import add_user, get_user

    made = []
    for name, role, district in DEMO_USERS:
        if get_user(eng, name) is None:
            password = secrets.token_urlsafe(9)
            add_user(eng, name, role, password, by=demo_actor(), district=district)
            made.append((name, role, district, password))
    if made:
        console.print("demo users 演示账号 (the passwords are shown this once 密码仅显示一次):")
        for name, role, district, password in made:
            console.print(f"  {name:14} {role:9} {district or '':8} password 密码: {password}", highlight=False)


def demo_actor() -> str:
    from .. import demo

    return demo.DEMO_ACTOR


@app.command("load")
def load() -> None:
    """Register the demo towns and submit their synthetic monthly reports (needs `towns server`). 加载演示数据。

    Reports already loaded answer "unchanged", so loading twice changes nothing.
    """
    s = settings()

    async def go() -> tuple[int, int]:
        client = await client_for(s)
        await ensure_worker(client, s)
        return await load_demo_async(client, s)

    run(go())


@app.command("write")
def write(
    directory: Path = typer.Argument(Path("demo"), help="folder to write towns.csv and reports.csv into"),
) -> None:
    """Write the demo towns and reports as CSV files in the import format. 导出演示数据。"""
    from .. import demo

    directory.mkdir(parents=True, exist_ok=True)
    towns_csv, reports_csv = demo.write_csv(directory)
    console.print(f"wrote {towns_csv} and {reports_csv} — {demo.SYNTHETIC_NOTE}")
