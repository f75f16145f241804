"""Published quarterly bulletins: one per quarter, kept as published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class BulletinRow(SQLModel, table=True):
    __tablename__ = "bulletins"

    quarter: str = SQLField(primary_key=True, max_length=6)
    content: dict[str, Any] = SQLField(sa_column=Column(JSON, nullable=False))
    pack_hash: str
    published_at: datetime
    published_by: str
    workflow_id: str = ""
