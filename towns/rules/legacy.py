"""Packs of the first schema (one undated file: ``[params]``, ``[[monthly]]``, ``[annual]``,
``[acceptance]``, ``[application]``), read so that every decision made under one replays
unchanged.

Such a pack held only numbers; its checks, vocabularies and wording were Python code. Those
are frozen, as data, in ``packs/legacy/first-schema-rules.json`` (the 2018.2 behaviour:
the pace rule without named towns, demotions citing SX2018-G6, an acceptance passing while
the annual grade is undecided, a city-level town's target over its extended period …). A
first-schema pack resolves to those rules with its own numbers, and keeps the hash it was
recorded with (over its own parsed TOML).
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from .pack import FAR_PAST, PackError, RulePack, _hash, build

# first-schema [params] name → second-schema path
RENAMED = {
    "provincial_fai_floor": "annual.fai_floor",
    "relaxed_fai_floor": "annual.relaxed_fai_floor",
}
UNUSED = {"relaxed_industries", "district_quotas", "report_due_day", "bulletin_day"}


def is_legacy(text: str) -> bool:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    return "monthly" in data and "schema" not in data.get("pack", {})


def _entry(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "value": p["value"],
        "clause": p["clause"],
        "unit": p.get("unit", ""),
        "zh": p.get("zh", ""),
        "en": p.get("en", ""),
        "since": FAR_PAST,
        "until": None,
        "reading": "",
        "layer": "",
    }


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    text = resources.files("towns.rules").joinpath("packs", "legacy", "first-schema-rules.json").read_text("utf-8")
    rules: dict[str, Any] = json.loads(text)
    rules.pop("_comment", None)
    return rules


def convert(data: dict[str, Any]) -> dict[str, Any]:
    """The resolved data of a first-schema pack."""
    rules = json.loads(json.dumps(_rules()))  # a deep copy
    params: dict[str, Any] = {}
    for name, p in data["params"].items():
        if name not in UNUSED:
            params[RENAMED.get(name, name)] = _entry(p)
    for section in ("annual", "acceptance", "application"):
        for name, p in data[section].items():
            if name == "weights":
                for w, wp in p.items():
                    params[f"annual.weights.{w}"] = _entry(wp)
            elif isinstance(p, dict) and "clause" in p:
                params[f"{section}.{name}"] = _entry(p)
    flags = {
        "relaxed": data["params"]["relaxed_industries"]["value"],
        "tourism": data["acceptance"]["tourism_industries"]["value"],
        "area_exempt": data["application"]["area_exempt_industries"]["value"],
    }
    for ind in rules["industries"]:
        ind["flags"] = [f for f, members in flags.items() if ind["id"] in members]
    quotas = data["params"]["district_quotas"]
    for d in rules["districts"]:
        d["quota"] = quotas["value"].get(d["id"])
        d["quota_clause"] = quotas["clause"]
    first = rules.pop("_first_schema")
    move_to = data["annual"]["city_nongov_weight_to"]["value"]
    for t in rules["tiers"]:
        if t["id"] == first["weights_move_tier"]:
            t["weights_move"] = {"nongov_share": move_to}
        if t["id"] == first["auto_demote_tier"]:
            t["on_warnings"] = "demoted" if data["annual"]["named_auto_demote"]["value"] else "office"
    monthly_tiers = {r["id"]: r["tiers"] for r in data["monthly"]}
    for c in rules["checks"]:
        if c["id"] in monthly_tiers:
            c["tiers"] = monthly_tiers[c["id"]]
    rules["programme"]["report_due_day"] = data["params"]["report_due_day"]["value"]
    rules["programme"]["bulletin_day"] = data["params"]["bulletin_day"]["value"]
    rules["sanity"] = data["sanity"]
    rules["bands"] = [{"grade": b["grade"], "min": b["min"], "clause": b["clause"]} for b in data["annual"]["bands"]]
    header = data["pack"]
    return {
        **rules,
        "pack": {
            "id": header["id"],
            "version": header["version"],
            "title_zh": header["title_zh"],
            "title_en": header["title_en"],
            "schema": 1,
            "layers": [f"{header['id']} {header['version']}"],
        },
        "params": params,
        "declared": sorted(params),
    }


def parse_legacy(text: str, origin: str) -> RulePack:
    data = tomllib.loads(text)
    try:
        pack = build(convert(data), origin)
    except (KeyError, TypeError) as exc:
        raise PackError(f"{origin}: a first-schema pack without {exc}") from None
    pack.hash = _hash(data)  # the hash it was recorded with
    pack.source = text
    return pack


@lru_cache(maxsize=1)
def shipped_legacy() -> tuple[RulePack, ...]:
    """The first-schema packs towns shipped (a decision may name one the store never kept)."""
    folder = resources.files("towns.rules").joinpath("packs", "legacy")
    return tuple(
        parse_legacy(f.read_text("utf-8"), f"rules/packs/legacy/{f.name}")
        for f in folder.iterdir()
        if f.name.endswith(".toml")
    )
