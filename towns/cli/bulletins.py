"""`towns bulletin run|show`: the quarterly bulletin (季度通报).

`run` publishes a quarter once it has ended, its last month's reports are due (the
programme's due day), and it had a town on a creation list;
any other quarter is refused on stderr in Chinese and English, exit code 2, before the
workflow starts (the workflow's activity refuses the same quarters when started otherwise).
`show` prints the published bulletin, or a draft (未发布草稿) computed today for a quarter
never published.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.markup import escape

from ..config import ConfigError
from .common import (
    DEFAULT_PACK,
    client_for,
    console,
    default_user,
    engine,
    ensure_worker,
    err,
    require_server,
    run,
    settings,
)

if TYPE_CHECKING:  # the bulletins, the database and Temporal are imported by the commands (a fast start)
    from ..models.activities import PublishResult

app = typer.Typer(help="Quarterly bulletins: run one, show one as HTML, XLSX or JSON. 季度通报。", no_args_is_help=True)


def _quarter(raw: str) -> str:
    from ..bulletin.compute import parse_quarter

    try:
        y, q = parse_quarter(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return f"{y}Q{q}"


def _refuse(q: str, zh: str, en: str) -> NoReturn:
    err.print(f"[red]bulletin {escape(q)} refused 不予发布[/]: {escape(zh)}\n{escape(en)}")
    raise typer.Exit(2)


def _refusal_of(exc: BaseException) -> str | None:
    """The message of a BulletinRefused application error somewhere in a workflow failure's causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if getattr(seen, "type", None) == "BulletinRefused":
            return getattr(seen, "message", str(seen))
        seen = getattr(seen, "cause", None) or seen.__cause__
    return None


@app.command("run")
def run_cmd(
    quarter: str = typer.Option(..., "--quarter", help="e.g. 2018Q2"),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="the programme (rule pack id) whose bulletin to publish"),
    by: str | None = typer.Option(None, "--by", help="who runs it (default: your login name)"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable JSON"),
) -> None:
    """Run the quarterly evaluation now and publish the bulletin (once per quarter, once it has ended). 生成季度通报。"""
    from sqlmodel import Session
    from temporalio.client import WorkflowFailureError

    from ..bulletin.compute import BulletinRefused, beijing_today, check_publishable
    from ..models.bulletin import BulletinRow
    from ..models.workflows import BulletinRequest
    from ..workflows.bulletin import BulletinWorkflow

    q = _quarter(quarter)
    s = settings()
    try:
        eng = engine(s)
    except ConfigError:  # no database: say first that no server runs for this home, if that is so
        require_server(s)
        raise
    with Session(eng) as ses:
        published = ses.get(BulletinRow, (q, pack)) is not None
    if not published:  # a published quarter is answered by the workflow: "already published"
        try:
            check_publishable(eng, q, beijing_today(), pack)
        except BulletinRefused as exc:
            _refuse(q, exc.zh, exc.en)
    s = require_server(s)

    async def go() -> PublishResult:
        client = await client_for(s)
        await ensure_worker(client, s)
        return await client.execute_workflow(
            BulletinWorkflow.run,
            BulletinRequest(quarter=q, by=by or default_user(), pack_id=pack),
            id=f"bulletin-{q}" if pack == DEFAULT_PACK else f"bulletin-{pack}-{q}",
            task_queue=s.task_queue,
        )

    try:
        result = run(go())
    except WorkflowFailureError as exc:
        message = _refusal_of(exc)
        if message is None:
            raise
        # the worker refused it (its clock says the quarter has not ended, or the data changed meanwhile)
        err.print(f"[red]bulletin {escape(q)} refused 不予发布[/]: {escape(message)}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    what = "published 已发布" if result.new else f"already published by {result.published_by} 已发布过"
    console.print(
        f"bulletin {q}: {what} at {result.published_at:%Y-%m-%d %H:%M} UTC — {result.towns} towns, "
        f"{result.behind_schedule} behind schedule, {result.early_warnings} early warnings, "
        f"{result.missing_reports} missing reports. `towns bulletin show {q} --format html --out {q}.html`"
    )


@app.command("show")
def show(
    quarter: str = typer.Argument(..., help="e.g. 2018Q2"),
    pack: str = typer.Option(DEFAULT_PACK, "--pack", help="the programme (rule pack id) whose bulletin to show"),
    fmt: str = typer.Option("json", "--format", help="html | xlsx | json"),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="file to write (XLSX defaults to bulletin-<quarter>.xlsx; HTML and JSON print to the terminal without it)",
    ),
) -> None:
    """Show a quarter's bulletin: the published one, or computed now if none was published. 查看季度通报。"""
    from ..bulletin.compute import QUARTER_ZH, beijing_today, compute_bulletin, parse_quarter, quarter_start
    from ..queries.bulletins import published_bulletin

    q = _quarter(quarter)
    if fmt not in ("html", "xlsx", "json"):
        raise typer.BadParameter(f"--format {fmt!r}: use html, xlsx or json")
    eng = engine(settings())
    published = published_bulletin(eng, q, pack)
    if published is not None:
        bulletin = published
    else:
        today = beijing_today()
        y, n = parse_quarter(q)
        if today < quarter_start(y, n):
            err.print(
                f"[red]{q} has not begun[/] (it starts on {quarter_start(y, n).isoformat()}, Beijing time): "
                f"there is nothing to show. {y}年{QUARTER_ZH[n]}尚未开始，无内容可显示。"
            )
            raise typer.Exit(2)
        err.print(
            f"[yellow]{q} has not been published: a draft computed today ({today.isoformat()}) from the current "
            f"data[/] (未发布草稿，按当前数据计算)"
        )
        bulletin = compute_bulletin(eng, q, pack, issued_on=today, draft=True)
    if fmt == "xlsx":
        from ..bulletin.xlsx import write_xlsx

        path = out or Path(f"bulletin-{q}.xlsx")
        write_xlsx(bulletin, path)
        err.print(f"wrote {path}")
        return
    from ..bulletin.html import render_html

    text = (
        render_html(bulletin)
        if fmt == "html"
        else json.dumps(bulletin.model_dump(mode="json"), ensure_ascii=False, indent=2)
    )
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
