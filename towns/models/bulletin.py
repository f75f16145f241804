"""Published quarterly bulletins: one per programme and quarter, kept as published.

A row exists only for a quarter that had ended, with a town on a creation list, when it was
published (``publish_bulletin`` refuses any other and stores nothing). ``content`` is the
``Bulletin`` as JSON, its issue date (``issued_on``, Beijing time) included; ``published_at``
is the UTC moment the row was written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class BulletinRow(SQLModel, table=True):
    __tablename__ = "bulletins"

    quarter: str = SQLField(primary_key=True, max_length=6)
    programme: str = SQLField(
        default="sx2018", primary_key=True, max_length=64, sa_column_kwargs={"server_default": "sx2018"}
    )
    content: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    pack_hash: str
    published_at: datetime
    published_by: str
    workflow_id: str = ""
