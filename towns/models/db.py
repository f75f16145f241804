"""Database set-up: one engine per URL; the schema is migrated by whoever owns the database.

``engine_for`` (made in ``engine``, which a read imports without the tables; re-exported
here) only connects: a command that reads never creates a database or a table
(it would otherwise leave an empty ``towns.db`` wherever it ran). ``prepare_database``
brings the schema to the newest revision (Alembic, ``towns/migrations``), which includes
the ledger's guard on PostgreSQL, and makes the installation row; ``towns server`` and
``python worker.py`` call it at start, ``towns db upgrade`` does the first half on demand.

The schema is migrated, never recreated: the database holds the append-only decision
ledger for years. A database made by ``create_all`` of a build before migrations (towns'
tables, no ``alembic_version``) is stamped with the revision its tables match, then upgraded.
Two processes preparing one database at once take turns: a PostgreSQL advisory lock, on
SQLite the database's own write lock (``BEGIN IMMEDIATE``); stamp and upgrade run in that
one transaction, so a failed migration leaves the database as it was.

The installation id (a random id stored once in the database) names the database: a
worker's Temporal identity carries it, so a command can check that the workers it sends
work to write to the very database it reads (see ``config``).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, create_engine

from . import bulletin, finding, ledger, pack_store, rejection, report, round, town, user  # noqa: F401  (register the tables)
from .engine import engine_for as engine_for
from .engine import has_schema as has_schema
from .engine import make_engine as make_engine
from .engine import sqlite_path as sqlite_path

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_xact_lock key of schema changes ('towns' in ASCII)
MIGRATION_LOCK = 0x746F776E73

# What create_all made before migrations, i.e. revision 0001: every table and its columns. A
# database without alembic_version holding exactly these is stamped 0001 (or 0002); one that
# lacks some (a build older than 1a60b62) is refused rather than guessed at.
SCHEMA_0001: dict[str, frozenset[str]] = {
    t: frozenset(cols.split())
    for t, cols in {
        "bulletins": "quarter content pack_hash published_at published_by workflow_id",
        "decisions": "id round_id kind year code proposed_grade final_grade score by reason before effects pack_id "
        "pack_version pack_hash recorded_at",
        "findings": "id key submission_id code period revision rule clause passed value threshold inputs reason_zh "
        "reason_en pack_id pack_version pack_hash recorded_at",
        "ledger": "seq key kind code round_id period outcome actor body prev_hash hash",
        "ledger_head": "id seq hash",
        "measures": "id key code period revision name clause value inputs note recorded_at",
        "monthly_reports": "id submission_id code period revision fai industry_fai nongov_fai tax new_enterprises "
        "high_tech_enterprises high_end_talents tourists_10k scenic_level correction submitted_by "
        "source received_at recorded_at raw",
        "packs": "hash id version source first_used",
        "proposals": "id round_id code proposal recorded_at",
        "rejections": "id kind code period source submitted_by received_at raw problems",
        "rounds": "id kind year state pack_id pack_version pack_hash started_by started_at city_tax_growth city "
        "approved_by approved_at overdue",
        "towns": "code name district tier industry batch listed_year creation_years planned_investment "
        "annual_fai_target planned_area_km2 core_area_km2 state registered_at registered_by warnings "
        "last_grade acceptance_failures applying_for",
    }.items()
}


class SchemaError(RuntimeError):
    """The database's schema cannot be brought to this build's (the message says why; English / 中文)."""


class Installation(SQLModel, table=True):
    """One row: the id of this database, made when it was first prepared."""

    __tablename__ = "installation"

    id: int = SQLField(default=1, primary_key=True)
    installation_id: str = SQLField(max_length=64)
    created_at: datetime


@dataclass(frozen=True)
class Migration:
    """What ``upgrade_database`` did."""

    before: str | None  # the revision the database carried (None: none, i.e. empty or made by create_all)
    adopted: str | None  # the revision stamped on a database made by create_all of an older build
    after: str  # the revision it is at now (the head)

    @property
    def changed(self) -> bool:
        return (self.adopted or self.before) != self.after


def prepare_database(engine: Engine) -> str:
    """Bring the schema to the newest revision (with the ledger guard) and make the installation
    row; returns the installation id."""
    upgrade_database(engine)
    install_guards(engine)  # a trigger dropped by hand since comes back, as it always did
    return installation_id(engine, create=True) or ""


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic ``Config`` for towns' migrations, without an ini file: on ``connection`` (used as
    it is, in its transaction), or else on ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade_database(engine: Engine) -> Migration:
    """Bring the database to the newest revision: from nothing when it is empty; a database made by
    create_all of an older build is stamped with the revision it matches first. One process at a
    time; all in one transaction."""
    from alembic import command
    from alembic.migration import MigrationContext

    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    with _migrating(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        cfg = alembic_config(conn)
        adopted = None
        if before is None:
            adopted = adoptable_revision(conn)
            if adopted is not None:
                command.stamp(cfg, adopted)
        command.upgrade(cfg, "head")
        after = MigrationContext.configure(conn).get_current_revision()
    assert after is not None
    return Migration(before=before, adopted=adopted, after=after)


def current_revision(engine: Engine) -> str | None:
    """The revision the database carries (None: empty, or made by create_all before migrations)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def adoptable_revision(conn: Connection) -> str | None:
    """For a database without ``alembic_version`` made by create_all of an older build, the revision
    its tables match; None for one without towns' tables; SchemaError when it holds only part of them."""
    have = inspect(conn)
    tables = set(have.get_table_names())
    if "alembic_version" in tables or not tables & SCHEMA_0001.keys():
        return None
    missing = sorted(SCHEMA_0001.keys() - tables)
    for t in sorted(SCHEMA_0001.keys() & tables):
        missing += [f"{t}.{c}" for c in sorted(SCHEMA_0001[t] - {col["name"] for col in have.get_columns(t)})]
    if missing:
        raise SchemaError(
            f"the database holds some of towns' tables but not all of what the build before migrations (1a60b62) "
            f"made — missing: {', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}. It was made by an "
            "older build, or is not a towns database; it is left untouched. Upgrade it by hand (or start from a "
            "new database).\n数据库中只有部分 towns 表（缺少上述表或列），未作任何修改；请手工升级或使用新数据库。"
        )
    has_key = "key" in {col["name"] for col in have.get_columns("rejections")}
    if not (has_key and "installation" in tables):
        return "0001"
    has_programme = "programme" in {col["name"] for col in have.get_columns("towns")}
    if not (has_programme and "pack_files" in tables):
        return "0002"
    return "0004" if "users" in tables else "0003"


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process migrating this database shares."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        with engine.connect() as conn, conn.begin():
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            yield conn
        return
    # SQLite: the driver's own transaction handling commits before DDL; take it over so that the
    # whole migration is one transaction begun with the write lock (a second process waits here)
    locking = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(locking, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(locking, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with locking.connect() as conn, conn.begin():
            yield conn
    finally:
        locking.dispose()


def install_guards(engine: Engine) -> None:
    """On PostgreSQL, the trigger that refuses UPDATE and DELETE on the ledger (revision 0001 makes
    it; this puts it back if it is missing)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        present = conn.exec_driver_sql("SELECT 1 FROM pg_trigger WHERE tgname = 'ledger_append_only'").first()
        if not present:
            conn.exec_driver_sql(ledger.PG_TRIGGER)


def installation_id(engine: Engine, create: bool = False) -> str | None:
    """This database's id; made (once) when ``create`` is set, else None if it has none."""
    if not inspect(engine).has_table(Installation.__tablename__):
        if not create:
            return None
        upgrade_database(engine)  # the table comes with the schema (revision 0002)
    with Session(engine) as s:
        row = s.get(Installation, 1)
        if row is not None or not create:
            return row.installation_id if row else None
        s.add(Installation(id=1, installation_id=uuid.uuid4().hex, created_at=datetime.now(UTC)))
        try:
            s.commit()
        except IntegrityError:  # another process made it first
            s.rollback()
        made = s.get(Installation, 1)
        assert made is not None  # this process or the one that won the race has just made it
        return made.installation_id
