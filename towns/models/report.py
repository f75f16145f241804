"""Monthly statistics: the submission contract and the stored revision.

Figures are year-to-date to the end of the period (1–M月累计), as the offices report them.
Money in 亿元 (100 million CNY). A correction is a new revision; nothing is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .period import parse_period
from .rejection import Problem, bilingual, field_zh

MONEY_FIELDS = ("fai", "industry_fai", "nongov_fai", "tax")
COUNT_FIELDS = ("new_enterprises", "high_tech_enterprises", "high_end_talents", "tourists_10k")
WHOLE_FIELDS = ("new_enterprises", "high_tech_enterprises", "high_end_talents")
FIGURE_FIELDS = MONEY_FIELDS + COUNT_FIELDS + ("scenic_level",)
# year-to-date money figures may not fall from one month to the next within a year
YTD_FIELDS = MONEY_FIELDS
# Bounds of what can be stored and meant at all (not policy: the rule pack's plausibility
# limits, with their clause, are checked against the town). Beyond them a figure is a slip.
MONEY_MAX = 1_000_000.0  # 亿元 (100 trillion CNY)
COUNT_MAX = 1_000_000
TEXT_MAX = 100  # who submitted (填报人)

_TRUE = {"true", "1", "yes", "y", "是", "t", "√", "x"}
_FALSE = {"false", "0", "no", "n", "否", "f", ""}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SCENIC = re.compile(r"^(?:(\d)\s*A?|(A{1,5}))\s*级?(?:景区)?$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def number(raw: Any, field: str) -> Any:
    """A figure as a number, or None for a blank cell; text such as ' 12.5 ', '１２．５' and
    '1,234.5' is read, anything else is refused in the office's words. Infinite and NaN
    values are refused: they are never a statistic."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise bilingual("number", f"{raw} is not a number", f"{field_zh(field)}“{raw}”不是数字")
    if isinstance(raw, (int, float)):
        value = raw
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
        if text == "":
            return None
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise bilingual("number", f"{str(raw)[:40]!r} is not a number", f"“{str(raw)[:40]}”不是数字") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise bilingual("finite", f"{raw!r} is not a finite number", f"“{raw}”不是有限数值")
    return value


def whole(raw: Any, field: str) -> int | None:
    value = number(raw, field)
    if value is None:
        return None
    if abs(value) > COUNT_MAX * 10:  # far beyond any count: say so before int() makes a monster of it
        raise bilingual(
            "range", f"{raw} is out of range: at most {COUNT_MAX}", f"{raw} 超出范围（不能大于 {COUNT_MAX}）"
        )
    if not float(value).is_integer():
        raise bilingual("whole", f"{raw} is not a whole number", f"{raw} 不是整数")
    return int(value)


def scenic(raw: Any) -> int | None:
    """The scenic-area level 0–5: 3, '3A', 'AAA', '4A级', '4A级景区'."""
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if text == "":
            return None
        m = _SCENIC.match(text)
        if m:
            return int(m.group(1)) if m.group(1) else len(m.group(2))
        if not re.fullmatch(r"[+-]?[\d.]+", text):
            raise bilingual(
                "scenic",
                f"{raw!r} is not a scenic level: write 0–5, 3A or AAA",
                f"“{raw}”不是景区等级，请填 0–5、3A 或 AAA",
            )
    return whole(raw, "scenic_level")


def plain_text(raw: Any, field: str) -> Any:
    """Text a person typed: control characters (a NUL byte, line breaks) are refused."""
    if isinstance(raw, str) and _CONTROL.search(raw):
        raise bilingual(
            "control",
            "contains a control character (such as a NUL byte or a line break); type it again as plain text",
            "含有控制字符（如空字节或换行），请重新输入纯文本",
        )
    return raw


