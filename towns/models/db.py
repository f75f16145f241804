"""Database set-up: one engine per URL; the schema is created by whoever owns the database.

``engine_for`` only connects: a command that reads never creates a database or a table
(it would otherwise leave an empty ``towns.db`` wherever it ran). ``prepare_database``
creates the tables, the ledger's guard and the installation row; ``towns server`` and
``python worker.py`` call it at start.

The installation id (a random id stored once in the database) names the database: a
worker's Temporal identity carries it, so a command can check that the workers it sends
work to write to the very database it reads (see ``config``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, create_engine

from . import bulletin, finding, ledger, pack_store, rejection, report, round, town  # noqa: F401  (register the tables)


class Installation(SQLModel, table=True):
    """One row: the id of this database, made when it was first prepared."""

    __tablename__ = "installation"

    id: int = SQLField(default=1, primary_key=True)
    installation_id: str = SQLField(max_length=64)
    created_at: datetime


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def prepare_database(engine: Engine) -> str:
    """Create what is missing (tables, the ledger guard, the installation row); returns the installation id."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    SQLModel.metadata.create_all(engine)
    install_guards(engine)
    return installation_id(engine, create=True) or ""


def install_guards(engine: Engine) -> None:
    """On PostgreSQL, the trigger that refuses UPDATE and DELETE on the ledger."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        present = conn.exec_driver_sql("SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_append_only'").first()
        if not present:
            conn.exec_driver_sql(ledger.PG_TRIGGER)


def installation_id(engine: Engine, create: bool = False) -> Optional[str]:
    """This database's id; made (once) when ``create`` is set, else None if it has none."""
    if not inspect(engine).has_table(Installation.__tablename__):
        if not create:
            return None
        Installation.__table__.create(engine, checkfirst=True)  # type: ignore[attr-defined]
    with Session(engine) as s:
        row = s.get(Installation, 1)
        if row is not None or not create:
            return row.installation_id if row else None
        s.add(Installation(id=1, installation_id=uuid.uuid4().hex, created_at=datetime.now(timezone.utc)))
        try:
            s.commit()
        except IntegrityError:  # another process made it first
            s.rollback()
        return s.get(Installation, 1).installation_id  # type: ignore[union-attr]


def sqlite_path(url: str) -> Optional[Path]:
    """The file of a SQLite URL (None for other databases)."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def has_schema(engine: Engine) -> bool:
    """Whether the database holds towns' tables (a command that reads needs them)."""
    return inspect(engine).has_table("towns")


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)
