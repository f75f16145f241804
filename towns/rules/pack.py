"""Rule packs: a programme as data — its vocabularies, its dated parameters and its checks.

A pack file (``rules/packs/<id>.toml``, schema 2, documented for officials in
docs/packs.md) declares:

- ``[pack]``: id, version, titles, and ``extends``: the pack it layers on (a city programme
  extends the provincial base, ``sx2018`` extends ``zj``);
- ``[programme]``: the city's name, the report due day, the bulletin months and day;
- ``[[districts]]``, ``[[tiers]]``, ``[[industries]]``, ``[grades]``, ``[[bands]]``,
  ``[scope.<kind>]``: the vocabularies and which towns each round kind takes;
- ``[params.<path>]``: each parameter with its clause, unit, names and its values by the
  date they take effect (``values = { 2018-01-01 = 300 }``, ``until`` ends it), as
  OpenFisca's parameters carry them;
- ``[[checks]]``: one per finding (towns/rules/evaluator.py evaluates them).

``resolve`` merges a pack with the packs it extends (a layer's parameter replaces the
base's; districts, tiers, industries and checks merge by id, field by field) and keeps the
values in force on one date: the result is a ``RulePack``, validated, whose hash is taken
over its canonical JSON. Findings and rounds record its id, version and that hash; the
resolved JSON is what the ``packs`` table stores, so a past decision is replayed under
exactly the values it used. Packs of the first schema (one file, undated) are still read:
towns/rules/legacy.py converts them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..models.finding import DEFAULT_PACK, PackRef
from ..models.pack_store import StoredPack
from ..models.report import Sanity
from .clauses import catalogue

SCHEMA = 2
SCORE_MAX = 100
KINDS = ("monthly", "annual", "acceptance", "application", "city")
ROUND_KINDS = ("annual", "acceptance", "application")
STAGES = ("indicator", "grade", "consequence")
DIRECTIONS = ("min", "max", "holds", "info", "ladder")
MISSING = ("fail", "pass", "skip", "not_assessed", "pending")
EFFECTS = ("score", "warning", "eliminated", "none", "outcome")
SCORINGS = ("ratio", "toward_threshold", "measured")
CONSEQUENCES = ("demoted", "eliminated", "office")
TARGETS = ("floor", "planned", "planned_current")
BAND_GRADES = ("excellent", "good", "pass", "warning")
GRADES = (*BAND_GRADES, "demoted", "eliminated", "named", "not_named", "admitted", "rejected")
STATES = ("applied", "creating", "named", "eliminated", "rejected")
FAR_PAST = date(1900, 1, 1)
MEASURED_THRESHOLDS = ("annual_fai", "district_totals")  # measures whose threshold is not a parameter


class PackError(ValueError):
    """A rule pack that cannot be used, with what is wrong in it and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- resolved pack


class Param(_Strict):
    """One parameter as in force on the pack's date."""

    value: Any
    clause: str
    unit: str = ""
    zh: str = ""
    en: str = ""
    since: date | None = None
    until: date | None = None
    reading: str = ""  # "office": the office's reading, where the text gives no number
    layer: str = ""  # the pack that declares it


class Named(_Strict):
    id: str
    zh: str
    en: str
    aliases: list[str] = Field(default_factory=list)


class District(Named):
    quota: float | None = None
    quota_clause: str = ""


class Industry(Named):
    flags: list[str] = Field(default_factory=list)


class Tier(Named):
    target: str = "floor"
    subject_to: list[str] = Field(default_factory=list)
    on_warnings: str = "office"
    on_acceptance_failures: str = "eliminated"
    demotes_to: str | None = None
    named_to: str | None = None
    can_apply: bool = False
    ladder_clause: str = ""
    weights_move: dict[str, str] = Field(default_factory=dict)


class Band(_Strict):
    """One annual grade band: a score at or above ``min`` earns ``grade``."""

    grade: str
    min: float
    clause: str


class Scope(_Strict):
    states: list[str]


class Programme(_Strict):
    city_zh: str
    city_en: str
    report_due_day: int = Field(ge=1, le=28)
    bulletin_months: list[int]
    bulletin_day: int = Field(ge=1, le=28)
    calendar_clause: str


class Text(_Strict):
    en: str
    zh: str


