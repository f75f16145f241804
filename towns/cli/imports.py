"""`towns import towns|reports FILE`: CSV or XLSX, English or Chinese headers.

Each row is answered on its own line as soon as it is decided, above a progress bar; the
import ends with the numbers accepted, unchanged, rejected (and unanswered, if the server
went away). Running the same file again is safe: rows already recorded answer "unchanged".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from .common import (
    cli_author,
    client_for,
    console,
    engine,
    ensure_worker,
    err,
    print_json,
    require_server,
    run,
    settings,
)

if TYPE_CHECKING:  # the intake (the database, Temporal, openpyxl) is imported by the commands
    from sqlalchemy.engine import Engine
    from temporalio.client import Client

    from ..intake.files import Row
    from ..intake.service import RowResult

app = typer.Typer(help="Import towns or monthly reports from CSV/XLSX. 导入小镇名录或月度统计。", no_args_is_help=True)

BY = typer.Option(None, "--by", help="who submits (default: your login name); kept with every row")
JSON = typer.Option(False, "--json", help="print the results as JSON instead of lines")

OnRow = Callable[["RowResult"], None]
"""What an import calls with each row's result as soon as it is decided."""

LABELS = {"accepted": "accepted 已接收", "registered": "registered 已登记", "unchanged": "unchanged 已存在"}


def _line(r: RowResult) -> str:
    head = f"row {r.where:>4}  {escape(r.code or '?'):<12} {escape(r.period or ''):<8}"
    if r.accepted:
        label = LABELS.get(r.status) or (
            f"corrected 已更正 (revision {r.revision})" if r.status == "corrected" else r.status
        )
        tail = f"  [yellow]failed 未达标: {', '.join(r.failed_rules)}[/]" if r.failed_rules else ""
        return f"{head} [green]✓ {label}[/]{tail}"
    problems = escape("; ".join(p.text() for p in r.problems))
    if r.status == "unanswered":
        return f"{head} [yellow]? unanswered 未答复[/]  {problems}"
    return f"{head} [red]✗ rejected 已退回[/]  {problems}"


def _run_import(kind: str, file: Path, by: str | None, as_json: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..intake.files import REPORT_HEADERS, TOWN_HEADERS, FileError, UnitNote, read_rows

    vocab, required = (
        (TOWN_HEADERS, ["code", "name", "district", "tier", "industry"])
        if kind == "towns"
        else (REPORT_HEADERS, ["code", "period", "fai", "industry_fai", "nongov_fai"])
    )
    try:
        rows, warnings = read_rows(file, vocab, required)
    except FileError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    conversions = [w for w in warnings if isinstance(w, UnitNote)]  # said again in the summary
    for w in warnings:
        label = "unit 单位换算:" if isinstance(w, UnitNote) else "warning 提示:"
        err.print(f"[yellow]{label}[/] {escape(w)}")
    s = require_server(settings())
    by = cli_author(by)

    async def go() -> list[RowResult]:
        client = await client_for(s)
        await ensure_worker(client, s)
        with Progress(
            TextColumn(f"importing {kind} 导入中"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task(kind, total=len(rows))

            def tick(r: RowResult) -> None:
                if not as_json:  # each row as it is decided (the bar's live display keeps stdout above it)
                    console.print(_line(r), highlight=False, soft_wrap=True)
                bar.advance(task)

            if kind == "towns":
                return await import_towns(
                    client, engine(s), rows, by=by, source=file.name, task_queue=s.task_queue, progress=tick
                )
            return await import_reports(client, engine(s), rows, by=by, source=file.name, progress=tick)

    results = run(go())
    counts = Counter(r.status for r in results)
    accepted = sum(r.accepted for r in results)
    rejected = counts["rejected"]
    unanswered = counts["unanswered"]
    if as_json:
        print_json(
            {
                "file": str(file),
                "accepted": accepted,
                "rejected": rejected,
                "unanswered": unanswered,
                "counts": dict(counts),
                "conversions": [str(c) for c in conversions],
                "warnings": [str(w) for w in warnings if not isinstance(w, UnitNote)],
                "rows": [r.as_dict() for r in results],
            }
        )
    else:
        colour = "red" if rejected or unanswered else "green"
        parts = [f"{accepted} accepted 接收"] + (
            [f"{counts['unchanged']} of them unchanged 已存在"] if counts["unchanged"] else []
        )
        parts.append(f"{rejected} rejected 退回")
        if unanswered:
            parts.append(f"{unanswered} unanswered 未答复")
        console.print(f"[{colour}]{', '.join(parts)}[/] ({escape(file.name)})")
        for c in conversions:
            console.print(f"unit 单位换算: {escape(c)}", highlight=False, soft_wrap=True)
        if rejected:
            console.print(
                "Rejected rows are kept with their reasons (`towns quarantine list`); fix them and import "
                "those rows again. 退回的行已留存（towns quarantine list），请修改后重新导入。"
            )
        if unanswered:
            console.print(
                "The server went away before answering some rows: run the same import again — rows already "
                "recorded answer 'unchanged'. 服务中断，部分行未答复：请重新导入同一文件。"
            )
    if rejected or unanswered:
        raise typer.Exit(1)


async def import_towns(
    client: Client, engine: Engine, rows: list[Row], *, by: str, source: str, task_queue: str, progress: OnRow
) -> list[RowResult]:
    """``towns.intake.service.import_towns``, imported when an import runs."""
    from ..intake.service import import_towns as run_import

    return await run_import(client, engine, rows, by=by, source=source, task_queue=task_queue, progress=progress)


async def import_reports(
    client: Client, engine: Engine, rows: list[Row], *, by: str, source: str, progress: OnRow
) -> list[RowResult]:
    """``towns.intake.service.import_reports``, imported when an import runs."""
    from ..intake.service import import_reports as run_import

    return await run_import(client, engine, rows, by=by, source=source, progress=progress)


@app.command("towns")
def towns_cmd(
    file: Path = typer.Argument(
        ...,
        help="CSV or XLSX with columns code, name, district, tier, industry, "
        "batch, listed_year, creation_years, planned_investment, annual_fai_target, "
        "planned_area_km2, core_area_km2, state (or 代码, 名称, 区县, 层级, 产业 …); money in 亿元 and areas in "
        "km² unless the header names another unit (计划总投资（万元）, 规划面积（亩）)",
    ),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Register towns and start their workflows. 登记小镇。 Exit 1 if any row was rejected."""
    _run_import("towns", file, by, as_json)


@app.command("reports")
def reports_cmd(
    file: Path = typer.Argument(
        ...,
        help="CSV or XLSX with columns code, period (YYYY-MM), fai, industry_fai, "
        "nongov_fai, tax, new_enterprises, high_tech_enterprises, high_end_talents, "
        "tourists_10k, scenic_level, correction (or 代码, 月份, 固定资产投资 …); "
        "money in 亿元 unless the header names 万元 or 元 (固定资产投资（万元）), year to date",
    ),
    by: str | None = BY,
    as_json: bool = JSON,
) -> None:
    """Submit monthly statistics; each row is checked, evaluated and recorded, and answered as it is decided.
    报送月度统计。 Running the same file again is safe (recorded rows answer "unchanged"). Exit 1 if any row was
    rejected or left unanswered."""
    _run_import("reports", file, by, as_json)
