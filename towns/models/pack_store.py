"""Every rule pack a finding or round used, stored by content hash, so a past decision can
be re-evaluated under exactly the rules it was made with (even after the file changed).
``towns.rules.library.pack_by_hash`` reads them back."""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from .tables import insert_new, table


class StoredPack(SQLModel, table=True):
    __tablename__ = "packs"

    hash: str = SQLField(primary_key=True, max_length=64)
    id: str
    version: str
    source: str = SQLField(sa_column=Column(Text, nullable=False))
    first_used: datetime


# per engine, the hashes of packs known to be stored (committed): the table is append-only, so once
# stored, always there
_seen_stored: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


def _row(pack: Any) -> dict[str, Any]:
    return {
        "hash": pack.hash,
        "id": pack.pack.id,
        "version": pack.pack.version,
        "source": pack.source,
        "first_used": datetime.now(UTC),
    }


def remember(session: Session, pack: Any) -> None:
    """Store the pack in the caller's transaction unless it is there (idempotent: an insert that
    leaves an existing row alone, so two reports of one batch, or two workers at once, never collide
    on it). A pack known to be stored (``stored``) is not written again."""
    if not pack.source or pack.hash in _seen_stored.get(session.get_bind().engine, ()):
        return
    insert_new(session.connection(), table(StoredPack), [_row(pack)], "hash")


def stored(engine: Engine, packs: list[Any]) -> None:
    """Note packs as stored, once the transaction that remembered them has committed: ``remember``
    then writes nothing for them in this process."""
    _seen_stored.setdefault(engine, set()).update(p.hash for p in packs if p.source)


class PackFile(SQLModel, table=True):
    """A pack file installed in this deployment (`towns pack install`): a programme, or a new
    version of one, beside the packs shipped with towns. Append-only: a version is installed once."""

    __tablename__ = "pack_files"

    id: int | None = SQLField(default=None, primary_key=True)
    pack_id: str = SQLField(index=True, max_length=64)
    version: str = SQLField(max_length=64)
    extends: str | None = SQLField(default=None, max_length=64)
    title_zh: str = ""
    title_en: str = ""
    source: str = SQLField(sa_column=Column(Text, nullable=False))
    sha256: str = SQLField(max_length=64)
    installed_at: datetime
    installed_by: str


def install_file(
    engine: Any, pack_id: str, version: str, extends: str | None, titles: tuple[str, str], text: str, by: str
) -> str:
    """Store a pack file; "installed", or "already installed" when the same version with the same
    text is there. The same version with other text is refused (ValueError)."""
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with Session(engine) as s:
        same = s.exec(select(PackFile).where(PackFile.pack_id == pack_id, PackFile.version == version)).first()
        if same is not None:
            if same.sha256 == digest:
                return "already installed 已安装"
            raise ValueError(
                f"{pack_id} {version} is already installed with other content: give the new file a new "
                f"version in [pack] version. {pack_id} {version} 已安装且内容不同：请在 [pack] version 中使用新版本号。"
            )
        s.add(
            PackFile(
                pack_id=pack_id,
                version=version,
                extends=extends,
                title_zh=titles[0],
                title_en=titles[1],
                source=text,
                sha256=digest,
                installed_at=datetime.now(UTC),
                installed_by=by,
            )
        )
        s.commit()
    return "installed 已安装"


def installed_sources(bind: Engine | Connection) -> dict[str, str]:
    """pack id → the text of its latest installed version. ``bind``: an engine, or a connection in
    use (a report's activity reads it on the connection it records with: read for every report,
    so that a pack installed is in force at once, it is one Core statement)."""
    t = table(PackFile)
    stmt = core_select(t.c.pack_id, t.c.source).order_by(t.c.id)
    if isinstance(bind, Connection):
        rows = bind.execute(stmt).all()
    else:
        with bind.connect() as conn:
            rows = conn.execute(stmt).all()
    return {str(pack_id): str(source) for pack_id, source in rows}