class Check(_Strict):
    """One declared check: everything a finding needs but the measure's arithmetic."""

    id: str
    kind: str
    clause: str
    measure: str
    stage: str = "indicator"
    tiers: list[str] | None = None
    industries: list[str] | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    threshold: str | None = None
    threshold_if: dict[str, str] = Field(default_factory=dict)
    threshold_value: float | None = None
    direction: str = "min"
    missing: str | dict[str, str] = "fail"
    points: str | None = None
    scoring: str = "ratio"
    effect: str | None = None
    exempt: str | None = None
    clause_for: dict[str, str] = Field(default_factory=dict)
    consequence_clause: str | None = None
    ladder: Literal["on_warnings", "on_acceptance_failures"] | None = None
    rounds: list[str] = Field(
        default_factory=lambda: ["annual"], description="city checks: the round kinds they report in"
    )
    in_force: bool = Field(default=True, description="false before its layer's in_force date: not evaluated")
    text: dict[str, Text] = Field(default_factory=dict)

    def missing_policy(self, case: str) -> str:
        if isinstance(self.missing, str):
            return self.missing
        return self.missing.get(case, "fail")

    @property
    def grade_effect(self) -> str:
        if self.effect is not None:
            return self.effect
        return "outcome" if self.kind in ("acceptance", "application") else "score"


