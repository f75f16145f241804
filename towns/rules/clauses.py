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


def clause(cid: str) -> Clause:
    try:
        return catalogue()[cid]
    except KeyError:
        raise KeyError(f"unknown clause id {cid!r}; known: {', '.join(catalogue())}") from None
