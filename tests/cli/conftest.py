"""A real `towns server` (embedded dev server + worker) per test, and the CLI run as a user runs it."""

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

TOWNS = [sys.executable, "-m", "towns"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def towns(*args, home: Path, check_rc=None, cwd=None, env: dict | None = None, timeout: float = 180):
    """Run the CLI as a user does: only TOWNS_HOME set (the server's database and Temporal come from its
    server.json, PostgreSQL included), from ``cwd`` (default: the test's working directory)."""
    full = {**os.environ, "TOWNS_HOME": str(home), "COLUMNS": "200"}
    full.pop("TEMPORAL_ADDRESS", None)
    full.pop("DATABASE_URL", None)
    full.update(env or {})
    out = subprocess.run([*TOWNS, *args], env=full, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check_rc is not None:
        assert out.returncode == check_rc, out.stdout + out.stderr
    return out


@contextmanager
def running_server(home: Path, database_url: str | None = None) -> Iterator[tuple[Path, str]]:
    """A real `towns server` for ``home`` (its own ports; SQLite in the home unless ``database_url``):
    the home and the server's banner. Stopped with Ctrl-C at the end, which must leave no server.json."""
    port, ui = free_port(), free_port()
    env = {**os.environ, "TOWNS_HOME": str(home)}
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url  # the server's only; commands find it in server.json
    proc = subprocess.Popen(
        [*TOWNS, "server", "--web-port", str(free_port()), "--temporal-port", str(port), "--ui-port", str(ui)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in proc.stdout:  # the server says when it is ready; no sleeping
        lines.append(line)
        if "Ctrl-C stops" in line:
            break
    else:
        pytest.fail("towns server exited early:\n" + "".join(lines))
    assert json.loads((home / "server.json").read_text())["temporal_address"] == f"127.0.0.1:{port}"
    try:
        yield home, "".join(lines)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert not (home / "server.json").exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server (SQLite) shared by a module's tests: each test uses town codes of its own."""
    with running_server(tmp_path_factory.mktemp("cli") / "home") as s:
        yield s


@pytest.fixture
def pg_server(tmp_path):
    """A server of the test's own on a fresh PostgreSQL database (given to the server only)."""
    from tests.conftest import fresh_pg_database

    with fresh_pg_database("towns_e2e") as url, running_server(tmp_path / "home", url) as s:
        yield s
