"""`towns db upgrade|current`: the database's schema revision (Alembic migrations). 数据库结构版本。"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

from ..config import ConfigError, Settings, shown_url
from .common import console, print_json, settings

if TYPE_CHECKING:  # the database layer is imported by the commands (a fast start)
    from sqlalchemy.engine import Engine

    from ..models.db import SchemaError

app = typer.Typer(
    help="The database's schema: bring it up to date, show its revision. 数据库结构升级与版本。", no_args_is_help=True
)


def _existing(s: Settings) -> Engine:
    """The home's database engine; ConfigError when its SQLite file does not exist (never made here)."""
    from ..models.db import engine_for, sqlite_path

    path = sqlite_path(s.database_url)
    if path is not None and not path.exists():
        raise ConfigError(
            f"there is no database at {path}: `towns server` makes it at its first start (TOWNS_HOME "
            f"is {s.home}; set it to the home you mean).\n"
            f"{path} 尚无数据库：towns server 首次启动时会创建；请检查 TOWNS_HOME。"
        )
    return engine_for(s.database_url)


def _refused(exc: SchemaError, as_json: bool, url: str) -> NoReturn:
    if as_json:
        print_json({"database": shown_url(url), "error": str(exc)})
    else:
        console.print(f"[red]{exc}[/]", highlight=False)
    raise typer.Exit(2)


@app.command("upgrade")
def upgrade(as_json: bool = typer.Option(False, "--json", help="machine-readable JSON")) -> None:
    """Bring the database to the newest schema revision, keeping every row. 升级数据库结构（保留全部数据）。

    Says from which revision to which. A database made by a build before migrations is upgraded too.
    Safe to repeat and while the server runs (`towns server` does the same at every start). 可重复执行。
    """
    from ..models.db import SchemaError, install_guards, upgrade_database

    s = settings()
    eng = _existing(s)
    try:
        m = upgrade_database(eng)
    except SchemaError as exc:
        _refused(exc, as_json, s.database_url)
    install_guards(eng)
    start = m.adopted or m.before
    if as_json:
        print_json(
            {
                "database": shown_url(s.database_url),
                "from": start,
                "to": m.after,
                "changed": m.changed,
                "stamped": m.adopted,
            }
        )
        return
    where = f"database {shown_url(s.database_url)}"
    if m.adopted:
        console.print(
            f"{where}: made by a build before migrations; its tables match revision {m.adopted}, "
            f"recorded as such. 旧版本创建的数据库，识别为版本 {m.adopted}。",
            highlight=False,
        )
    if not m.changed:
        console.print(
            f"{where}: already at revision {m.after} (the newest); nothing to do. 已是最新版本 {m.after}。",
            highlight=False,
        )
    else:
        console.print(
            f"{where}: upgraded from revision {start or 'none (empty)'} to {m.after}. "
            f"已从版本 {start or '空'} 升级到 {m.after}。",
            highlight=False,
        )


@app.command("current")
def current(as_json: bool = typer.Option(False, "--json", help="machine-readable JSON")) -> None:
    """Print the database's schema revision. 显示数据库结构版本。

    And whether `towns db upgrade` has anything to do. 并说明是否需要升级。
    """
    from ..models.db import SchemaError, adoptable_revision, current_revision, head_revision

    s = settings()
    eng = _existing(s)
    rev = current_revision(eng)
    head = head_revision()
    matches: str | None = None
    if rev is None:
        try:
            with eng.connect() as conn:
                matches = adoptable_revision(conn)
        except SchemaError as exc:
            _refused(exc, as_json, s.database_url)
    if as_json:
        print_json(
            {
                "database": shown_url(s.database_url),
                "current": rev,
                "head": head,
                "up_to_date": rev == head,
                "made_before_migrations_as": matches,
            }
        )
        return
    if rev is not None:
        console.print(
            rev + ("" if rev == head else f" (newest: {head}; run `towns db upgrade` 请运行 towns db upgrade)"),
            highlight=False,
        )
    elif matches is not None:
        console.print(
            f"none: made by a build before migrations, its tables match {matches}; `towns db upgrade` "
            f"brings it to {head}. 旧版本创建的数据库（相当于 {matches}），请运行 towns db upgrade。",
            highlight=False,
        )
    else:
        console.print(
            f"none: the database is empty; `towns db upgrade` (or `towns server`) brings it to {head}. 数据库为空。",
            highlight=False,
        )
