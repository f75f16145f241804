"""A characteristic town: the contract for registering one, and its registry row."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .finding import DEFAULT_PACK
from .rejection import bilingual
from .report import MONEY_MAX, number, plain_text, whole
from .vocab import TownState, Vocab

AREA_MAX = 10_000.0  # km²: beyond it an area is a slip (not policy; the pack's limits are)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"  # a district, tier or industry id of a programme
# states of a town on a creation list: graded every year, owes monthly reports
ON_LIST_STATES = (TownState.creating.value, TownState.named.value)


class TownProfile(BaseModel):
    """What the office registers about a town. Money in 亿元 (100 million CNY), areas in km²."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(description="office code, e.g. SX-ZJ-WY; letters, digits, - and _ (2–32)")
    name: str = Field(min_length=1, max_length=100, description="town name, e.g. 诸暨袜艺小镇")
    district: str = Field(description="区、县(市): an id of the programme's districts, e.g. keqiao")
    tier: str = Field(description="creation list the town is on: an id of the programme's tiers")
    industry: str = Field(description="characteristic industry: an id of the programme's industries")
    batch: str | None = Field(default=None, max_length=20, description="creation batch, e.g. 1 (第一批)")
    listed_year: int | None = Field(default=None, ge=2000, le=2100, description="year the town entered its list")
    creation_years: int = Field(default=3, ge=1, le=10, description="length of the creation period, years")
    planned_investment: float | None = Field(
        default=None, ge=0, le=MONEY_MAX, description="planned FAI over the creation period, 亿元"
    )
    annual_fai_target: float | None = Field(
        default=None, gt=0, le=MONEY_MAX, description="annual FAI target set for the town, 亿元"
    )
    planned_area_km2: float | None = Field(default=None, ge=0, le=AREA_MAX, description="planned area, km²")
    core_area_km2: float | None = Field(default=None, ge=0, le=AREA_MAX, description="core (construction) area, km²")
    state: TownState = Field(default=TownState.creating)
    programme: str = Field(default=DEFAULT_PACK, max_length=64, description="the rule pack the town belongs to")

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, raw: Any) -> str:
        text = unicodedata.normalize("NFKC", str(raw)).strip() if raw is not None else ""
        if not re.fullmatch(CODE_PATTERN, text):
            raise bilingual(
                "code",
                f"{str(raw)[:40]!r} is not a town code: 2–32 letters, digits, - or _, "
                "starting with a letter or digit (e.g. SX-ZJ-WY)",
                f"“{str(raw)[:40]}”格式不正确：应为 2–32 位字母、数字、- 或 _，以字母或数字开头（如 SX-ZJ-WY）",
            )
        return text

    @field_validator("name", "batch", mode="before")
    @classmethod
    def _text(cls, raw: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None  # a field validator always runs for a named field
        if info.field_name == "batch":
            if raw is None or raw == "":
                return None
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            raw = str(raw)
        return plain_text(raw, info.field_name)

    @field_validator("planned_investment", "annual_fai_target", "planned_area_km2", "core_area_km2", mode="before")
    @classmethod
    def _number(cls, raw: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None  # a field validator always runs for a named field
        return number(raw, info.field_name)

    @field_validator("listed_year", "creation_years", mode="before")
    @classmethod
    def _whole(cls, raw: Any, info: ValidationInfo) -> int | None:
        assert info.field_name is not None  # a field validator always runs for a named field
        value = whole(raw, info.field_name)
        if value is None and info.field_name == "creation_years":
            return 3
        return value

    @field_validator("district", "tier", "industry", mode="before")
    @classmethod
    def _vocab(cls, raw: Any, info: ValidationInfo) -> str:
        """Through the programme's vocabulary when the caller gives one (an import: 柯桥 → keqiao),
        else an id as stored."""
        assert info.field_name is not None  # a field validator always runs for a named field
        vocabulary = (info.context or {}).get("vocabulary")
        if vocabulary is not None:
            return str(vocabulary.parse(info.field_name, raw))
        text = str(getattr(raw, "value", raw)).strip()
        if not re.fullmatch(ID_PATTERN, text):
            raise bilingual(
                f"unknown_{info.field_name}",
                f"{text[:40]!r} is not a {info.field_name} id (lower-case letters, digits and _)",
                f"“{text[:40]}”不是有效的代码（小写字母、数字和下划线）",
            )
        return text

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, raw: Any) -> Vocab:
        return TownState.parse(raw)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        if self.state in (TownState.creating, TownState.named) and self.listed_year is None:
            raise bilingual(
                "listed_year",
                "is required for a town on a list (state creating or named)",
                "已列入名单（创建中或已命名）的小镇必须填写列入年份",
                field="listed_year",
            )
        if (
            self.core_area_km2 is not None
            and self.planned_area_km2 is not None
            and self.core_area_km2 > self.planned_area_km2
        ):
            raise bilingual(
                "core_area",
                f"{self.core_area_km2} km² is larger than planned_area_km2 {self.planned_area_km2} km²",
                f"{self.core_area_km2} 平方公里大于规划面积 {self.planned_area_km2} 平方公里",
                field="core_area_km2",
            )
        vocabulary = (info.context or {}).get("vocabulary")
        planned = vocabulary is not None and vocabulary.target_is_planned(self.tier)
        if planned and self.annual_fai_target is None and not self.planned_investment:
            raise bilingual(
                "planned_investment",
                "a city-level town needs planned_investment (its annual target is "
                "planned_investment ÷ creation_years) or annual_fai_target",
                "市级小镇须填写计划总投资（年度目标 = 计划总投资 ÷ 创建期）或年度投资目标",
                field="planned_investment",
            )
        return self


class Town(SQLModel, table=True):
    """The registry row. State and tier change only through decisions (later rounds)."""

    __tablename__ = "towns"

    code: str = SQLField(primary_key=True, max_length=32)
    name: str
    district: str = SQLField(index=True)
    tier: str
    industry: str
    batch: str | None = None
    listed_year: int | None = None
    creation_years: int = 3
    planned_investment: float | None = None
    annual_fai_target: float | None = None
    planned_area_km2: float | None = None
    core_area_km2: float | None = None
    state: str = "creating"
    programme: str = SQLField(default="sx2018", max_length=64, sa_column_kwargs={"server_default": "sx2018"})
    registered_at: datetime
    registered_by: str = "system"
    # what decisions have made of the town (changed only by applied decisions)
    warnings: int = 0  # consecutive annual warnings
    last_grade: str | None = None
    acceptance_failures: int = 0
    applying_for: str | None = None

    def on_list_in(self, year: int) -> bool:
        """On a creation list (in creation or named) in that year: graded, bulletined."""
        return self.state in ON_LIST_STATES and self.listed_year is not None and self.listed_year <= year

    def profile(self) -> TownProfile:
        return profile_of(self.model_dump())


def profile_of(row: Mapping[Any, Any]) -> TownProfile:
    """A town's profile from its registry row — a ``Town`` dumped, or a row read with a Core
    statement: the profile's fields, validated."""
    return TownProfile.model_validate({k: row[k] for k in TownProfile.model_fields})
