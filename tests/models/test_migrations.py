"""The schema is migrated, never recreated: a database of an older build keeps every row.

The fixture ``fixtures/demo-home-1a60b62.sql.gz`` is the SQLite database of a demo home made
by commit 1a60b62, the build before migrations (see ``fixtures/README.md``).
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from tests.conftest import fresh_pg_database
from towns.audit.replay import REPLAYABLE, replay
from towns.audit.verify import verify
from towns.models import ledger
from towns.models.db import (
    SCHEMA_0001,
    SchemaError,
    alembic_config,
    current_revision,
    head_revision,
    install_guards,
    make_engine,
    prepare_database,
    upgrade_database,
)

FIXTURE = Path(__file__).parent / "fixtures" / "demo-home-1a60b62.sql.gz"
PG_SCHEMA = Path(__file__).parent / "fixtures" / "schema-1a60b62.postgresql.sql"
ROOT = Path(__file__).resolve().parents[2]
HEAD = "0004"


def load_fixture(path: Path) -> Path:
    con = sqlite3.connect(path)
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        con.executescript(fh.read())
    con.close()
    return path


def names(cols) -> str:
    return ", ".join(f'"{c}"' for c in cols)


def rows_of(con: sqlite3.Connection, table: str, cols: list[str]) -> list[tuple]:
    """The rows of those columns, raw as SQLite stores them, in primary-key order."""
    info = list(con.execute(f'PRAGMA table_info("{table}")'))
    pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or cols
    return list(con.execute(f'SELECT {names(cols)} FROM "{table}" ORDER BY {names(pk)}'))


def snapshot(path: Path, only: dict[str, list[str]] | None = None) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table's columns and rows (or only those tables' and columns')."""
    con = sqlite3.connect(path)
    tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    out = {}
    for table in tables if only is None else only:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')] if only is None else only[table]
        out[table] = cols, rows_of(con, table, cols)
    con.close()
    return out


def differences(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, SQLModel.metadata)


