"""Time a read command from the inside, in a fresh process: `towns history CODE --json` or
`towns status CODE`, after the imports the command has, with every first-use cost (settings,
engine, first connection, first query of each table).

    TOWNS_HOME=… DATABASE_URL=… python bench/read_probe.py history|status CODE

It loads what the ``towns`` entry point loads (``towns.cli``), then times what ``towns.cli.reads``
does for the command — the home's settings and database, then ``registered`` and ``history``, or
``status_of``, from ``towns.queries`` and the JSON of the result (``history --json``; for
``status`` the JSON too, which stands in for the rich rendering). Prints one JSON line:
``{"what", "code", "ms", "import_s", "chars"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time

t_start = time.perf_counter()
import towns.cli  # noqa: E402,F401 — what the `towns` entry point (towns.cli:main) imports
from towns.queries import history, status_of  # noqa: E402
from towns.queries.history import registered  # noqa: E402

try:
    from towns.cli.common import engine as home_engine
    from towns.cli.common import settings as home_settings
except ImportError:  # the CLI's helpers moved: the same two steps from their own modules
    from towns.config import load_settings as home_settings
    from towns.models.db import engine_for

    def home_engine(s):  # type: ignore[no-untyped-def]
        return engine_for(s.database_url)


def main() -> int:
    what, code = sys.argv[1], sys.argv[2]
    imported = time.perf_counter() - t_start
    t0 = time.perf_counter()
    s = home_settings()
    eng = home_engine(s)
    if what == "history":  # as `towns history` does: is it registered, then its history
        if not registered(eng, code):
            print(json.dumps({"what": what, "code": code, "error": "unknown town"}))
            return 2
        result = history(eng, code)
    else:  # as `towns status CODE` does: the registry row and its status, on one connection
        found = status_of(eng, code)
        if found is None:
            print(json.dumps({"what": what, "code": code, "error": "unknown town"}))
            return 2
        result = found
    text = json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2, default=str)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({"what": what, "code": code, "ms": ms, "import_s": imported, "chars": len(text)}))
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)
