"""Every rule pack a finding or round used, stored by content hash, so a past decision can
be re-evaluated under exactly the rules it was made with (even after the file changed)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel


class StoredPack(SQLModel, table=True):
    __tablename__ = "packs"

    hash: str = SQLField(primary_key=True, max_length=64)
    id: str
    version: str
    source: str = SQLField(sa_column=Column(Text, nullable=False))
    first_used: datetime


def remember(session: Session, pack) -> None:
    """Store the pack (idempotent); in the caller's transaction."""
    if pack.source and session.get(StoredPack, pack.hash) is None:
        session.add(StoredPack(hash=pack.hash, id=pack.pack.id, version=pack.pack.version, source=pack.source,
                               first_used=datetime.now(timezone.utc)))


def pack_by_hash(engine: Engine, pack_hash: str):
    """The pack with this content hash: from the store, or the shipped pack if it matches."""
    from ..rules.pack import DEFAULT_PACK, load_pack, parse_pack

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
