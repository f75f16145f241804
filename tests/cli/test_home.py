"""One home, one system: every command uses its home's server — its database and its Temporal —
or is refused at once, saying why (issue: two databases for one system)."""

import json
import os
import signal
import subprocess
import time

from sqlmodel import Session, select

from tests.cli.conftest import TOWNS, free_port, towns
from towns.models.db import engine_for
from towns.models.report import MonthlyReport
from towns.models.town import Town

TOWN = "code,name,district,tier,industry,listed_year,planned_investment\nHOME-A,甲镇,keqiao,provincial_creation,fashion,2016,50\n"
REPORT = "code,period,fai,industry_fai,nongov_fai\nHOME-A,2018-03,3,2.4,2.5\n"


def test_commands_from_another_directory_use_the_servers_database(server, tmp_path):
    home, _ = server
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "t.csv").write_text(TOWN, encoding="utf-8")
    (elsewhere / "r.csv").write_text(REPORT, encoding="utf-8")
    towns("import", "towns", "t.csv", home=home, cwd=elsewhere, check_rc=0)
    towns("import", "reports", "r.csv", home=home, cwd=elsewhere, check_rc=0)
    assert not (elsewhere / ".towns").exists() and sorted(p.name for p in elsewhere.iterdir()) == ["r.csv", "t.csv"]
    url = json.loads((home / "server.json").read_text())["database_url"]
    with Session(engine_for(url)) as s:
        assert s.get(Town, "HOME-A") is not None
        assert [r.period for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == "HOME-A"))] == ["2018-03"]
    status = json.loads(towns("status", "HOME-A", "--json", home=home, cwd=elsewhere, check_rc=0).stdout)
    assert status["last_period"] == "2018-03"


