"""A model's table, for SQLAlchemy Core statements where the ORM costs more than the work.

The ORM makes an object per row and flushes it through its unit of work; on the hot paths (a
report's rows, a round's ledger entries) that cost more than the rules and the hashing, so they
run Core statements on the models' own tables: one declaration, two ways in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel


def table(model: type[SQLModel]) -> Table:
    """The table ``model`` declares (SQLModel's metadata holds it under the model's table name)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]


def insert_new(conn: Connection, into: Table, rows: list[dict[str, Any]], key: str) -> None:
    """Insert the rows whose ``key`` is not in the table yet and leave the others as they are
    (``INSERT … ON CONFLICT (key) DO NOTHING``, in SQLite and in PostgreSQL): idempotent, and no
    error when another transaction inserted the same key first."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(into).on_conflict_do_nothing(index_elements=[key]), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(into).on_conflict_do_nothing(index_elements=[key]), rows)
