"""Pack files and their layers: read a file, find the packs it extends, merge the layers (base
first) and keep the values in force on a date (towns/rules/pack.py describes the format)."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from importlib import resources
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, ValidationError, model_validator

from .pack import SCHEMA, PackError, RulePack, _first_error, _Strict, build


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


SECTIONS = {
    "pack", "programme", "sanity", "params", "districts", "tiers", "industries",
    "grades", "bands", "scope", "checks", "clauses",
}  # fmt: skip
HEADER_KEYS = {"id", "version", "schema", "extends", "in_force", "title_zh", "title_en"}


def read_layer(text: str, origin: str = "<pack>") -> Layer:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{origin}: not valid TOML: {exc}") from None
    header = data.get("pack")
    if not isinstance(header, dict) or "id" not in header or "version" not in header:
        raise PackError(f"{origin}: the [pack] table with id and version is missing")
    # a misspelt section or [pack] key would otherwise be ignored without a word
    unknown = sorted(set(data) - SECTIONS) if header.get("schema") == SCHEMA else []
    unknown += [f"pack.{k}" for k in sorted(set(header) - HEADER_KEYS)] if header.get("schema") == SCHEMA else []
    if unknown:
        raise PackError(
            f"{origin}: unknown {', '.join(unknown)}: the sections are {', '.join(sorted(SECTIONS))}, "
            f"and [pack] takes {', '.join(sorted(HEADER_KEYS))} (docs/packs.md)"
        )
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


def resolve(top: Layer, as_of: date | None = None, find: Any = shipped_layer) -> RulePack:
    layers = chain(top, find)
    merged = merge(layers)
    return build(resolve_data(merged, as_of), top.origin)


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