class PackHeader(_Strict):
    id: str
    version: str
    title_zh: str
    title_en: str
    schema_: int = Field(default=SCHEMA, alias="schema")
    extends: str | None = None
    layers: list[str] = Field(default_factory=list, description="id version of each layer, base first")
    as_of: date | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RulePack(_Strict):
    """A programme resolved on one date: what every evaluation reads."""

    pack: PackHeader
    programme: Programme
    sanity: Sanity
    params: dict[str, Param]
    districts: list[District]
    tiers: list[Tier]
    industries: list[Industry]
    grades: dict[str, Text]
    bands: list[Band]
    scope: dict[str, Scope]
    checks: list[Check]
    clauses: dict[str, Text] = Field(
        default_factory=dict, description="clauses the pack adds to the catalogue (a new city's own text)"
    )
    declared: list[str] = Field(
        default_factory=list, description="every parameter path the layers declare, in force or not"
    )
    hash: str = ""
    source: str = ""  # the canonical JSON the hash is taken over; stored so a decision replays

    # ---- reading

    def has(self, path: str) -> bool:
        return path in self.params

    def param(self, path: str) -> Param:
        try:
            return self.params[path]
        except KeyError:
            raise KeyError(
                f"parameter {path!r} is not in force in pack {self.pack.id} {self.pack.version} as of {self.pack.as_of}"
            ) from None

    def value(self, path: str) -> Any:
        if path in ("report_due_day", "bulletin_day", "bulletin_months"):
            return getattr(self.programme, path)
        if path == "district_quotas":
            return {d.id: d.quota for d in self.districts if d.quota is not None}
        return self.param(path).value

    def annual_value(self, name: str) -> Any:
        """``approval_overdue_days`` is ``annual.approval_overdue_days``; ``weight:x`` is ``annual.weights.x``."""
        if name.startswith("weight:"):
            return self.value("annual.weights." + name.split(":", 1)[1])
        return self.value("annual." + name)

    def acceptance_value(self, name: str) -> Any:
        return self.value("acceptance." + name)

    def application_value(self, name: str) -> Any:
        return self.value("application." + name)

    def tier(self, tier_id: str) -> Tier:
        for t in self.tiers:
            if t.id == tier_id:
                return t
        raise KeyError(f"tier {tier_id!r} is not in pack {self.pack.id}: {[t.id for t in self.tiers]}")

    def industry(self, industry_id: str) -> Industry:
        for i in self.industries:
            if i.id == industry_id:
                return i
        raise KeyError(f"industry {industry_id!r} is not in pack {self.pack.id}")

    def district(self, district_id: str) -> District:
        for d in self.districts:
            if d.id == district_id:
                return d
        raise KeyError(f"district {district_id!r} is not in pack {self.pack.id}")

    def grade_zh(self, grade: str) -> str:
        t = self.grades.get(grade)
        return t.zh if t is not None else grade

    def checks_of(self, kind: str, stage: str | None = None) -> list[Check]:
        return [c for c in self.checks if c.kind == kind and (stage is None or c.stage == stage)]

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(f"no check {check_id!r} in pack {self.pack.id}")

    def weights(self) -> dict[str, Param]:
        prefix = "annual.weights."
        return {k[len(prefix) :]: p for k, p in self.params.items() if k.startswith(prefix)}

    @property
    def ref(self) -> PackRef:
        return PackRef(id=self.pack.id, version=self.pack.version, hash=self.hash)

    @property
    def city(self) -> Text:
        return Text(zh=self.programme.city_zh, en=self.programme.city_en)

    @property
    def monthly(self) -> list[Check]:
        return self.checks_of("monthly")

    # ---- validation

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = validate(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _known_measures() -> set[str]:
    from .measures import MEASURES

    return set(MEASURES)


def validate(pack: RulePack) -> list[str]:
    """Every problem of a resolved pack, each saying how to fix it."""
    out: list[str] = []
    known = {**catalogue(), **pack.clauses}

    def cite(where: str, cid: str) -> None:
        if cid and cid not in known:
            out.append(f"{where} cites unknown clause {cid!r}: declare it under [clauses] (zh, en) or fix the id")

    for path, p in pack.params.items():
        cite(f"params.{path}", p.clause)
    cite("sanity", pack.sanity.clause)
    cite("programme.calendar_clause", pack.programme.calendar_clause)
    for b in pack.bands:
        cite(f"bands.{b.grade}", b.clause)
    tier_ids = {t.id for t in pack.tiers}
    industry_ids = {i.id for i in pack.industries}
    for kind, ids in (("district", [d.id for d in pack.districts]), ("tier", list(tier_ids))):
        if len(ids) != len(set(ids)):
            out.append(f"a {kind} id appears twice: {ids}")
    for t in pack.tiers:
        cite(f"tiers.{t.id}.ladder_clause", t.ladder_clause)
        if t.target not in TARGETS:
            out.append(f"tiers.{t.id}.target is {t.target!r}: use one of {list(TARGETS)}")
        for attr in ("on_warnings", "on_acceptance_failures"):
            if getattr(t, attr) not in CONSEQUENCES:
                out.append(f"tiers.{t.id}.{attr} is {getattr(t, attr)!r}: use one of {list(CONSEQUENCES)}")
        for attr in ("demotes_to", "named_to"):
            v = getattr(t, attr)
            if v is not None and v not in tier_ids:
                out.append(f"tiers.{t.id}.{attr} names unknown tier {v!r}: use one of {sorted(tier_ids)}")
        for k in t.subject_to:
            if k not in KINDS:
                out.append(f"tiers.{t.id}.subject_to names unknown kind {k!r}: use {list(KINDS)}")
    for d in pack.districts:
        cite(f"districts.{d.id}.quota", d.quota_clause)
    for g in pack.grades:
        if g not in GRADES:
            out.append(f"grades.{g}: unknown grade; the engine's grades are {list(GRADES)}")
    missing_grades = [g for g in GRADES if g not in pack.grades]
    if missing_grades:
        out.append(f"grades: name every grade in Chinese and English; missing {missing_grades}")
    for kind, sc in pack.scope.items():
        if kind not in ROUND_KINDS:
            out.append(f"scope.{kind}: unknown round kind; use {list(ROUND_KINDS)}")
        for s in sc.states:
            if s not in STATES:
                out.append(f"scope.{kind}.states: unknown state {s!r}; use {list(STATES)}")
    for m in pack.programme.bulletin_months:
        if not 1 <= m <= 12:
            out.append(f"programme.bulletin_months: {m} is not a month (1–12)")
    out += _validate_bands(pack)
    out += _validate_checks(pack, tier_ids, industry_ids, cite)
    quotas = [d.quota for d in pack.districts if d.quota is not None]
    if quotas and pack.has("city_fai_target"):
        total, target = sum(quotas), pack.value("city_fai_target")
        if abs(total - target) > 1e-9:
            out.append(
                f"the district quotas sum to {total:g} 亿元 but city_fai_target is {target:g} 亿元 "
                f"as of {pack.pack.as_of or 'the latest date'}: make them agree"
            )
    weights = pack.weights()
    if weights:
        for name, w in weights.items():
            _number(out, f"annual.weights.{name}", w.value)
        total = sum(w.value for w in weights.values() if isinstance(w.value, (int, float)))
        if abs(total - SCORE_MAX) > 1e-9:
            listed = ", ".join(f"{k} {w.value:g}" for k, w in weights.items())
            out.append(
                f"the annual weights in force on {pack.pack.as_of or 'the latest date'} sum to {total:g} "
                f"points, not {SCORE_MAX} ({listed}): change them, or date them so that they agree"
            )
    for path in ("annual.fai_floor", "annual.relaxed_fai_floor"):
        if pack.has(path):
            _number(out, path, pack.value(path))
    for path, p in pack.params.items():
        if p.unit == "ratio" and isinstance(p.value, (int, float)) and not 0 <= p.value <= 1:
            out.append(f"params.{path} is a ratio between 0 and 1, not {p.value}")
    return out


def _number(out: list[str], path: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        out.append(f"params.{path} must be a number of at least 0, not {v!r}")


def _validate_bands(pack: RulePack) -> list[str]:
    out: list[str] = []
    if not pack.bands:
        return ["bands: give at least one band, the last starting at 0"]
    grades = [b.grade for b in pack.bands]
    for g in grades:
        if g not in BAND_GRADES:
            out.append(f"bands: unknown grade {g!r}; a band earns one of {list(BAND_GRADES)}")
    if len(set(grades)) != len(grades):
        out.append(f"bands: a grade appears twice: {grades}")
    mins = [b.min for b in pack.bands]
    if any(a <= b for a, b in itertools.pairwise(mins)):
        out.append(f"bands must be in strictly descending order of min (highest band first), not {mins}")
    if mins[-1] != 0:
        out.append(f"the last band must start at 0 (every score gets a grade), not {mins[-1]}")
    if mins[0] > SCORE_MAX:
        out.append(f"bands: the top band starts at {mins[0]}, above the maximum score {SCORE_MAX}")
    return out


def _validate_checks(pack: RulePack, tier_ids: set[str], industry_ids: set[str], cite: Any) -> list[str]:
    out: list[str] = []
    measures = _known_measures()
    declared = set(pack.params) | set(pack.declared)
    ids = [c.id for c in pack.checks]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        out.append(f"check {dup!r} is declared twice")
    flags = {f for i in pack.industries for f in i.flags}
    for c in pack.checks:
        w = f"check {c.id}"
        cite(f"{w}.clause", c.clause)
        for tier, cid in c.clause_for.items():
            cite(f"{w}.clause_for.{tier}", cid)
        if c.consequence_clause:
            cite(f"{w}.consequence_clause", c.consequence_clause)
        if c.kind not in KINDS:
            out.append(f"{w}: unknown kind {c.kind!r}; use one of {list(KINDS)}")
        if c.stage not in STAGES:
            out.append(f"{w}: unknown stage {c.stage!r}; use one of {list(STAGES)}")
        if c.measure not in measures:
            out.append(f"{w}: unknown measure {c.measure!r}; the measures are {sorted(measures)}")
        if c.direction not in DIRECTIONS:
            out.append(f"{w}: unknown direction {c.direction!r}; use one of {list(DIRECTIONS)}")
        if c.scoring not in SCORINGS:
            out.append(f"{w}: unknown scoring {c.scoring!r}; use one of {list(SCORINGS)}")
        if c.effect is not None and c.effect not in EFFECTS:
            out.append(f"{w}: unknown effect {c.effect!r}; use one of {list(EFFECTS)}")
        policies = [c.missing] if isinstance(c.missing, str) else list(c.missing.values())
        for m in policies:
            if m not in MISSING:
                out.append(f"{w}: missing = {m!r} is not one of {list(MISSING)}")
        for t in c.tiers or []:
            if t not in tier_ids:
                out.append(f"{w}: unknown tier {t!r}; the pack's tiers are {sorted(tier_ids)}")
        for i in c.industries or []:
            if i not in industry_ids:
                out.append(f"{w}: unknown industry {i!r}; the pack's industries are {sorted(industry_ids)}")
        for flag in [*c.threshold_if, *([c.exempt] if c.exempt else [])]:
            if flag not in flags:
                out.append(f"{w}: no industry has the flag {flag!r} (flags in use: {sorted(flags)})")
        for ref in [c.threshold, c.points, *c.threshold_if.values()]:
            if ref is not None and ref not in declared:
                out.append(f"{w} refers to unknown parameter {ref!r}: declare it under [params.{ref}] or fix the name")
        unset = c.threshold is None and c.threshold_value is None
        if c.direction in ("min", "max") and unset and c.measure not in MEASURED_THRESHOLDS:
            out.append(f"{w}: a {c.direction} check needs a threshold (a parameter path)")
        if c.direction == "ladder" and c.threshold is None:
            out.append(f"{w}: a ladder check needs a threshold (the count that leads to the consequence)")
        if "default" not in c.text and not c.text:
            out.append(f"{w}: give its wording ([checks.text.default] en and zh)")
    return out


# ---------------------------------------------------------------- files and layers


class ParamFile(_Strict):
    """A parameter as one layer writes it."""

    clause: str
    unit: str = ""
    zh: str = ""
    en: str = ""
    values: dict[date, Any] = Field(default_factory=dict)
    until: date | None = None
    reading: Literal["", "office"] = ""

    @model_validator(mode="after")
    def _dated(self) -> Self:
        if not self.values:
            raise ValueError("give its values by date: values = { 2018-01-01 = 300 }")
        late = [d for d in self.values if self.until is not None and d > self.until]
        if late:
            raise ValueError(f"a value dated {late[0]} is after its until {self.until}: remove one of them")
        return self

    def entries(self, layer: str) -> list[dict[str, Any]]:
        meta = self.model_dump(exclude={"values"})
        return [{**meta, "since": d, "value": v, "layer": layer} for d, v in sorted(self.values.items())]


def in_force(entries: list[dict[str, Any]], as_of: date | None) -> dict[str, Any] | None:
    """The entry in force on ``as_of``: the latest dated on or before it, unless its layer ended
    it (``until``); with no date, the latest of all."""
    ordered = sorted(entries, key=lambda e: e["since"])
    if as_of is None:
        return ordered[-1] if ordered else None
    dated = [e for e in ordered if e["since"] <= as_of]
    if not dated:
        return None
    last = dated[-1]
    return None if last["until"] is not None and as_of > last["until"] else last


def _flatten_params(tree: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """``{"annual": {"fai_floor": {...}}}`` → ``{"annual.fai_floor": {...}}``: a leaf has ``clause``."""
    out: dict[str, dict[str, Any]] = {}
    for key, node in tree.items():
        path = f"{prefix}{key}"
        if not isinstance(node, dict):
            raise PackError(f"params.{path}: a parameter is a table with clause, unit, zh, en and values")
        if "clause" in node:
            out[path] = node
        else:
            out.update(_flatten_params(node, path + "."))
    return out


def _merge_by_id(base: list[dict[str, Any]], layer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {item["id"]: dict(item) for item in base}
    for item in layer:
        if item.get("remove"):
            merged.pop(item["id"], None)
        elif item["id"] in merged:
            merged[item["id"]] = {**merged[item["id"]], **item}
        else:
            merged[item["id"]] = dict(item)
    return list(merged.values())


class Layer(BaseModel):
    """One pack file as written (its own data, before merging)."""

    id: str
    version: str
    data: dict[str, Any]
    text: str
    origin: str

    @property
    def extends(self) -> str | None:
        return self.data.get("pack", {}).get("extends")


def read_layer(text: str, origin: str = "<pack>") -> Layer:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{origin}: not valid TOML: {exc}") from None
    header = data.get("pack")
    if not isinstance(header, dict) or "id" not in header or "version" not in header:
        raise PackError(f"{origin}: the [pack] table with id and version is missing")
    return Layer(id=header["id"], version=str(header["version"]), data=data, text=text, origin=origin)


def shipped_layer(pack_id: str) -> Layer | None:
    res = resources.files("towns.rules").joinpath("packs", f"{pack_id}.toml")
    if not res.is_file():
        return None
    return read_layer(res.read_text("utf-8"), f"rules/packs/{pack_id}.toml")


def chain(top: Layer, find: Any = shipped_layer) -> list[Layer]:
    """The layers from the base to ``top``."""
    layers = [top]
    while layers[0].extends:
        parent = find(layers[0].extends)
        if parent is None:
            raise PackError(f"{layers[0].origin}: extends {layers[0].extends!r}, which is not installed or shipped")
        if any(layer.id == parent.id for layer in layers):
            raise PackError(f"{top.origin}: the packs extend each other in a circle ({parent.id})")
        layers.insert(0, parent)
    return layers


def merge(layers: list[Layer]) -> dict[str, Any]:
    """The layers' data merged, base first (still dated)."""
    out: dict[str, Any] = {
        "params": {},
        "districts": [],
        "tiers": [],
        "industries": [],
        "check_layers": [],
        "tier_layers": [],
        "band_layers": [],
    }
    for layer in layers:
        d = layer.data
        if d.get("pack", {}).get("schema") != SCHEMA:
            raise PackError(f"{layer.origin}: [pack] schema = {SCHEMA} is required (docs/packs.md)")
        for path, node in _flatten_params(d.get("params", {})).items():
            try:
                pf = ParamFile.model_validate(node)
            except ValidationError as exc:
                raise PackError(f"{layer.origin}: params.{path}: {_first_error(exc)}") from None
            # a layer's values replace the base's from their dates on; what it does not say
            # (unit, names) it keeps from the base
            base = out["params"].get(path, [])
            kept = [e for e in base if e["since"] not in pf.values]
            entries = pf.entries(f"{layer.id} {layer.version}")
            if base:
                for e in entries:
                    e.update({k: base[-1][k] for k in ("unit", "zh", "en", "reading") if k not in node})
            out["params"][path] = kept + entries
        for key in ("districts", "industries"):
            out[key] = _merge_by_id(out[key], d.get(key, []))
        # a layer's checks, bands and changes to the base's tiers are in force from the layer's
        # date on (its new tiers, like its districts, are its vocabulary whatever the year)
        since = d["pack"].get("in_force")
        if since is not None and not isinstance(since, date):
            raise PackError(f"{layer.origin}: [pack] in_force = {since!r} is not a date (write 2018-01-01)")
        out["check_layers"].append({"in_force": since, "checks": d.get("checks", [])})
        known = {t["id"] for t in out["tiers"]}
        out["tiers"] = _merge_by_id(out["tiers"], [t for t in d.get("tiers", []) if t["id"] not in known])
        out["tier_layers"].append({"in_force": since, "tiers": [t for t in d.get("tiers", []) if t["id"] in known]})
        if "bands" in d:
            out["band_layers"].append({"in_force": since, "bands": d["bands"]})
        for key in ("programme", "sanity"):
            if key in d:
                out[key] = {**out.get(key, {}), **d[key]}
        if "grades" in d:
            out["grades"] = {**out.get("grades", {}), **d["grades"]}
        if "clauses" in d:
            out["clauses"] = {**out.get("clauses", {}), **d["clauses"]}
        if "scope" in d:
            out["scope"] = {**out.get("scope", {}), **d["scope"]}
    top = layers[-1].data["pack"]
    out["pack"] = {k: top[k] for k in ("id", "version", "title_zh", "title_en", "extends") if k in top}
    out["pack"]["layers"] = [f"{layer.id} {layer.version}" for layer in layers]
    return out


def resolve_data(merged: dict[str, Any], as_of: date | None) -> dict[str, Any]:
    """Keep the values in force on ``as_of`` (None: the latest of every parameter)."""
    params = {}
    for path, entries in merged["params"].items():
        got = in_force(entries, as_of)
        if got is not None:
            params[path] = got
    districts = []
    for d in merged["districts"]:
        d = dict(d)
        quota = d.pop("quota", None)
        if isinstance(quota, dict):
            try:
                pf = ParamFile.model_validate({"unit": "亿元", **quota})
            except ValidationError as exc:
                raise PackError(f"districts.{d.get('id')}.quota: {_first_error(exc)}") from None
            got = in_force(pf.entries(""), as_of)
            d["quota"] = None if got is None else got["value"]
            d["quota_clause"] = pf.clause
        districts.append(d)
    checks: list[dict[str, Any]] = []
    for layer in merged["check_layers"]:
        if as_of is None or layer["in_force"] is None or layer["in_force"] <= as_of:
            checks = _merge_by_id(checks, layer["checks"])
        else:  # a layer not yet in force: its new checks say so (city checks: "no target in force")
            known = {c["id"] for c in checks}
            checks += [{**c, "in_force": False} for c in layer["checks"] if c["id"] not in known and "kind" in c]
    tiers, bands = merged["tiers"], []
    for layer in merged["tier_layers"]:
        if as_of is None or layer["in_force"] is None or layer["in_force"] <= as_of:
            tiers = _merge_by_id(tiers, layer["tiers"])
    for layer in merged["band_layers"]:
        if as_of is None or layer["in_force"] is None or layer["in_force"] <= as_of:
            bands = layer["bands"]
    data = {k: v for k, v in merged.items() if not k.endswith("_layers")}
    data.update(
        params=params, districts=districts, checks=checks, tiers=tiers, bands=bands, declared=sorted(merged["params"])
    )
    data["pack"] = {**merged["pack"], "as_of": as_of}
    return data


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    loc = ".".join(str(x) for x in e["loc"])
    return f"{loc}: {e['msg']}" if loc else e["msg"]


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def build(data: dict[str, Any], origin: str) -> RulePack:
    """A resolved pack from its data, validated and hashed."""
    try:
        pack = RulePack.model_validate(data)
    except ValidationError as exc:
        raise PackError(f"{origin}:\n" + "\n".join(_messages(exc))) from None
    body = pack.model_dump(mode="json", exclude={"hash", "source"}, by_alias=True)
    pack.source = canonical(body)
    pack.hash = _hash(body)
    return pack


def _messages(exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        msg = str(e.get("ctx", {}).get("error", e["msg"])).removeprefix("Value error, ")
        out.append(f"{loc}: {msg}" if loc else msg)
    return out


def resolve(top: Layer, as_of: date | None = None, find: Any = shipped_layer) -> RulePack:
    layers = chain(top, find)
    merged = merge(layers)
    return build(resolve_data(merged, as_of), top.origin)


def parse_pack(text: str, origin: str = "<pack>", as_of: date | None = None) -> RulePack:
    """A pack from the text of its file (schema 2, or a first-schema pack), or from a stored
    resolved pack (its canonical JSON)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return build(json.loads(text), origin)
    from .legacy import is_legacy, parse_legacy

    if is_legacy(text):
        return parse_legacy(text, origin)
    return resolve(read_layer(text, origin), as_of)


def _finder(folder: Path | None) -> Any:
    """Where a layer's base is found: a pack file of that id beside it, else the shipped packs."""

    def find(pack_id: str) -> Layer | None:
        if folder is not None and (folder / f"{pack_id}.toml").is_file():
            path = folder / f"{pack_id}.toml"
            return read_layer(path.read_text("utf-8"), str(path))
        return shipped_layer(pack_id)

    return find


def load_pack_file(path: str | Path, as_of: date | None = None) -> RulePack:
    path = Path(path)
    text = path.read_text("utf-8")
    if text.lstrip().startswith("{"):
        return parse_pack(text, str(path))
    from .legacy import is_legacy, parse_legacy

    if is_legacy(text):
        return parse_legacy(text, str(path))
    return resolve(read_layer(text, str(path)), as_of, _finder(path.parent))


def effective_dates(merged: dict[str, Any]) -> list[date]:
    """Every date on which some value of the merged layers starts or stops being in force."""
    days: set[date] = set()
    days.update(layer["in_force"] for layer in merged["check_layers"] if layer["in_force"] is not None)
    nodes = [e for entries in merged["params"].values() for e in entries]
    nodes += [d["quota"] for d in merged["districts"] if isinstance(d.get("quota"), dict)]
    for node in nodes:
        if "since" in node:
            days.add(node["since"])
        for k in node.get("values", {}):
            days.add(k if isinstance(k, date) else date.fromisoformat(str(k)))
        if node.get("until") is not None:
            days.add(node["until"] + timedelta(days=1))
    return sorted(days)


def check_file(path: str | Path) -> list[str]:
    """Every problem of a pack file, on every date one of its values takes effect (and with the
    latest values), each once, saying on which dates it holds and how to fix it."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        return [f"cannot read {path}: {exc}"]
    from .legacy import is_legacy

    if text.lstrip().startswith("{") or is_legacy(text):
        try:
            load_pack_file(path)
        except (PackError, ValueError) as exc:
            return [line for line in str(exc).split("\n") if line.strip()]
        return []
    try:
        merged = merge(chain(read_layer(text, str(path)), _finder(path.parent)))
    except PackError as exc:
        return [line for line in str(exc).split("\n") if line.strip()]
    found: dict[str, list[str]] = {}
    for day in [None, *effective_dates(merged)]:
        try:
            build(resolve_data(merged, day), str(path))
        except PackError as exc:
            for line in str(exc).split("\n")[1:] or [str(exc)]:
                if line.strip():
                    found.setdefault(line.strip(), []).append("latest" if day is None else day.isoformat())
    return [f"{msg} (as of {', '.join(days[:3])}{' …' if len(days) > 3 else ''})" for msg, days in found.items()]


def shipped_ids() -> list[str]:
    folder = resources.files("towns.rules").joinpath("packs")
    return sorted(f.name.removesuffix(".toml") for f in folder.iterdir() if f.name.endswith(".toml"))


@lru_cache(maxsize=64)
def load_pack(pack_id: str = DEFAULT_PACK, as_of: date | None = None) -> RulePack:
    """A pack shipped with towns, by id (``sx2018``), resolved on ``as_of`` (None: every
    parameter at its latest value)."""
    layer = shipped_layer(pack_id)
    if layer is None:
        raise PackError(f"no rule pack {pack_id!r} in towns/rules/packs")
    return resolve(layer, as_of)


def load_programme(engine: Engine | None, pack_id: str = DEFAULT_PACK, as_of: date | None = None) -> RulePack:
    """A programme of this deployment: its latest installed version (``towns pack install``),
    else the pack shipped with towns."""
    if engine is None:
        return load_pack(pack_id, as_of)
    from ..models.pack_store import installed_sources

    installed = installed_sources(engine)
    if not installed:
        return load_pack(pack_id, as_of)
    return _resolve_installed(pack_id, as_of, tuple(sorted(installed.items())))


@lru_cache(maxsize=64)
def _resolve_installed(pack_id: str, as_of: date | None, installed: tuple[tuple[str, str], ...]) -> RulePack:
    texts = dict(installed)

    def find(pid: str) -> Layer | None:
        if pid in texts:
            return read_layer(texts[pid], f"installed pack {pid}")
        return shipped_layer(pid)

    top = find(pack_id)
    if top is None:
        raise PackError(f"no rule pack {pack_id!r} is installed or shipped (towns pack list shows them)")
    return resolve(top, as_of, find)


def programmes(engine: Engine | None) -> list[str]:
    """The programmes towns can belong to: installed and shipped packs that name districts."""
    ids = set(shipped_ids())
    if engine is not None:
        from ..models.pack_store import installed_sources

        ids |= set(installed_sources(engine))
    out = []
    for pid in sorted(ids):
        try:
            if load_programme(engine, pid).districts:
                out.append(pid)
        except PackError:
            continue
    return out


def period_end(period: str) -> date:
    """The last day of a month ``YYYY-MM``: the date whose values judge that month's report."""
    y, m = int(period[:4]), int(period[5:7])
    return date(y + m // 12, m % 12 + 1, 1) - timedelta(days=1)


def load_pack_for_period(pack_id: str, period: str, engine: Engine | None = None) -> RulePack:
    """The pack in force for a monthly report's period."""
    return load_programme(engine, pack_id, period_end(period))


def pack_by_hash(engine: Engine, pack_hash: str) -> RulePack:
    """The resolved pack with this hash: from the store, or a shipped legacy pack if it matches."""
    with Session(engine) as s:
        stored = s.get(StoredPack, pack_hash)
    if stored is not None:
        pack = parse_pack(stored.source, f"stored pack {stored.id} {stored.version}")
        if pack.hash != pack_hash:
            raise ValueError(f"stored pack {pack_hash[:12]} does not hash to itself: the packs table was altered")
        return pack
    from .legacy import shipped_legacy

    for pack in shipped_legacy():
        if pack.hash == pack_hash:
            return pack
    raise LookupError(f"no rule pack with hash {pack_hash[:12]} is stored")