def drop_everything(engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    else:
        everything = MetaData()
        everything.reflect(engine)
        everything.drop_all(engine)


def schema_of_1a60b62(engine) -> None:
    """In an empty database, the tables (and on PostgreSQL the trigger) exactly as create_all and
    install_guards of 1a60b62 made them, from frozen copies: the fixture's own CREATE statements on
    SQLite (its rows deleted), ``pg_dump --schema-only`` of such a database on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        load_fixture(path)
        con = sqlite3.connect(path)
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            con.execute(f'DELETE FROM "{table}"')
        con.commit()
        con.close()
        return
    raw = engine.raw_connection()  # the dump as psql would run it: no placeholders, many statements
    try:
        cur = raw.cursor()
        cur.execute(PG_SCHEMA.read_text(encoding="utf-8"))
        cur.execute("RESET ALL")  # the dump empties search_path for its session
        raw.commit()
    finally:
        raw.close()


def test_head_is_0004():
    assert head_revision() == HEAD


# --- the demo home of 1a60b62 --------------------------------------------------------------


def test_a_demo_home_of_1a60b62_loses_nothing(tmp_path):
    db = load_fixture(tmp_path / "towns.db")
    before = snapshot(db)
    assert "alembic_version" not in before and "installation" not in before
    assert len(before["ledger"][1]) > 500 and before["rejections"][1], "the fixture has a ledger and a quarantine"

    engine = make_engine(f"sqlite:///{db}")
    installation = prepare_database(engine)
    engine.dispose()

    after = snapshot(db)
    assert set(after) == set(before) | {"alembic_version", "installation", "pack_files", "users"}
    old_columns = snapshot(db, only={table: cols for table, (cols, _) in before.items()})
    for table, (cols, rows) in before.items():
        assert len(after[table][1]) == len(rows), table  # every table's row count
        assert set(cols) <= set(after[table][0]), table
        assert old_columns[table][1] == rows, f"{table}: old columns' values changed"  # every value
    for table in ("ledger", "monthly_reports", "decisions"):  # untouched by 0002: equal whole
        assert after[table] == before[table]
    assert after["alembic_version"][1] == [(HEAD,)]
    assert after["installation"][1] == [(1, installation, after["installation"][1][0][2])]
    assert "key" in after["rejections"][0]
    assert {r[after["rejections"][0].index("key")] for r in after["rejections"][1]} == {None}

    engine = make_engine(f"sqlite:///{db}")
    assert differences(engine) == []
    report = verify(engine)
    assert report.ok, report.problems
    assert report.entries == len(before["ledger"][1])
    results = replay(engine)
    replayable = [r for r in before["ledger"][1] if r[before["ledger"][0].index("kind")] in REPLAYABLE]
    assert len(results) == len(replayable) > 400
    assert all(r.same for r in results), [r for r in results if not r.same][:3]
    assert prepare_database(engine) == installation  # again: nothing to do, same id
    assert upgrade_database(engine).changed is False
    engine.dispose()


def towns_cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env["TOWNS_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "towns", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_towns_db_upgrade_on_a_home_of_1a60b62(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = load_fixture(home / "towns.db")
    before = snapshot(db)

    shown = towns_cli(home, "db", "current", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) | {"database": None} == {
        "database": None,
        "current": None,
        "head": HEAD,
        "up_to_date": False,
        "made_before_migrations_as": "0001",
    }

    done = towns_cli(home, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "0001" in done.stdout and f"to {HEAD}" in done.stdout, done.stdout

    again = towns_cli(home, "db", "upgrade", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {
        "database": f"sqlite:///{home / 'towns.db'}",
        "from": HEAD,
        "to": HEAD,
        "changed": False,
        "stamped": None,
    }
    now = towns_cli(home, "db", "current")
    assert now.returncode == 0 and now.stdout.strip() == HEAD, now.stdout + now.stderr

    assert snapshot(db, only={table: cols for table, (cols, _) in before.items()}) == before
    assert snapshot(db)["alembic_version"][1] == [(HEAD,)]

    nowhere = towns_cli(tmp_path / "empty-home", "db", "upgrade")
    assert nowhere.returncode == 2 and "no database" in nowhere.stderr + nowhere.stdout
    assert not (tmp_path / "empty-home" / "towns.db").exists()


# --- the models and the migrations agree ---------------------------------------------------


def test_models_and_migrations_agree(engine):
    """After the migrations, Alembic finds nothing in the models that the database lacks (or the reverse).
    Fails when a model gains a column, table, index or constraint without a revision."""
    assert current_revision(engine) == HEAD
    assert differences(engine) == []


def test_the_comparison_catches_a_column_without_a_migration(engine):
    added = MetaData()
    for t in SQLModel.metadata.sorted_tables:
        t.to_metadata(added)
    added.tables["towns"].append_column(Column("motto", String(50)))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), added)
    assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "towns", "motto")]


def catalogue(engine) -> dict:
    """What the database holds, beyond what Alembic compares: column types, defaults (SERIAL or not),
    nullability, constraints and indexes by name, and the ledger's trigger."""
    have = inspect(engine)
    out: dict = {}
    for t in sorted(set(have.get_table_names()) - {"alembic_version"}):
        out[t] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("autoincrement"))
                for c in have.get_columns(t)
            ),
            "pk": have.get_pk_constraint(t)["constrained_columns"],
            "unique": sorted(
                (u["name"] if engine.dialect.name == "postgresql" else None, tuple(u["column_names"]))
                for u in have.get_unique_constraints(t)
            ),
            "indexes": sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in have.get_indexes(t)),
        }
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            out["triggers"] = sorted(
                conn.execute(
                    text(
                        "SELECT tgname, tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                        "WHERE NOT tgisinternal"
                    )
                ).all()
            )
            out["functions"] = sorted(
                conn.execute(
                    text("SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
                ).all()
            )
    return out


def test_the_migrations_make_what_create_all_makes(engine):
    """Down to what compare_metadata does not look at (a SERIAL where the model has default=1)."""
    drop_everything(engine)
    SQLModel.metadata.create_all(engine)
    install_guards(engine)
    created = catalogue(engine)
    drop_everything(engine)
    upgrade_database(engine)
    assert catalogue(engine) == created


def test_revision_0001_is_the_schema_of_1a60b62(engine):
    drop_everything(engine)
    schema_of_1a60b62(engine)
    old = catalogue(engine)
    drop_everything(engine)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    assert catalogue(engine) == old
    assert set(old) - {"triggers", "functions"} == set(SCHEMA_0001)
    assert {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in SCHEMA_0001} == SCHEMA_0001


# --- from nothing, and from create_all ------------------------------------------------------


def a_ledger_row(engine, key: str) -> None:
    with Session(engine) as s:
        ledger.append(s, kind="approval", key=key, actor="tester", outcome="test")
        s.commit()


def assert_append_only(engine) -> None:
    """PostgreSQL refuses UPDATE and DELETE on the ledger (SQLite has no trigger: the code has no such path)."""
    a_ledger_row(engine, "append-only-check")
    if engine.dialect.name != "postgresql":
        return
    for sql in ("UPDATE ledger SET outcome = 'x'", "DELETE FROM ledger"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))


