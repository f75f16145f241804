"""Database set-up: one engine per URL, tables created on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

from . import bulletin, finding, ledger, pack_store, rejection, report, round, town  # noqa: F401  (register the tables)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    else:
        engine = create_engine(url, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine)
    install_guards(engine)
    return engine


def install_guards(engine: Engine) -> None:
    """On PostgreSQL, the trigger that refuses UPDATE and DELETE on the ledger."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        present = conn.exec_driver_sql("SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_append_only'").first()
        if not present:
            conn.exec_driver_sql(ledger.PG_TRIGGER)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)
