"""`towns user add|list|disable`: the accounts of the web console and the REST API."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape
from rich.table import Table

from .common import cli_author, console, engine, err, print_json, settings

app = typer.Typer(
    help="Users of the web console and the API: reporter, staff, auditor. 用户管理。", no_args_is_help=True
)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="the login name"),
    role: str = typer.Option(..., "--role", help="reporter (区县统计员) | staff (市特色办) | auditor (督查)"),
    district: str | None = typer.Option(None, "--district", help="a reporter's district (柯桥 or keqiao)"),
    programme: str = typer.Option("sx2018", "--programme", help="the programme of the reporter's district"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
) -> None:
    """Add a user; the password is read from a prompt (or --password-stdin), never from the command line. 添加用户。"""
    from ..web.accounts import AccountError, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password 密码", hide_input=True, confirmation_prompt=True)
    try:
        u = add_user(
            engine(settings()), name, role, password, by=cli_author(None), district=district, programme=programme
        )
    except AccountError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    console.print(f"added {u.name}: {u.role} {u.role_zh}" + (f", district {u.district}" if u.district else ""))


@app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="machine-readable JSON")) -> None:
    """The users, their roles and districts. 用户列表。"""
    from ..web.accounts import list_users

    users = list_users(engine(settings()))
    if as_json:
        print_json([u.model_dump(mode="json") for u in users])
        return
    t = Table()
    for col in ("name 用户", "role 角色", "district 区县", "programme", "state 状态", "added 创建"):
        t.add_column(col)
    for u in users:
        t.add_row(
            u.name,
            f"{u.role} {u.role_zh}",
            u.district or "—",
            u.programme,
            "disabled 已停用" if u.disabled else "active 启用",
            f"{u.created_at:%Y-%m-%d} by {u.created_by}",
        )
    console.print(t)


@app.command("disable")
def disable(name: str = typer.Argument(..., help="the login name")) -> None:
    """Disable a user: its sessions and tokens stop working at once; its writes keep its name. 停用用户。"""
    from ..web.accounts import AccountError, disable_user

    try:
        u = disable_user(engine(settings()), name, by=cli_author(None))
    except AccountError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    console.print(f"{u.name} disabled 已停用")
