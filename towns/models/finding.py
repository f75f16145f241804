"""Findings: the outcome of one rule on one town's inputs, citing its clause."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel


class Finding(BaseModel):
    rule: str
    clause: str
    inputs: dict[str, Any]
    threshold: float | None
    value: float | None
    passed: bool
    reason_zh: str
    reason_en: str


class Measure(BaseModel):
    """A figure computed and kept for later rounds (e.g. tax growth), not a pass/fail."""

    name: str
    clause: str
    value: float | None
    inputs: dict[str, Any]
    note: str = ""


DEFAULT_PACK = "sx2018"  # the rule pack shipped with towns (towns/rules/packs/sx2018.toml)


class PackRef(BaseModel):
    id: str
    version: str
    hash: str


class Evaluation(BaseModel):
    """Everything one evaluation of one report produced, with the pack it used."""

    code: str
    period: str
    revision: int
    pack: PackRef
    findings: list[Finding]
    measures: list[Measure]


class FindingRow(SQLModel, table=True):
    __tablename__ = "findings"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(unique=True, max_length=300)
    submission_id: str = SQLField(index=True, max_length=200)
    code: str = SQLField(index=True, max_length=32)
    period: str = SQLField(max_length=7)
    revision: int
    rule: str
    clause: str
    passed: bool
    value: float | None = None
    threshold: float | None = None
    inputs: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason_zh: str
    reason_en: str
    pack_id: str
    pack_version: str
    pack_hash: str
    recorded_at: datetime


class MeasureRow(SQLModel, table=True):
    __tablename__ = "measures"

    id: int | None = SQLField(default=None, primary_key=True)
    key: str = SQLField(unique=True, max_length=300)
    code: str = SQLField(index=True, max_length=32)
    period: str = SQLField(max_length=7)
    revision: int
    name: str
    clause: str
    value: float | None = None
    inputs: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = ""
    recorded_at: datetime
