"""`towns server` (file-backed) stopped and started again between two months of reports, and in
the middle of an import: every town workflow goes on (none started twice), the overdue timers
are still set, and the interrupted import's answers are true."""

import json
import os
import signal
import subprocess

from sqlalchemy import func
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.cli.conftest import TOWNS, free_port, towns
from tests.faults.conftest import until
from towns.models.db import make_engine
from towns.models.report import MonthlyReport
from towns.models.workflows import workflow_id
from towns.workflows.town import TownWorkflow, report_deadline

N = 15


def start_server(home, port: int, ui: int) -> subprocess.Popen:
    env = {**os.environ, "TOWNS_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    env.pop("TEMPORAL_ADDRESS", None)
    proc = subprocess.Popen(
        [*TOWNS, "server", "--web-port", str(free_port()), "--temporal-port", str(port), "--ui-port", str(ui)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C stops" in line:
            return proc
    raise AssertionError("towns server did not start:\n" + "".join(lines))


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 0


def towns_csv(path) -> None:
    path.write_text(
        "code,name,district,tier,industry,listed_year,planned_investment\n"
        + "".join(f"RS-{i:02d},镇{i},keqiao,provincial_creation,fashion,2016,50\n" for i in range(N)),
        encoding="utf-8",
    )


def reports_csv(path, months: list[str]) -> int:
    lines = ["code,period,fai,industry_fai,nongov_fai,tax"]
    for p in months:
        m = int(p[5:])
        for i in range(N):
            fai = round(1.4 * m + i * 0.01, 2)
            lines.append(f"RS-{i:02d},{p},{fai},{round(fai * 0.8, 2)},{round(fai * 0.9, 2)},{round(0.1 * m, 2)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


async def executions(client: Client, code: str) -> list:
    return [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id(code)}'")]


async def pending_timers(client: Client, code: str) -> list:
    """Durable timers set and not yet fired or cancelled, with their fire times."""
    history = await client.get_workflow_handle(workflow_id(code)).fetch_history()
    started, done = {}, set()
    for e in history.events:
        if e.HasField("timer_started_event_attributes"):
            a = e.timer_started_event_attributes
            started[a.timer_id] = (
                e.event_time.ToDatetime().timestamp() + a.start_to_fire_timeout.ToTimedelta().total_seconds()
            )
        for f in ("timer_fired_event_attributes", "timer_canceled_event_attributes"):
            if e.HasField(f):
                done.add(getattr(e, f).timer_id)
    return [t for i, t in started.items() if i not in done]


async def test_server_restart_between_months_and_in_the_middle_of_an_import(tmp_path):
    home = tmp_path / "home"
    port, ui = free_port(), free_port()
    server = start_server(home, port, ui)
    try:
        towns_csv(tmp_path / "towns.csv")
        reports_csv(tmp_path / "m1.csv", ["2018-01"])
        reports_csv(tmp_path / "m2.csv", ["2018-02"])
        towns("import", "towns", str(tmp_path / "towns.csv"), home=home, check_rc=0)
        towns("import", "reports", str(tmp_path / "m1.csv"), home=home, check_rc=0)
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        runs = {
            f"RS-{i:02d}": (await client.get_workflow_handle(workflow_id(f"RS-{i:02d}")).describe()).run_id
            for i in range(N)
        }
        timers = {c: await pending_timers(client, c) for c in runs}
        assert all(len(t) == 1 for t in timers.values())  # each town's next report is watched

        # ---- stop and start again between two months
        stop_server(server)
        server = start_server(home, port, ui)
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        out = json.loads(towns("import", "reports", str(tmp_path / "m2.csv"), "--json", home=home, check_rc=0).stdout)
        assert out["accepted"] == N and out["rejected"] == 0
        again = json.loads(
            towns("import", "towns", str(tmp_path / "towns.csv"), "--json", home=home, check_rc=0).stdout
        )
        assert {r["status"] for r in again["rows"]} == {"unchanged"}
        for code, run_id in runs.items():
            assert len(await executions(client, code)) == 1  # never started twice
            d = await client.get_workflow_handle(workflow_id(code)).describe()
            assert d.run_id == run_id and d.status.name == "RUNNING"
            view = await client.get_workflow_handle(workflow_id(code)).query(TownWorkflow.state)
            assert view.periods_reported == 2
            # the overdue timer is still set, for the same due date (end of the 10th, Beijing time)
            assert await pending_timers(client, code) == timers[code]
            (fires,) = timers[code]
            assert abs(fires - report_deadline(view.watch_next, 10).timestamp()) < 1

        # ---- stop and start again in the middle of an import
        months = [f"2017-{m:02d}" for m in range(1, 13)] + [f"2018-{m:02d}" for m in range(3, 13)]
        rows = reports_csv(tmp_path / "big.csv", months)
        env = {**os.environ, "TOWNS_HOME": str(home), "COLUMNS": "200"}
        env.pop("DATABASE_URL", None)
        importing = subprocess.Popen(
            [*TOWNS, "import", "reports", str(tmp_path / "big.csv"), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        engine = make_engine(f"sqlite:///{home / 'towns.db'}")

        def recorded() -> int:
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(MonthlyReport)).one()

        await until(lambda: recorded() > 2 * N, 120, "part of the import recorded")
        stop_server(server)
        server = start_server(home, port, ui)
        stdout, _stderr = importing.communicate(timeout=400)
        result = json.loads(stdout)  # nothing but the JSON on stdout, whatever the Temporal core said meanwhile
        assert len(result["rows"]) == rows
        statuses = {r["status"] for r in result["rows"]}
        assert statuses <= {"accepted", "unchanged", "unanswered"}, statuses
        with Session(engine) as s:
            stored = s.exec(select(MonthlyReport.code, MonthlyReport.period, MonthlyReport.revision)).all()
        assert len(stored) == len(set(stored)) == rows + 2 * N  # nothing twice
        keys = {(c, p) for c, p, _ in stored}
        for r in result["rows"]:  # what was answered accepted is recorded
            if r["status"] in ("accepted", "unchanged"):
                assert (r["code"], r["period"]) in keys
        # running the same file again: every row is already there
        rerun = json.loads(
            towns("import", "reports", str(tmp_path / "big.csv"), "--json", home=home, check_rc=0).stdout
        )
        assert {r["status"] for r in rerun["rows"]} == {"unchanged"}
        assert recorded() == rows + 2 * N
    finally:
        stop_server(server)
