"""Alembic's environment for towns: run on the connection ``towns.models.db`` hands over.

``towns.models.db.upgrade_database`` passes an open connection, already inside the
transaction that holds the migration lock, in ``config.attributes["connection"]``; everything
(stamp and upgrade) then happens in that one transaction. Without one (a developer drafting a
revision with ``alembic_config(url=...)``), it connects to ``sqlalchemy.url`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from alembic import context
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext

config = context.config


def _target_metadata() -> MetaData:
    """The models' tables, for autogenerate (drafting a revision); the revisions never use them."""
    from sqlmodel import SQLModel

    import towns.models.db  # noqa: F401  (registers every table)

    return SQLModel.metadata


def _render_item(type_: str, obj: object, autogen_context: AutogenContext) -> str | Literal[False]:
    """Drafts spell sqlmodel's column types in SQLAlchemy's own (a revision never imports sqlmodel)."""
    if type_ != "type":
        return False
    from sqlmodel.sql.sqltypes import AutoString

    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type(obj).__name__ == "UTCDateTime":  # sqlmodel >= 0.0.45's datetime
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        target_metadata=_target_metadata(),
        render_item=_render_item,
        render_as_batch=True,  # drafts use batch operations, which SQLite needs for most table changes
        compare_type=True,
        connection=connection,
    )


def run_offline() -> None:
    # the revisions look at the database (0002 on a database of fc68257..f064f68, SQLite's batch
    # mode reflects the table it rebuilds): they cannot be written out as SQL beforehand
    raise CommandError(
        "towns' migrations run against the database itself (`towns db upgrade`); offline --sql mode is not supported"
    )


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise CommandError("no database: give alembic_config a connection or a url")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
