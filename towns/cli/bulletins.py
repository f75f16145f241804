"""`towns bulletin run|show`: the quarterly bulletin (季度通报)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from sqlmodel import Session

from ..bulletin.compute import Bulletin, compute_bulletin, parse_quarter
from ..bulletin.html import render_html
from ..bulletin.xlsx import write_xlsx
from ..models.bulletin import BulletinRow
from ..workflows.bulletin import BulletinRequest, BulletinWorkflow
from .common import client_for, console, default_user, engine, ensure_worker, err, run, settings

app = typer.Typer(help="Quarterly bulletins: run one, show one as HTML, XLSX or JSON. 季度通报。", no_args_is_help=True)


def _quarter(raw: str) -> str:
    try:
        y, q = parse_quarter(raw)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return f"{y}Q{q}"


@app.command("run")
def run_cmd(quarter: str = typer.Option(..., "--quarter", help="e.g. 2018Q2"),
            by: Optional[str] = typer.Option(None, "--by", help="who runs it (default: your login name)"),
            as_json: bool = typer.Option(False, "--json", help="machine-readable JSON")) -> None:
    """Run the quarterly evaluation now and publish the bulletin (once per quarter). 生成季度通报。"""
    q = _quarter(quarter)
    s = settings()

    async def go():
        client = await client_for(s)
        await ensure_worker(client, s)
        return await client.execute_workflow(BulletinWorkflow.run, BulletinRequest(quarter=q, by=by or default_user()),
                                             id=f"bulletin-{q}", task_queue=s.task_queue)

    result = run(go())
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    what = "published 已发布" if result.new else f"already published by {result.published_by} 已发布过"
    console.print(f"bulletin {q}: {what} at {result.published_at:%Y-%m-%d %H:%M} UTC — {result.towns} towns, "
                  f"{result.behind_schedule} behind schedule, {result.early_warnings} early warnings, "
                  f"{result.missing_reports} missing reports. `towns bulletin show {q} --format html --out {q}.html`")


@app.command("show")
def show(quarter: str = typer.Argument(..., help="e.g. 2018Q2"),
         fmt: str = typer.Option("json", "--format", help="html | xlsx | json"),
         out: Optional[Path] = typer.Option(None, "--out", help="file to write (XLSX defaults to bulletin-<quarter>.xlsx; "
                                            "HTML and JSON print to the terminal without it)")) -> None:
    """Show a quarter's bulletin: the published one, or computed now if none was published. 查看季度通报。"""
    q = _quarter(quarter)
    if fmt not in ("html", "xlsx", "json"):
        raise typer.BadParameter(f"--format {fmt!r}: use html, xlsx or json")
    eng = engine(settings())
    with Session(eng) as s:
        row = s.get(BulletinRow, q)
    if row is not None:
        bulletin = Bulletin.model_validate(row.content)
    else:
        err.print(f"[yellow]{q} has not been published; computed now from the current data[/] (未发布，按当前数据计算)")
        bulletin = compute_bulletin(eng, q)
    if fmt == "xlsx":
        path = out or Path(f"bulletin-{q}.xlsx")
        write_xlsx(bulletin, path)
        err.print(f"wrote {path}")
        return
    text = render_html(bulletin) if fmt == "html" else json.dumps(bulletin.model_dump(mode="json"), ensure_ascii=False,
                                                                  indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
