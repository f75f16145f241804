"""Engines: one per URL, configured the same way everywhere; no tables.

This module imports only SQLAlchemy's engine layer (not SQLModel, not the ORM, not the tables), so
that a command that only reads (`towns status`, `towns history`) can open the database without
building every table class first. ``towns.models.db`` (migrations, the installation id) re-exports
what is here.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    else:
        # a connection for each of a worker's activity threads (16) and its local activities, no waiting
        engine = create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=10)
    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return make_engine(url)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases)."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def has_schema(engine: Engine) -> bool:
    """Whether the database holds towns' tables (a command that reads needs them): one statement
    on the registry, not the inspector (which costs a command more than its own query)."""
    with engine.connect() as conn:  # a database that cannot be reached raises here, as before
        try:
            conn.exec_driver_sql("SELECT 1 FROM towns WHERE 1 = 0").all()
            return True
        except (OperationalError, ProgrammingError):  # no such table
            return False
