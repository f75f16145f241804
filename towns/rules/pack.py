"""Rule packs: the thresholds and parameters of one policy year, each with its clause id.

A pack is a TOML file (``rules/packs/<id>.toml``), validated when it loads: every clause
it cites exists, every rule names a known check and known tiers, the district quotas sum
to the city target, the annual weights sum to 100 and the grade bands descend to 0.
Sections: ``[params]`` and ``[[monthly]]`` (monthly checks), ``[annual]`` with
``[annual.weights]`` and ``[[annual.bands]]`` (annual assessment), ``[acceptance]``
(acceptance and naming), ``[application]`` (applications to a creation list). Its content hash (over a canonical JSON of the parsed file) pins what
an evaluation used; rounds and findings record id, version and hash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..models.finding import DEFAULT_PACK, PackRef
from ..models.pack_store import StoredPack
from ..models.report import Sanity
from ..models.vocab import District, Industry, Tier
from .clauses import catalogue

KNOWN_CHECKS = {"pace", "nongov_share", "industry_share"}


class PackError(ValueError):
    """A rule pack that cannot be used, with what is wrong in it."""


class Param(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any
    clause: str
    unit: str = ""
    zh: str = ""
    en: str = ""


class MonthlyRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    check: str
    clause: str
    tiers: list[Tier]

    @field_validator("check")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in KNOWN_CHECKS:
            raise ValueError(f"unknown check {v!r}; known: {sorted(KNOWN_CHECKS)}")
        return v


ANNUAL_WEIGHTS = ("investment", "industry_share", "nongov_share", "tax_growth", "innovation")
ANNUAL_BAND_GRADES = ("excellent", "good", "pass", "warning")
SCORE_MAX = 100


def _number(where: str, p: Param, *, positive: bool = False, ratio: bool = False, whole: bool = False) -> None:
    v = p.value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{where} must be a number, not {v!r}")
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{where} must be {'above' if positive else 'at least'} 0, not {v}")
    if ratio and v > 1:
        raise ValueError(f"{where} is a ratio between 0 and 1, not {v}")
    if whole and not float(v).is_integer():
        raise ValueError(f"{where} must be a whole number, not {v}")


def _industries(where: str, p: Param) -> None:
    if not isinstance(p.value, list):
        raise ValueError(f"{where} must be a list of industries")
    for ind in p.value:
        Industry.parse(ind)


class Band(BaseModel):
    """One annual grade band: a score at or above ``min`` earns ``grade``."""

    model_config = ConfigDict(extra="forbid")
    grade: str
    min: float
    clause: str
    zh: str = ""
    en: str = ""


class AnnualSection(BaseModel):
    """[annual]: the annual assessment (towns/rules/annual.py)."""

    model_config = ConfigDict(extra="forbid")
    city_nongov_weight_to: Param
    slow_fai_ratio: Param
    poor_score: Param
    warnings_to_consequence: Param
    named_auto_demote: Param
    city_scenic_min: Param
    approval_overdue_days: Param
    weights: dict[str, Param]
    bands: list[Band]

    def params(self) -> dict[str, Param]:
        return {n: getattr(self, n) for n in type(self).model_fields if isinstance(getattr(self, n), Param)}

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if set(self.weights) != set(ANNUAL_WEIGHTS):
            raise ValueError(f"annual.weights must be exactly {list(ANNUAL_WEIGHTS)}, not {sorted(self.weights)}")
        for name, w in self.weights.items():
            _number(f"annual.weights.{name}", w)
        total = sum(w.value for w in self.weights.values())
        if abs(total - SCORE_MAX) > 1e-9:
            raise ValueError(f"annual.weights sum to {total} points, not {SCORE_MAX}")
        to = self.city_nongov_weight_to.value
        if to not in ANNUAL_WEIGHTS or to == "nongov_share":
            raise ValueError(f"annual.city_nongov_weight_to must name another weight, not {to!r}")
        _number("annual.slow_fai_ratio", self.slow_fai_ratio, ratio=True)
        _number("annual.poor_score", self.poor_score)
        if self.poor_score.value > SCORE_MAX:
            raise ValueError(f"annual.poor_score {self.poor_score.value} is above the maximum score {SCORE_MAX}")
        _number("annual.warnings_to_consequence", self.warnings_to_consequence, positive=True, whole=True)
        if not isinstance(self.named_auto_demote.value, bool):
            raise ValueError("annual.named_auto_demote must be true or false")
        _number("annual.city_scenic_min", self.city_scenic_min, whole=True)
        _number("annual.approval_overdue_days", self.approval_overdue_days, positive=True)
        if not self.bands:
            raise ValueError("annual.bands is empty")
        grades = [b.grade for b in self.bands]
        for g in grades:
            if g not in ANNUAL_BAND_GRADES:
                raise ValueError(f"annual.bands: unknown grade {g!r}; known: {list(ANNUAL_BAND_GRADES)}")
        if len(set(grades)) != len(grades):
            raise ValueError(f"annual.bands: a grade appears twice: {grades}")
        mins = [b.min for b in self.bands]
        if any(a <= b for a, b in itertools.pairwise(mins)):
            raise ValueError(f"annual.bands must be in strictly descending order of min, not {mins}")
        if mins[-1] != 0:
            raise ValueError(f"the last annual band must start at 0 (every score gets a grade), not {mins[-1]}")
        if mins[0] > SCORE_MAX:
            raise ValueError(f"annual.bands: the top band starts at {mins[0]}, above the maximum score {SCORE_MAX}")
        return self


class AcceptanceSection(BaseModel):
    """[acceptance]: acceptance and naming after creation (towns/rules/acceptance.py)."""

    model_config = ConfigDict(extra="forbid")
    fai_min: Param
    relaxed_fai_min: Param
    industry_share_min: Param
    scenic_min: Param
    tourism_scenic_min: Param
    tourism_industries: Param
    extension_years: Param
    failures_to_consequence: Param

    def params(self) -> dict[str, Param]:
        return {n: getattr(self, n) for n in type(self).model_fields}

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _number("acceptance.fai_min", self.fai_min)
        _number("acceptance.relaxed_fai_min", self.relaxed_fai_min)
        if self.relaxed_fai_min.value > self.fai_min.value:
            raise ValueError("acceptance.relaxed_fai_min is above acceptance.fai_min")
        _number("acceptance.industry_share_min", self.industry_share_min, ratio=True)
        _number("acceptance.scenic_min", self.scenic_min, whole=True)
        _number("acceptance.tourism_scenic_min", self.tourism_scenic_min, whole=True)
        for name in ("scenic_min", "tourism_scenic_min"):
            if getattr(self, name).value > 5:
                raise ValueError(f"acceptance.{name} is a scenic level 0–5")
        _industries("acceptance.tourism_industries", self.tourism_industries)
        _number("acceptance.extension_years", self.extension_years, whole=True)
        _number("acceptance.failures_to_consequence", self.failures_to_consequence, positive=True, whole=True)
        return self


class ApplicationSection(BaseModel):
    """[application]: applications to enter a creation list (towns/rules/application.py)."""

    model_config = ConfigDict(extra="forbid")
    allowed_industries: Param
    planned_area_max: Param
    area_exempt_industries: Param
    core_area_max: Param
    planned_investment_min: Param
    relaxed_planned_investment_min: Param

    def params(self) -> dict[str, Param]:
        return {n: getattr(self, n) for n in type(self).model_fields}

    @model_validator(mode="after")
    def _valid(self) -> Self:
        _industries("application.allowed_industries", self.allowed_industries)
        _industries("application.area_exempt_industries", self.area_exempt_industries)
        _number("application.planned_area_max", self.planned_area_max, positive=True)
        _number("application.core_area_max", self.core_area_max, positive=True)
        if self.core_area_max.value > self.planned_area_max.value:
            raise ValueError("application.core_area_max is above application.planned_area_max")
        _number("application.planned_investment_min", self.planned_investment_min)
        _number("application.relaxed_planned_investment_min", self.relaxed_planned_investment_min)
        if self.relaxed_planned_investment_min.value > self.planned_investment_min.value:
            raise ValueError("application.relaxed_planned_investment_min is above application.planned_investment_min")
        return self


class PackHeader(BaseModel):
    id: str
    version: str
    title_zh: str
    title_en: str
    effective: str


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pack: PackHeader
    params: dict[str, Param]
    sanity: Sanity
    monthly: list[MonthlyRule]
    annual: AnnualSection
    acceptance: AcceptanceSection
    application: ApplicationSection
    hash: str = ""
    source: str = ""  # the TOML text, kept so a pack can be stored and reloaded by hash

    @model_validator(mode="after")
    def _cited_and_consistent(self) -> Self:
        known = catalogue()
        cited = (
            [(f"params.{k}", p.clause) for k, p in self.params.items()]
            + [("sanity", self.sanity.clause)]
            + [(f"monthly.{r.id}", r.clause) for r in self.monthly]
        )
        cited += [(f"annual.{k}", p.clause) for k, p in self.annual.params().items()]
        cited += [(f"annual.weights.{k}", p.clause) for k, p in self.annual.weights.items()]
        cited += [(f"annual.bands.{b.grade}", b.clause) for b in self.annual.bands]
        cited += [(f"acceptance.{k}", p.clause) for k, p in self.acceptance.params().items()]
        cited += [(f"application.{k}", p.clause) for k, p in self.application.params().items()]
        for where, cid in cited:
            if cid not in known:
                raise ValueError(f"{where} cites unknown clause {cid!r}")
        for name in (
            "pace_factor",
            "provincial_fai_floor",
            "relaxed_fai_floor",
            "relaxed_industries",
            "nongov_share_min",
            "industry_share_min",
            "city_fai_target",
            "district_quotas",
            "tax_growth_margin",
            "tax_growth_mode",
            "report_due_day",
            "bulletin_day",
            "city_industry_fai_target",
            "city_named_min",
        ):
            if name not in self.params:
                raise ValueError(f"params.{name} is missing")
        for ind in self.params["relaxed_industries"].value:
            Industry.parse(ind)
        quotas = self.params["district_quotas"].value
        for d in quotas:
            District.parse(d)
        total, target = sum(quotas.values()), self.params["city_fai_target"].value
        if abs(total - target) > 1e-9:
            raise ValueError(f"district_quotas sum to {total} 亿元 but city_fai_target is {target} 亿元 (SX2018-T4)")
        if self.params["tax_growth_mode"].value not in ("points", "relative"):
            raise ValueError("params.tax_growth_mode must be 'points' or 'relative'")
        ids = [r.id for r in self.monthly]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate monthly rule ids: {ids}")
        return self

    def value(self, name: str) -> Any:
        return self.params[name].value

    def param(self, name: str) -> Param:
        return self.params[name]

    def annual_value(self, name: str) -> Any:
        """A value of [annual] (``approval_overdue_days``…) or of [annual.weights] (``weight:investment``)."""
        if name.startswith("weight:"):
            return self.annual.weights[name.split(":", 1)[1]].value
        return getattr(self.annual, name).value

    def acceptance_value(self, name: str) -> Any:
        return getattr(self.acceptance, name).value

    def application_value(self, name: str) -> Any:
        return getattr(self.application, name).value

    @property
    def ref(self) -> PackRef:
        return PackRef(id=self.pack.id, version=self.pack.version, hash=self.hash)


def _hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_pack(text: str, origin: str = "<pack>") -> RulePack:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{origin}: not valid TOML: {exc}") from None
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as exc:
        raise PackError(f"{origin}: {exc}") from None
    pack.hash = _hash(data)
    pack.source = text
    return pack


def load_pack_file(path: str | Path) -> RulePack:
    path = Path(path)
    return parse_pack(path.read_text("utf-8"), str(path))


@lru_cache(maxsize=16)
def load_pack(pack_id: str = DEFAULT_PACK) -> RulePack:
    """A pack shipped with towns, by id (``sx2018``)."""
    res = resources.files("towns.rules").joinpath("packs", f"{pack_id}.toml")
    if not res.is_file():
        raise PackError(f"no rule pack {pack_id!r} in towns/rules/packs")
    return parse_pack(res.read_text("utf-8"), f"rules/packs/{pack_id}.toml")


def pack_by_hash(engine: Engine, pack_hash: str) -> RulePack:
    """The pack with this content hash: from the store, or the shipped pack if it matches."""
    with Session(engine) as s:
        stored = s.get(StoredPack, pack_hash)
    if stored is not None:
        pack = parse_pack(stored.source, f"stored pack {stored.id} {stored.version}")
        if pack.hash != pack_hash:
            raise ValueError(f"stored pack {pack_hash[:12]} does not hash to itself: the packs table was altered")
        return pack
    shipped = load_pack(DEFAULT_PACK)
    if shipped.hash == pack_hash:
        return shipped
    raise LookupError(f"no rule pack with hash {pack_hash[:12]} is stored")