def test_a_database_url_other_than_the_servers_is_refused(server, tmp_path):
    home, _ = server
    (tmp_path / "t.csv").write_text(TOWN, encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    out = towns("import", "towns", str(tmp_path / "t.csv"), home=home, env={"DATABASE_URL": other}, check_rc=2)
    assert "one system has one database" in out.stderr and other in out.stderr
    assert not (tmp_path / "other.db").exists()
    out = towns("status", home=home, env={"TEMPORAL_ADDRESS": "127.0.0.1:1"}, check_rc=2)
    assert "TEMPORAL_ADDRESS is 127.0.0.1:1" in out.stderr


def test_a_worker_of_another_database_is_refused(server, tmp_path):
    """DATABASE_URL and TEMPORAL_ADDRESS set by hand (a remote set-up) but not belonging together."""
    home, _ = server
    address = json.loads((home / "server.json").read_text())["temporal_address"]
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    other = lonely / "towns.db"
    from towns.models.db import make_engine, prepare_database

    prepare_database(make_engine(f"sqlite:///{other}"))
    (tmp_path / "t.csv").write_text(TOWN, encoding="utf-8")
    out = towns(
        "import",
        "towns",
        str(tmp_path / "t.csv"),
        home=lonely,
        check_rc=2,
        env={"DATABASE_URL": f"sqlite:///{other}", "TEMPORAL_ADDRESS": address},
    )
    assert "write to another database" in out.stderr
    with Session(make_engine(f"sqlite:///{other}")) as s:
        assert s.exec(select(Town)).first() is None


def test_no_server_for_the_home_is_said_at_once(tmp_path):
    home = tmp_path / "nobody"
    (tmp_path / "r.csv").write_text(REPORT, encoding="utf-8")
    for args in (
        ["import", "reports", str(tmp_path / "r.csv")],
        ["round", "start", "--kind", "annual", "--year", "2018"],
        ["bulletin", "run", "--quarter", "2018Q2"],
        ["apply", "HOME-A", "--tier", "provincial_creation"],
    ):
        started = time.monotonic()
        out = towns(*args, home=home, check_rc=2)
        assert time.monotonic() - started < 10, args  # no waiting for a server that is not there
        assert "no towns server is running for" in out.stderr and "towns server" in out.stderr, args
        assert "Traceback" not in out.stderr
    out = towns("status", home=home, check_rc=2)
    assert "no database yet" in out.stderr
    assert not home.exists() or not any(home.iterdir())  # a read creates nothing


def test_a_second_server_on_a_busy_port_exits_and_a_killed_one_is_seen(server, tmp_path):
    home, _ = server
    address = json.loads((home / "server.json").read_text())["temporal_address"]
    port = int(address.rsplit(":", 1)[1])
    second = tmp_path / "second"
    env = {**os.environ, "TOWNS_HOME": str(second)}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [*TOWNS, "server", "--web-port", str(free_port()), "--temporal-port", str(port), "--ui-port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "already in use" in out.stdout and "towns server ready" not in out.stdout
    assert not (second / "towns.db").exists()
    # the first server still answers
    towns("round", "list", home=home, check_rc=0)
    # a second server for the same home is refused too
    out = subprocess.run(
        [*TOWNS, "server", "--web-port", str(free_port()), "--temporal-port", str(free_port())],
        env={**env, "TOWNS_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "already runs for" in out.stdout


def test_a_killed_server_is_not_mistaken_for_a_running_one(tmp_path):
    home = tmp_path / "killed"
    env = {**os.environ, "TOWNS_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            *TOWNS,
            "server",
            "--web-port",
            str(free_port()),
            "--temporal-port",
            str(free_port()),
            "--ui-port",
            str(free_port()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in proc.stdout:
        if "Ctrl-C stops" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (home / "server.json").exists()  # left behind
    (tmp_path / "r.csv").write_text(REPORT, encoding="utf-8")
    out = towns("import", "reports", str(tmp_path / "r.csv"), home=home, check_rc=2)
    assert "no longer running" in out.stderr


def test_a_server_without_the_web_console_gives_its_temporal_address_to_the_other_commands(tmp_path):
    """``--web-port 0`` (no web console): server.json still names the embedded Temporal server, so
    the home's other commands reach it."""
    home = tmp_path / "noweb"
    port = free_port()
    env = {**os.environ, "TOWNS_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [*TOWNS, "server", "--web-port", "0", "--temporal-port", str(port), "--ui-port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in proc.stdout:
            if "Ctrl-C stops" in line:
                break
        assert json.loads((home / "server.json").read_text())["temporal_address"] == f"127.0.0.1:{port}"
        towns("round", "list", home=home, check_rc=0)
        (tmp_path / "t.csv").write_text(
            "code,name,district,tier,industry,listed_year,planned_investment\n"
            "SX-NW-1,无网镇,keqiao,provincial_creation,fashion,2016,50\n",
            encoding="utf-8",
        )
        out = towns("import", "towns", str(tmp_path / "t.csv"), home=home, check_rc=0)
        assert "registered" in out.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def test_an_unreachable_database_is_answered_without_a_traceback(tmp_path):
    out = towns(
        "status",
        home=tmp_path / "h",
        env={"DATABASE_URL": "postgresql+psycopg://towns:secret@127.0.0.1:1/towns"},
        check_rc=2,
    )
    assert "could not be used" in out.stderr and "DATABASE_URL" in out.stderr and "数据库" in out.stderr
    assert "Traceback" not in out.stderr and "secret" not in out.stderr


def test_a_server_with_a_worker_setting_it_cannot_read_says_which_and_starts_nothing(tmp_path):
    home = tmp_path / "home"
    port = str(free_port())
    out = towns(
        "server",
        "--temporal-port",
        port,
        "--web-port",
        "0",
        home=home,
        env={"TOWNS_WORKFLOW_SANDBOX": "yes"},
        check_rc=2,
    )
    assert "TOWNS_WORKFLOW_SANDBOX is 'yes': give 1 (sandboxed) or 0" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert not (home / "temporal.db").exists() and not (home / "server.json").exists()
