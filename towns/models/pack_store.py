"""Every rule pack a finding or round used, stored by content hash, so a past decision can
be re-evaluated under exactly the rules it was made with (even after the file changed).
``towns.rules.pack.pack_by_hash`` reads them back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel


class StoredPack(SQLModel, table=True):
    __tablename__ = "packs"

    hash: str = SQLField(primary_key=True, max_length=64)
    id: str
    version: str
    source: str = SQLField(sa_column=Column(Text, nullable=False))
    first_used: datetime


def remember(session: Session, pack: Any) -> None:
    """Store the pack (idempotent); in the caller's transaction."""
    if pack.source and session.get(StoredPack, pack.hash) is None:
        session.add(
            StoredPack(
                hash=pack.hash,
                id=pack.pack.id,
                version=pack.pack.version,
                source=pack.source,
                first_used=datetime.now(UTC),
            )
        )
