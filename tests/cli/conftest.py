"""A real `towns server` (embedded dev server + worker) per test, and the CLI run as a user runs it."""

import json
import os
import signal
import socket
import subprocess
import sys
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    """The embedded default (SQLite in TOWNS_HOME), or a fresh PostgreSQL database via DATABASE_URL."""
    if request.param == "sqlite":
        yield None
        return
    from tests.conftest import fresh_pg_database

    with fresh_pg_database("towns_e2e") as url:
        yield url


@pytest.fixture
def server(tmp_path, database):
    home = tmp_path / "home"
    port, ui = free_port(), free_port()
    env = {**os.environ, "TOWNS_HOME": str(home)}
    env.pop("TEMPORAL_ADDRESS", None)
    env.pop("DATABASE_URL", None)
    if database:
        env["DATABASE_URL"] = database  # the server's only; commands find it in server.json
    proc = subprocess.Popen([*TOWNS, "server", "--temporal-port", str(port), "--ui-port", str(ui)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:  # the server says when it is ready; no sleeping
        lines.append(line)
        if "Ctrl-C stops" in line:
            break
    else:
        pytest.fail("towns server exited early:\n" + "".join(lines))
    assert json.loads((home / "server.json").read_text())["temporal_address"] == f"127.0.0.1:{port}"
    yield home, "".join(lines)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert not (home / "server.json").exists()


