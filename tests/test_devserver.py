"""The embedded Temporal dev server keeps its state in a SQLite file in write-ahead-log mode, every
commit synced (towns.devserver.SQLITE_PRAGMAS): half the server's work per signal, as durable."""

from __future__ import annotations

import sqlite3

from tests.cli.conftest import free_port
from towns.config import venv_binary
from towns.devserver import DevServer


def journal_mode(db) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


async def test_the_servers_file_is_in_write_ahead_log_mode_and_keeps_what_it_was_told(tmp_path):
    db = tmp_path / "temporal.db"

    def server() -> DevServer:
        return DevServer(venv_binary("temporal"), db, free_port(), free_port(), tmp_path / "temporal.log")

    first = server()
    client = await first.start()
    try:
        handle = await client.start_workflow("NoSuchWorkflow", id="kept", task_queue="nobody")
        assert journal_mode(db) == "wal"
    finally:
        await first.stop()
    again = server()  # as towns server after a restart: the same file
    client = await again.start()
    try:
        described = await client.get_workflow_handle(handle.id).describe()
        assert described.run_id == handle.result_run_id
    finally:
        await again.stop()
    assert journal_mode(db) == "wal"
