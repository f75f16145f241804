"""The command line starts fast: building it and its help import neither the database layer nor Temporal,
openpyxl or the rule engine, and the reads import no Temporal, openpyxl or rule engine (those are imported
by the commands that use them; see ``towns.cli.common``).

Each check runs in a fresh interpreter (this one has imported everything already) and looks at
``sys.modules``; how fast is measured by benchmarks, not here.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# what the help of every command must not import, and what no read may import
HEAVY = ("temporalio", "sqlalchemy", "sqlmodel", "openpyxl", "durable", "durable_rules")
NOT_FOR_READS = ("temporalio", "openpyxl", "durable", "durable_rules")

# Runs the CLI in-process (``sys.argv[2:]`` a JSON list of command lines; ``[]`` only builds the
# command tree, ``"ALL_HELP"`` asks every command and group for its help), then prints the top-level
# packages of HEAVY it imported, after a marker line.
PROBE = """
import json, sys
import towns.cli
from typer.main import get_command

heavy = json.loads(sys.argv[1])
command = get_command(towns.cli.app)
runs = json.loads(sys.argv[2])
if runs == "ALL_HELP":
    def paths(cmd, prefix):
        yield prefix
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from paths(sub, [*prefix, name])
    runs = [[*p, "--help"] for p in paths(command, [])]
codes = []
for args in runs:
    try:
        codes.append(command.main(args, prog_name="towns", standalone_mode=False))
    except SystemExit as exc:
        codes.append(exc.code)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
town = sys.modules.get("towns.models.town")  # the ORM's first use configures every mapper, Town's too
orm = town is not None and town.Town.__mapper__.configured
setup = "towns.models.db" in sys.modules  # the migrations' module, which builds every table
print("\\n@@PROBE@@ " + json.dumps({"runs": runs, "codes": codes, "loaded": loaded, "orm": orm, "setup": setup}))
"""


def probe(runs: list[list[str]] | str, home: Path, heavy: tuple[str, ...] = HEAVY) -> dict:
    env = {**os.environ, "TOWNS_HOME": str(home), "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    env.pop("TEMPORAL_ADDRESS", None)
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(heavy), json.dumps(runs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "@@PROBE@@" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
    printed, _, result = out.stdout.rpartition("@@PROBE@@ ")
    return {**json.loads(result), "printed": printed}


def test_building_the_cli_imports_nothing_heavy(tmp_path):
    result = probe([], tmp_path / "home")
    assert result["loaded"] == [], f"`import towns.cli` imported {result['loaded']}"


def test_every_help_imports_nothing_heavy(tmp_path):
    result = probe("ALL_HELP", tmp_path / "home")
    assert [] in [r[:-1] for r in result["runs"]] and ["round", "start", "--help"] in result["runs"]
    assert len(result["runs"]) > 30  # every group and every command
    assert set(result["codes"]) <= {0, None}, list(zip(result["runs"], result["codes"], strict=True))
    assert result["loaded"] == [], f"the help of the commands imported {result['loaded']}"


@pytest.fixture
def home_with_data(tmp_path):
    """A home whose database (SQLite, migrated as `towns server` does) holds two towns with reports,
    findings, a refused row and a decided round (written straight into the tables)."""
    from tests.queries.data import code_of, populate
    from towns.config import sqlite_url
    from towns.models.db import make_engine, prepare_database

    home = tmp_path / "home"
    home.mkdir()
    eng = make_engine(sqlite_url(home))
    prepare_database(eng)
    populate(eng, 3)
    eng.dispose()
    return home, code_of(0)


def test_the_reads_import_no_temporal_openpyxl_or_rule_engine(home_with_data):
    home, code = home_with_data
    runs = [
        ["status", code],
        ["status", code, "--json"],
        ["status", code, "--as-of", "2018-06-30"],
        ["status"],
        ["history", code],
        ["history", code, "--json"],
        ["round", "list"],
        ["quarantine", "list"],
    ]
    result = probe(runs, home, (*NOT_FOR_READS, "sqlmodel"))
    assert set(result["codes"]) <= {0, None}, list(zip(runs, result["codes"], strict=True))
    # the reads did read the database (else this proves nothing), and nothing else heavy
    assert f'"code": "{code}"' in result["printed"] and "annual_fai_target" in result["printed"]
    assert result["loaded"] == ["sqlmodel"], f"the reads imported {result['loaded']}"


def test_status_and_history_read_without_the_orm(home_with_data):
    """They read with Core statements: the ORM's first use in a process (configuring every mapper,
    compiling ORM statements, making instances) costs a one-town read more than its queries. They
    open the database with ``towns.models.engine``, not ``towns.models.db`` (migrations, the
    installation id), whose import builds every table class, those the reads never touch too."""
    home, code = home_with_data
    runs = [
        ["status", code],
        ["status", code, "--json"],
        ["status", code, "--as-of", "2018-06-30"],
        ["status"],
        ["status", "--as-of", "2018-06-30", "--json"],
        ["history", code, "--json"],
        ["history", code, "--as-of", "2018-06-30"],
    ]
    result = probe(runs, home)
    assert set(result["codes"]) <= {0, None}, list(zip(runs, result["codes"], strict=True))
    assert f'"code": "{code}"' in result["printed"] and "annual_fai_target" in result["printed"]
    assert result["orm"] is False, "a status or history read used the ORM"
    assert result["setup"] is False, "a status or history read imported towns.models.db"


def test_what_the_options_declare_without_the_models_agrees_with_the_models():
    from towns.cli.common import DEFAULT_PACK
    from towns.cli.rounds import Kind, _kind
    from towns.models.finding import DEFAULT_PACK as MODELS_DEFAULT_PACK
    from towns.models.round import RoundKind

    assert DEFAULT_PACK == MODELS_DEFAULT_PACK
    assert [k.value for k in Kind] == [k.value for k in RoundKind]
    assert [_kind(k) for k in Kind] == list(RoundKind)


def test_the_lazy_read_package_keeps_its_names():
    """``towns.queries`` imports its modules when a name is first used; ``history`` stays the function
    (not the submodule of the same name) however it was first imported, as with eager imports."""
    import towns.queries as queries

    module = importlib.import_module("towns.queries.history")
    assert queries.history is module.history and callable(queries.history)
    from towns.queries import history

    assert history is module.history
    assert set(queries.__all__) <= set(dir(queries))
    for name in queries.__all__:
        assert getattr(queries, name) is not None
    with pytest.raises(AttributeError):
        _ = queries.no_such_name  # type: ignore[attr-defined]
