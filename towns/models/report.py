"""Monthly statistics: the submission contract and the stored revision.

Figures are year-to-date to the end of the period (1–M月累计), as Shaoxing reports them.
Money in 亿元 (100 million CNY). A correction is a new revision; nothing is overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .period import parse_period

MONEY_FIELDS = ("fai", "industry_fai", "nongov_fai", "tax")
COUNT_FIELDS = ("new_enterprises", "high_tech_enterprises", "high_end_talents", "tourists_10k")
FIGURE_FIELDS = MONEY_FIELDS + COUNT_FIELDS + ("scenic_level",)
# year-to-date money figures may not fall from one month to the next within a year
YTD_FIELDS = MONEY_FIELDS

_TRUE = {"true", "1", "yes", "y", "是", "t", "√", "x"}
_FALSE = {"false", "0", "no", "n", "否", "f", ""}


class Figures(BaseModel):
    """The statistics of one town for one period."""

    fai: float = Field(ge=0, description="fixed-asset investment 固定资产投资, year to date, 亿元")
    industry_fai: float = Field(ge=0, description="characteristic-industry investment 特色产业投资, year to date, 亿元")
    nongov_fai: float = Field(ge=0, description="non-government investment 非政府投资, year to date, 亿元")
    tax: Optional[float] = Field(default=None, ge=0, description="tax revenue 税收收入, year to date, 亿元")
    new_enterprises: Optional[int] = Field(default=None, ge=0, description="newly settled enterprises 新入驻企业, year to date")
    high_tech_enterprises: Optional[int] = Field(default=None, ge=0, description="high-tech enterprises 高新技术企业")
    high_end_talents: Optional[int] = Field(default=None, ge=0, description="high-end talents 高端人才")
    tourists_10k: Optional[float] = Field(default=None, ge=0, description="tourist visits 游客接待, year to date, 万人次")
    scenic_level: Optional[int] = Field(default=None, ge=0, le=5, description="scenic-area level 景区等级 (0–5, 3 = 3A)")

    @field_validator(*COUNT_FIELDS[:3], "scenic_level", mode="before")
    @classmethod
    def _whole(cls, raw):
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            raw = raw.strip().upper().rstrip("A") if raw.strip().upper().endswith("A") else raw.strip()
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"'{raw}' is not a number") from None
        if not value.is_integer():
            raise ValueError(f"{raw} is not a whole number")
        return int(value)

    @field_validator("tax", "tourists_10k", mode="before")
    @classmethod
    def _blank(cls, raw):
        return None if raw == "" else raw

    @model_validator(mode="after")
    def _parts_within_total(self):
        for part in ("nongov_fai", "industry_fai"):
            if getattr(self, part) > self.fai:
                raise ValueError(
                    f"{part} {getattr(self, part)} is above fai {self.fai}: it is part of fixed-asset investment; check both figures"
                )
        return self


class ReportSubmission(Figures):
    """One row of monthly statistics as submitted, before any check against the town."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, description="town code")
    period: str = Field(description="month, YYYY-MM; figures are year-to-date to its end")
    correction: bool = Field(default=False, description="true when it replaces an earlier report of the same period")
    submitted_by: str = Field(default="unknown", description="who submitted it")
    submission_id: str = Field(default="", description="idempotency key: the same id delivered twice is one report")
    source: Optional[str] = Field(default=None, description="file and row it came from")

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, raw):
        return parse_period(raw)

    @field_validator("correction", mode="before")
    @classmethod
    def _flag(cls, raw):
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"'{raw}' is not true/false (是/否)")

    def figures(self) -> Figures:
        return Figures.model_validate(self.model_dump(include=set(Figures.model_fields)))


class AcceptedReport(BaseModel):
    """A report the town workflow accepted, with its revision."""

    submission: ReportSubmission
    revision: int
    received_at: datetime


class MonthlyReport(SQLModel, table=True):
    """One stored revision of a town's monthly report (append-only)."""

    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("code", "period", "revision", name="uq_report_revision"),)

    id: Optional[int] = SQLField(default=None, primary_key=True)
    submission_id: str = SQLField(unique=True, max_length=200)
    code: str = SQLField(index=True, max_length=32)
    period: str = SQLField(index=True, max_length=7)
    revision: int
    fai: float
    industry_fai: float
    nongov_fai: float
    tax: Optional[float] = None
    new_enterprises: Optional[int] = None
    high_tech_enterprises: Optional[int] = None
    high_end_talents: Optional[int] = None
    tourists_10k: Optional[float] = None
    scenic_level: Optional[int] = None
    correction: bool = False
    submitted_by: str
    source: Optional[str] = None
    received_at: datetime
    recorded_at: datetime
    raw: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))

    def figures(self) -> Figures:
        return Figures.model_validate(self.model_dump(include=set(Figures.model_fields)))
