"""The clause catalogue: every id a rule may cite, with its Chinese and English text."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel


class Clause(BaseModel):
    id: str
    zh: str
    en: str


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Clause]:
    data = tomllib.loads(resources.files("towns.rules").joinpath("clauses.toml").read_text("utf-8"))
    return {cid: Clause(id=cid, **text) for cid, text in data.items()}


def clause_text(cid: str) -> Clause | None:
    """A clause of the catalogue, or one a shipped pack declares (a new city's own clauses)."""
    found = catalogue().get(cid)
    if found is not None:
        return found
    return _pack_clauses().get(cid)


@lru_cache(maxsize=1)
def _pack_clauses() -> dict[str, Clause]:
    out: dict[str, Clause] = {}
    folder = resources.files("towns.rules").joinpath("packs")
    for f in folder.iterdir():
        if f.name.endswith(".toml"):
            for cid, text in tomllib.loads(f.read_text("utf-8")).get("clauses", {}).items():
                out[cid] = Clause(id=cid, zh=text.get("zh", ""), en=text.get("en", ""))
    return out


def clause(cid: str) -> Clause:
    try:
        return catalogue()[cid]
    except KeyError:
        raise KeyError(f"unknown clause id {cid!r}; known: {', '.join(catalogue())}") from None
