"""Rule packs: the thresholds and parameters of one policy year, each with its clause id.

A pack is a TOML file (``rules/packs/<id>.toml``), validated when it loads: every clause
it cites exists, every rule names a known check and known tiers, the district quotas sum
to the city target. Its content hash (over a canonical JSON of the parsed file) pins what
an evaluation used; rounds and findings record id, version and hash.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..models.finding import PackRef
from ..models.vocab import District, Industry, Tier
from .clauses import catalogue

DEFAULT_PACK = "sx2018"
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
    def _known(cls, v):
        if v not in KNOWN_CHECKS:
            raise ValueError(f"unknown check {v!r}; known: {sorted(KNOWN_CHECKS)}")
        return v


class PackHeader(BaseModel):
    id: str
    version: str
    title_zh: str
    title_en: str
    effective: str


class Sanity(BaseModel):
    max_fai_ytd: float = Field(gt=0)
    max_tax_ytd: float = Field(gt=0)


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pack: PackHeader
    params: dict[str, Param]
    sanity: Sanity
    monthly: list[MonthlyRule]
    hash: str = ""

    @model_validator(mode="after")
    def _cited_and_consistent(self):
        known = catalogue()
        cited = [(f"params.{k}", p.clause) for k, p in self.params.items()] + [
            (f"monthly.{r.id}", r.clause) for r in self.monthly
        ]
        for where, cid in cited:
            if cid not in known:
                raise ValueError(f"{where} cites unknown clause {cid!r}")
        for name in ("pace_factor", "provincial_fai_floor", "relaxed_fai_floor", "relaxed_industries",
                     "nongov_share_min", "industry_share_min", "city_fai_target", "district_quotas",
                     "tax_growth_margin", "tax_growth_mode"):
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

    @property
    def ref(self) -> PackRef:
        return PackRef(id=self.pack.id, version=self.pack.version, hash=self.hash)


def _hash(data: dict) -> str:
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
