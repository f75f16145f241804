"""The quarantine: every rejected submission, raw, with what was wrong. Nothing is lost."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class Problem(BaseModel):
    """One thing wrong with a submission: the field and a message in English and Chinese."""

    field: str
    en: str
    zh: str = ""

    def text(self) -> str:
        return f"{self.field}: {self.en}" + (f" ({self.zh})" if self.zh else "")


class Rejection(SQLModel, table=True):
    __tablename__ = "rejections"

    id: Optional[int] = SQLField(default=None, primary_key=True)
    kind: str = SQLField(max_length=20, description="report | town")
    code: Optional[str] = SQLField(default=None, index=True, max_length=64)
    period: Optional[str] = SQLField(default=None, max_length=20)
    source: Optional[str] = None
    submitted_by: str = "unknown"
    received_at: datetime
    raw: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    problems: list[dict[str, Any]] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