class Figures(BaseModel):
    """The statistics of one town for one period."""

    fai: float = Field(ge=0, le=MONEY_MAX, description="fixed-asset investment 固定资产投资, year to date, 亿元")
    industry_fai: float = Field(
        ge=0, le=MONEY_MAX, description="characteristic-industry investment 特色产业投资, year to date, 亿元"
    )
    nongov_fai: float = Field(
        ge=0, le=MONEY_MAX, description="non-government investment 非政府投资, year to date, 亿元"
    )
    tax: float | None = Field(default=None, ge=0, le=MONEY_MAX, description="tax revenue 税收收入, year to date, 亿元")
    new_enterprises: int | None = Field(
        default=None, ge=0, le=COUNT_MAX, description="newly settled enterprises 新入驻企业, year to date"
    )
    high_tech_enterprises: int | None = Field(
        default=None, ge=0, le=COUNT_MAX, description="high-tech enterprises 高新技术企业"
    )
    high_end_talents: int | None = Field(default=None, ge=0, le=COUNT_MAX, description="high-end talents 高端人才")
    tourists_10k: float | None = Field(
        default=None, ge=0, le=COUNT_MAX, description="tourist visits 游客接待, year to date, 万人次"
    )
    scenic_level: int | None = Field(default=None, ge=0, le=5, description="scenic-area level 景区等级 (0–5, 3 = 3A)")

    @field_validator(*MONEY_FIELDS, "tourists_10k", mode="before")
    @classmethod
    def _number(cls, raw: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None  # a field validator always runs for a named field
        return number(raw, info.field_name)

    @field_validator(*WHOLE_FIELDS, mode="before")
    @classmethod
    def _whole(cls, raw: Any, info: ValidationInfo) -> int | None:
        assert info.field_name is not None  # a field validator always runs for a named field
        return whole(raw, info.field_name)

    @field_validator("scenic_level", mode="before")
    @classmethod
    def _scenic(cls, raw: Any) -> int | None:
        return scenic(raw)

    @model_validator(mode="after")
    def _parts_within_total(self) -> Self:
        for part in ("nongov_fai", "industry_fai"):
            if getattr(self, part) > self.fai:
                raise bilingual(
                    "part_above_total",
                    f"{getattr(self, part)} is above fai {self.fai}: it is part of fixed-asset investment; "
                    "check both figures",
                    f"{getattr(self, part)} 大于固定资产投资 {self.fai}：它是固定资产投资的一部分，请核对两项数字",
                    field=part,
                )
        return self


class ReportSubmission(Figures):
    """One row of monthly statistics as submitted, before any check against the town."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=32, description="town code")
    period: str = Field(description="month, YYYY-MM; figures are year-to-date to its end")
    correction: bool = Field(default=False, description="true when it replaces an earlier report of the same period")
    submitted_by: str = Field(default="unknown", min_length=1, max_length=TEXT_MAX, description="who submitted it")
    submitted_role: str = Field(
        default="reporter", max_length=16, description="their role: reporter (web), os-user (the command line)"
    )
    submission_id: str = Field(
        default="", max_length=200, description="idempotency key: the same id delivered twice is one report"
    )
    source: str | None = Field(default=None, max_length=300, description="file and row it came from")

    @field_validator("code", "submitted_by", "source", mode="before")
    @classmethod
    def _plain(cls, raw: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None  # a field validator always runs for a named field
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and info.field_name != "source":
            raw = str(int(raw)) if float(raw).is_integer() else str(raw)  # a code or a name typed as a number
        return plain_text(raw, info.field_name)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, raw: Any) -> str:
        return parse_period(raw)

    @field_validator("correction", mode="before")
    @classmethod
    def _flag(cls, raw: Any) -> bool:
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bilingual("flag", f"{str(raw)[:40]!r} is not true/false (是/否)", f"“{str(raw)[:40]}”应为 是 或 否")

    def figures(self) -> Figures:
        return Figures.model_validate(self.model_dump(include=set(Figures.model_fields)))

    def digest(self) -> str:
        """What the report says (its figures), as a short hash: the same figures sent again are
        'unchanged', whoever sends them and whatever the correction flag."""
        return figures_digest(self.figures())


def figures_digest(fig: Figures) -> str:
    text = json.dumps(fig.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ReportedPeriod(BaseModel):
    """What a town workflow remembers of an accepted report (its latest revision)."""

    period: str
    revision: int
    fai: float
    industry_fai: float
    nongov_fai: float
    tax: float | None = None
    submission_id: str = ""
    digest: str = ""  # of all its figures (ReportSubmission.digest); "" when carried from before digests


class Sanity(BaseModel):
    """Plausibility bounds of one town's figures (a rule pack's ``[sanity]``; fixed in a town's
    workflow when it is registered): beyond them a figure is a typing or unit slip."""

    model_config = ConfigDict(extra="forbid")  # a misspelt bound in a pack is refused, not ignored

    clause: str = Field(
        default="", description="the clause the bounds answer to (the pack's [sanity] clause; none in older histories)"
    )
    max_fai_ytd: float = Field(gt=0)
    max_tax_ytd: float = Field(gt=0)


# ---------------------------------------------------------------- a file's rows for one town

MAX_BATCH_ROWS = 1000  # one town's rows in one file (83 years of months): a larger file is split


class ReportRow(BaseModel):
    """One row of a submitted file, as its town's workflow takes it."""

    row: str = Field(description="where in the file: the row number, or sheet!row")
    raw: dict[str, Any] = Field(default_factory=dict, description="the cells as sent, kept if the row is refused")
    submission: ReportSubmission


class ReportBatch(BaseModel):
    """One file's rows for one town, taken as a whole and in file order: a town's reports are
    serialised, so two files for the same months never interleave."""

    code: str
    rows: list[ReportRow] = Field(min_length=1, max_length=MAX_BATCH_ROWS)


Status = Literal["accepted", "corrected", "unchanged", "rejected"]


class RowAnswer(BaseModel):
    row: str
    period: str
    status: Status
    revision: int | None = None
    failed_rules: list[str] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)


class BatchOutcome(BaseModel):
    code: str
    answers: list[RowAnswer]


class AcceptedReport(BaseModel):
    """A report the town workflow accepted, with its revision."""

    submission: ReportSubmission
    revision: int
    received_at: datetime


class MonthlyReport(SQLModel, table=True):
    """One stored revision of a town's monthly report (append-only)."""

    __tablename__ = "monthly_reports"
    __table_args__ = (UniqueConstraint("code", "period", "revision", name="uq_report_revision"),)

    id: int | None = SQLField(default=None, primary_key=True)
    submission_id: str = SQLField(unique=True, max_length=200)
    code: str = SQLField(index=True, max_length=32)
    period: str = SQLField(index=True, max_length=7)
    revision: int
    fai: float
    industry_fai: float
    nongov_fai: float
    tax: float | None = None
    new_enterprises: int | None = None
    high_tech_enterprises: int | None = None
    high_end_talents: int | None = None
    tourists_10k: float | None = None
    scenic_level: int | None = None
    correction: bool = False
    submitted_by: str
    source: str | None = None
    received_at: datetime
    recorded_at: datetime
    raw: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSON, nullable=False))

    def figures(self) -> Figures:
        return Figures.model_validate(self.model_dump(include=set(Figures.model_fields)))
