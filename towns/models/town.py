"""A characteristic town: the contract for registering one, and its registry row."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from .vocab import District, Industry, Tier, TownState

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"
# states of a town on a creation list: graded every year, owes monthly reports
ON_LIST_STATES = (TownState.creating.value, TownState.named.value)


class TownProfile(BaseModel):
    """What the office registers about a town. Money in 亿元 (100 million CNY), areas in km²."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(pattern=CODE_PATTERN, description="office code, e.g. SX-ZJ-WY; letters, digits, - and _")
    name: str = Field(min_length=1, max_length=100, description="town name, e.g. 诸暨袜艺小镇")
    district: District = Field(description="区、县(市)")
    tier: Tier = Field(description="creation list the town is on")
    industry: Industry = Field(description="characteristic industry")
    batch: Optional[str] = Field(default=None, description="creation batch, e.g. 1 (第一批)")
    listed_year: Optional[int] = Field(default=None, ge=2000, le=2100, description="year the town entered its list")
    creation_years: int = Field(default=3, ge=1, le=10, description="length of the creation period, years")
    planned_investment: Optional[float] = Field(default=None, ge=0, description="planned FAI over the creation period, 亿元")
    annual_fai_target: Optional[float] = Field(default=None, gt=0, description="annual FAI target set for the town, 亿元")
    planned_area_km2: Optional[float] = Field(default=None, ge=0, description="planned area, km²")
    core_area_km2: Optional[float] = Field(default=None, ge=0, description="core (construction) area, km²")
    state: TownState = Field(default=TownState.creating)

    @field_validator("district", "tier", "industry", "state", mode="before")
    @classmethod
    def _vocab(cls, raw, info):
        kind = {"district": District, "tier": Tier, "industry": Industry, "state": TownState}[info.field_name]
        return kind.parse(raw)

    @field_validator("batch", mode="before")
    @classmethod
    def _batch(cls, raw):
        if raw is None or raw == "":
            return None
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw)

    @model_validator(mode="after")
    def _consistent(self):
        if self.state in (TownState.creating, TownState.named) and self.listed_year is None:
            raise ValueError("listed_year is required for a town on a list (state creating or named)")
        if self.core_area_km2 is not None and self.planned_area_km2 is not None and self.core_area_km2 > self.planned_area_km2:
            raise ValueError(f"core_area_km2 {self.core_area_km2} is larger than planned_area_km2 {self.planned_area_km2}")
        if self.tier == Tier.city and self.annual_fai_target is None and not self.planned_investment:
            raise ValueError("a city-level town needs planned_investment (its annual target is planned_investment ÷ creation_years) or annual_fai_target")
        return self


class Town(SQLModel, table=True):
    """The registry row. State and tier change only through decisions (later rounds)."""

    __tablename__ = "towns"

    code: str = SQLField(primary_key=True, max_length=32)
    name: str
    district: str = SQLField(index=True)
    tier: str
    industry: str
    batch: Optional[str] = None
    listed_year: Optional[int] = None
    creation_years: int = 3
    planned_investment: Optional[float] = None
    annual_fai_target: Optional[float] = None
    planned_area_km2: Optional[float] = None
    core_area_km2: Optional[float] = None
    state: str = "creating"
    registered_at: datetime
    registered_by: str = "system"
    # what decisions have made of the town (changed only by applied decisions)
    warnings: int = 0  # consecutive annual warnings
    last_grade: Optional[str] = None
    acceptance_failures: int = 0
    applying_for: Optional[str] = None

    def on_list_in(self, year: int) -> bool:
        """On a creation list (in creation or named) in that year: graded, bulletined."""
        return self.state in ON_LIST_STATES and self.listed_year is not None and self.listed_year <= year

    def profile(self) -> TownProfile:
        return TownProfile.model_validate(self.model_dump(exclude={"registered_at", "registered_by", "warnings", "last_grade",
                                                                "acceptance_failures", "applying_for"}))
