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

This module is the resolved pack and its validation; towns/rules/layers.py reads pack files
and resolves their layers on a date; towns/rules/library.py finds packs (shipped, installed,
stored by hash) and checks pack files.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..models.finding import PackRef
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
        if not t.ladder_clause:
            out.append(
                f"tiers.{t.id}: give its ladder_clause, the clause its consequences (demotion, elimination) cite"
            )
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
    if pack.programme.bulletin_day <= pack.programme.report_due_day:
        out.append(
            f"programme.bulletin_day {pack.programme.bulletin_day} must come after report_due_day "
            f"{pack.programme.report_due_day}: a quarter's bulletin waits for its last month's reports"
        )
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
