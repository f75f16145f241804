"""A model's table, for SQLAlchemy Core statements where the ORM costs more than the work.

The ORM makes an object per row and flushes it through its unit of work; on the hot paths (a
report's rows, a round's ledger entries) that cost more than the rules and the hashing, so they
run Core statements on the models' own tables: one declaration, two ways in."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def table(model: type[SQLModel]) -> Table:
    """The table ``model`` declares (SQLModel's metadata holds it under the model's table name)."""
    return SQLModel.metadata.tables[str(model.__tablename__)]