def test_an_empty_database_is_upgraded_from_nothing(engine):
    drop_everything(engine)
    assert current_revision(engine) is None
    m = upgrade_database(engine)  # the migrations alone, without prepare_database's install_guards
    assert (m.before, m.adopted, m.after, m.changed) == (None, None, HEAD, True)
    assert current_revision(engine) == HEAD
    assert differences(engine) == []
    assert_append_only(engine)


@pytest.mark.parametrize("made_by", ["1a60b62", "fc68257", "today"])
def test_a_database_made_by_create_all_is_stamped_then_upgraded(engine, made_by):
    """1a60b62: schema 0001. fc68257..f064f68: the installation table but no rejections.key (stamped 0001;
    0002 adds only the column). A create_all of today's models: 0002."""
    drop_everything(engine)
    if made_by == "today":
        SQLModel.metadata.create_all(engine)
        install_guards(engine)
    else:
        schema_of_1a60b62(engine)
        if made_by == "fc68257":
            SQLModel.metadata.tables["installation"].create(engine)
    a_ledger_row(engine, "kept")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO rejections (id, kind, code, submitted_by, received_at, raw, problems) VALUES "
            "(7, 'report', 'SX-YC-HJ', 'someone', '2018-07-02 00:00:00', '{\"fai\": \"-1\"}', '[]')"
        )

    m = upgrade_database(engine)
    assert m.before is None and m.after == HEAD
    assert m.adopted == (HEAD if made_by == "today" else "0001")
    assert m.changed is (made_by != "today")
    assert current_revision(engine) == HEAD
    assert differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, code, key FROM rejections")).all() == [(7, "SX-YC-HJ", None)]
        assert conn.execute(text("SELECT key FROM ledger")).scalars().all() == ["kept"]
    assert_append_only(engine)
    assert prepare_database(engine)


def test_part_of_the_tables_is_refused_and_left_alone(engine):
    drop_everything(engine)
    partial = MetaData()
    SQLModel.metadata.tables["towns"].to_metadata(partial)
    SQLModel.metadata.tables["ledger"].to_metadata(partial)
    partial.create_all(engine)
    with pytest.raises(SchemaError, match="missing: bulletins"):
        upgrade_database(engine)
    assert set(inspect(engine).get_table_names()) == {"towns", "ledger"}


# --- two processes at once -------------------------------------------------------------------

RACE = textwrap.dedent("""
    import sys, time
    from towns.models.db import make_engine, prepare_database
    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
    print(prepare_database(make_engine(sys.argv[1])))
""")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_prepare_database_calls_take_turns(kind, tmp_path):
    def race(url: str, n: int = 4) -> list[str]:
        start = time.time() + 2.5  # past every process's imports
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, url, str(start)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(n)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
        return [out.strip() for out, _ in outs]

    def check(url: str) -> None:
        ids = race(url)
        assert len(set(ids)) == 1 and len(ids[0]) == 32
        engine = make_engine(url)
        assert current_revision(engine) == HEAD
        assert differences(engine) == []
        engine.dispose()

    if kind == "sqlite":
        check(f"sqlite:///{tmp_path / 'towns.db'}")
        return
    with fresh_pg_database("towns_race") as url:
        check(url)


def test_a_failed_migration_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    """Stamp and upgrade are one transaction: on SQLite too (the driver would otherwise commit before DDL)."""
    url = f"sqlite:///{tmp_path / 'towns.db'}"
    engine = make_engine(url)
    schema_of_1a60b62(engine)

    def broken(cfg, revision, **kw):
        conn = cfg.attributes["connection"]
        conn.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("migration failed half way")

    monkeypatch.setattr(command, "upgrade", broken)
    with pytest.raises(RuntimeError, match="half way"):
        upgrade_database(engine)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert "half_done" not in tables and "alembic_version" not in tables
    engine.dispose()
