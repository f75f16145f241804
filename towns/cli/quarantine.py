"""`towns quarantine list`: what was refused, and why (退回记录). Every rejected row is kept raw."""

from __future__ import annotations

from typing import cast

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from .common import console, engine, print_json, settings

app = typer.Typer(help="The quarantine: every refused row, kept raw with its reasons. 退回记录。", no_args_is_help=True)


@app.command("list")
def list_(
    since: str | None = typer.Option(
        None,
        "--since",
        help="only rows received since this date or time (Beijing time), e.g. 2018-06-01 or 2018-06-01T09:00",
    ),
    code: str | None = typer.Option(None, "--code", help="only rows of this town code"),
    kind: str | None = typer.Option(None, "--kind", help="report | town"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable JSON, with the raw rows"),
) -> None:
    """Every refused row, newest last: when, from which file and row, who sent it, and what was wrong
    (in Chinese and English). 列出被退回的行及原因。"""
    from ..models.times import CST
    from ..queries.common import parse_as_of
    from ..queries.quarantine import RejectedKind, quarantine_list

    start = None
    if since is not None:
        try:
            start = parse_as_of(since) if "T" in since or len(since) > 10 else parse_as_of(since + "T00:00")
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    if kind is not None and kind not in ("report", "town"):
        raise typer.BadParameter(f"--kind {kind!r}: use report or town")
    rows = quarantine_list(engine(settings()), since=start, code=code, kind=cast(RejectedKind | None, kind))
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    t = Table(title="Quarantine 退回记录" + (f" since {since}" if since else ""), box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("received\n接收时间", "source\n来源", "code\n代码", "period\n月份", "by\n报送人", "why\n原因"):
        t.add_column(col, overflow="fold")
    for r in rows:
        why = "\n".join(f"{p.field}: {p.zh or ''}\n  {p.en}" for p in r.problems)
        t.add_row(
            r.received_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"),
            escape(r.source or ""),
            escape(r.code or ""),
            escape(r.period or ""),
            escape(r.submitted_by),
            escape(why),
        )
    console.print(t)
    console.print(
        f"{len(rows)} refused row(s) 共 {len(rows)} 行被退回"
        if rows
        else "Nothing was refused" + (" since then" if since else "") + ". 没有被退回的行。"
    )
