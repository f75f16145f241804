"""Where packs come from: the files shipped with towns, the packs installed in a deployment
(``towns pack install``), the resolved packs stored by hash (so a recorded decision replays),
and the checking of a pack file on every date one of its values takes effect."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from ..models.finding import DEFAULT_PACK
from ..models.pack_store import StoredPack
from .layers import Layer, chain, effective_dates, merge, read_layer, resolve, resolve_data, shipped_layer
from .pack import PackError, RulePack, build


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


def load_programme(
    engine: Engine | Connection | None, pack_id: str = DEFAULT_PACK, as_of: date | None = None
) -> RulePack:
    """A programme of this deployment: its latest installed version (``towns pack install``),
    else the pack shipped with towns. ``engine`` may be a connection in use (read on it)."""
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


def load_pack_for_period(pack_id: str, period: str, engine: Engine | Connection | None = None) -> RulePack:
    """The pack in force for a monthly report's period."""
    return load_programme(engine, pack_id, period_end(period))


@lru_cache(maxsize=32)
def _parsed(pack_hash: str, source: str, label: str) -> RulePack:
    """A stored pack's text parsed once per process (a round's batches and a replay's entries
    share it); keyed by the text itself, so an altered text is parsed, and refused, anew."""
    return parse_pack(source, label)


def pack_by_hash(engine: Engine, pack_hash: str) -> RulePack:
    """The resolved pack with this hash: from the store, or a shipped legacy pack if it matches."""
    with Session(engine) as s:
        stored = s.get(StoredPack, pack_hash)
    if stored is not None:
        pack = _parsed(pack_hash, stored.source, f"stored pack {stored.id} {stored.version}")
        if pack.hash != pack_hash:
            raise ValueError(f"stored pack {pack_hash[:12]} does not hash to itself: the packs table was altered")
        return pack
    from .legacy import shipped_legacy

    for pack in shipped_legacy():
        if pack.hash == pack_hash:
            return pack
    raise LookupError(f"no rule pack with hash {pack_hash[:12]} is stored")
