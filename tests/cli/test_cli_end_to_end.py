"""The CLI end to end against a real embedded dev server: `towns server`, import, status, history."""

import getpass
import json
import os
import subprocess

from tests.cli.conftest import TOWNS, free_port, towns

TOWNS_CSV = """code,name,district,tier,industry,batch,listed_year,creation_years,planned_investment,annual_fai_target,planned_area_km2,core_area_km2,state
E2E-P,甲小镇,keqiao,provincial_creation,fashion,2,2016,3,50,,3.0,1.0,creating
E2E-C,乙小镇,上虞区,市级,旅游,,2015,3,36,,3.2,1.0,
E2E-N,丙小镇,zhuji,named,fashion,1,2015,3,50,,2.9,1.0,named
E2E-X,丁小镇,nowhere,city,fashion,,2015,3,36,,,,
"""

REPORTS_CSV = """code,period,fai,industry_fai,nongov_fai,tax,correction
E2E-P,2018-03,3.0,2.4,2.0,0.5,
E2E-C,2018-03,2.0,1.2,0.5,0.2,
E2E-N,2018-03,0.5,0.45,0.45,0.1,
E2E-P,2018-02,2,2.5,1,,
E2E-Q,2018-03,1,1,1,,
"""


def test_import_status_history(server, tmp_path):
    _import_status_history(*server, tmp_path)


def test_import_status_history_on_postgresql(pg_server, tmp_path):
    """The same with the server on PostgreSQL: the commands find the database in its server.json."""
    _import_status_history(*pg_server, tmp_path)


def _import_status_history(home, banner, tmp_path):
    assert "http://127.0.0.1:" in banner  # the UI address is printed
    (tmp_path / "towns.csv").write_text(TOWNS_CSV, encoding="utf-8")
    (tmp_path / "reports.csv").write_text(REPORTS_CSV, encoding="utf-8")

    out = towns("import", "towns", str(tmp_path / "towns.csv"), home=home, check_rc=1)
    assert "3 accepted" in out.stdout and "1 rejected" in out.stdout and "row    5" in out.stdout

    out = towns("import", "reports", str(tmp_path / "reports.csv"), "--json", home=home, check_rc=1)
    result = json.loads(out.stdout)
    assert (result["accepted"], result["rejected"]) == (3, 2)
    rejected = {r["row"]: r["problems"][0] for r in result["rows"] if not r["accepted"]}
    assert rejected[5]["field"] == "industry_fai"
    assert "unknown town" in rejected[6]["en"]

    status = json.loads(towns("status", "E2E-C", "--json", home=home, check_rc=0).stdout)
    assert (status["code"], status["tier"], status["state"]) == ("E2E-C", "city", "creating")

    def findings(code):
        h = json.loads(towns("history", code, "--json", home=home, check_rc=0).stdout)
        assert h["code"] == code
        times = [e["time"] for e in h["events"]]
        assert times == sorted(times)
        return {(e["rule"], e["clause"], e["passed"]) for e in h["events"] if e["kind"] == "finding"}

    # provincial creation: pace 3.0 ≥ 15 × 3/12 × 0.8 = 3.0 passes; non-gov 2.0/3.0 fails; industry 80 % passes
    assert findings("E2E-P") == {
        ("pace-provincial", "SX2018-G3", True),
        ("nongov-share", "SX2018-G4", False),
        ("industry-share", "ZJ-GUIDE-IND70", True),
    }
    # city-level: no G4; pace 2.0 < 12 × 3/12 × 0.8 = 2.4 fails under S3; industry 60 % fails
    assert findings("E2E-C") == {("pace-city", "SX2018-S3", False), ("industry-share", "ZJ-GUIDE-IND70", False)}
    # named: no pace finding at all
    # a named town is held to the pace as to its annual target (SX2018-G3)
    assert findings("E2E-N") == {
        ("pace-provincial", "SX2018-G3", False),
        ("nongov-share", "SX2018-G4", True),
        ("industry-share", "ZJ-GUIDE-IND70", True),
    }

    h = json.loads(towns("history", "E2E-P", "--json", home=home, check_rc=0).stdout)
    assert [e["kind"] for e in h["events"]].count("rejection") == 1

    listing = towns("status", home=home, check_rc=0).stdout
    assert "E2E-C" in listing and "乙小镇" in listing


def test_import_without_server_says_how_to_fix(tmp_path):
    (tmp_path / "r.csv").write_text("code,period,fai,industry_fai,nongov_fai\nX,2018-01,1,1,1\n")
    env_home = tmp_path / "nohome"
    out = subprocess.run(
        [*TOWNS, "import", "reports", str(tmp_path / "r.csv")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "TOWNS_HOME": str(env_home),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "TOWNS_CONNECT_WAIT": "1",
        },
        timeout=120,
    )
    assert out.returncode == 2
    assert "towns server" in out.stderr


ROUND_TOWNS = """代码,名称,区县,层级,产业,列入年份,计划总投资
RD-A,甲镇,keqiao,provincial_creation,fashion,2016,50
RD-B,乙镇,zhuji,provincial_creation,fashion,2016,50
"""
ROUND_REPORTS = """code,period,fai,industry_fai,nongov_fai,tax,high_tech_enterprises
RD-A,2016-12,18,15,16,1.0,5
RD-B,2016-12,16,13,14,1.0,3
RD-A,2017-12,20,16,18,1.3,6
RD-B,2017-12,6,5,5.5,1.0,3
"""


def test_annual_round_with_approval_and_override(server, tmp_path):
    home, _ = server
    (tmp_path / "towns.csv").write_text(ROUND_TOWNS, encoding="utf-8")
    (tmp_path / "reports.csv").write_text(ROUND_REPORTS, encoding="utf-8")
    towns("import", "towns", str(tmp_path / "towns.csv"), home=home, check_rc=0)
    towns("import", "reports", str(tmp_path / "reports.csv"), home=home, check_rc=0)

    started = json.loads(
        towns(
            "round",
            "start",
            "--kind",
            "annual",
            "--year",
            "2017",
            "--city-tax-growth",
            "5%",
            "--wait",
            "--json",
            home=home,
            check_rc=0,
        ).stdout
    )
    assert started == {"id": "round-2017-annual", "state": "proposed"}
    shown = json.loads(towns("round", "show", "round-2017-annual", "--json", home=home, check_rc=0).stdout)
    assert (shown["id"], shown["kind"], shown["year"], shown["state"]) == (
        "round-2017-annual",
        "annual",
        2017,
        "proposed",
    )
    by_code = {t["code"]: t for t in shown["towns"]}
    assert by_code["RD-B"]["proposed_grade"] == "warning" and by_code["RD-B"]["final_grade"] is None
    # a 2017 round runs the provincial rules: the annual floor (ZJ-ASSESS-FLOOR), not the 2018 work points
    assert any(f["clause"] == "ZJ-ASSESS-FLOOR" and not f["passed"] for f in by_code["RD-B"]["findings"])
    assert {f["clause"] for f in shown["city"]["findings"]} >= {"SX2018-G1", "SX2018-G2", "SX2018-T4"}

    refused = towns(
        "round", "approve", "round-2017-annual", "--by", "王主任", "--override", "RD-B=pass", home=home, check_rc=1
    )
    assert "needs --reason" in refused.stderr
    towns(
        "round",
        "approve",
        "round-2017-annual",
        "--by",
        "王主任",
        "--override",
        "RD-B=pass",
        "--reason",
        "受台风影响，经核实",
        home=home,
        check_rc=0,
    )
    again = towns("round", "approve", "round-2017-annual", "--by", "李四", home=home, check_rc=1)
    assert "already approved by 王主任" in again.stderr

    shown = json.loads(towns("round", "show", "round-2017-annual", "--json", home=home, check_rc=0).stdout)
    b = next(t for t in shown["towns"] if t["code"] == "RD-B")
    assert (shown["state"], b["proposed_grade"], b["final_grade"], b["reason"]) == (
        "applied",
        "warning",
        "pass",
        "受台风影响，经核实",
    )
    status = json.loads(towns("status", "RD-B", "--json", home=home, check_rc=0).stdout)
    assert (status["warnings"], status["last_grade"]) == (0, "pass")
    decision = [
        e
        for e in json.loads(towns("history", "RD-B", "--json", home=home, check_rc=0).stdout)["events"]
        if e["kind"] == "decision"
    ]
    assert decision and decision[0]["round"] == "round-2017-annual" and decision[0]["grade"] == "pass"
    # a command-line write is recorded as the operating-system user; a --by naming someone else is kept beside it
    assert decision[0]["by"] == f"王主任 (via OS user {getpass.getuser()})"
    assert decision[0]["reason"] == "受台风影响，经核实"
    listed = json.loads(towns("round", "list", "--json", home=home, check_rc=0).stdout)
    assert [(r["id"], r["state"]) for r in listed] == [("round-2017-annual", "applied")]


def test_quarterly_schedule_and_bulletin(server, tmp_path):
    """The schedule exists after `towns server` starts, fires the quarterly evaluation, and a
    quarter's bulletin is stored once. (The time-skipping test server has no schedules —
    CreateSchedule is unimplemented there — so this runs on the real dev server.)"""
    import asyncio
    from datetime import timedelta, timezone

    from openpyxl import load_workbook
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    from towns.schedule import SCHEDULE_ID

    home, banner = server
    assert f"schedule {SCHEDULE_ID}: created" in banner
    (tmp_path / "towns.csv").write_text(ROUND_TOWNS, encoding="utf-8")
    (tmp_path / "reports.csv").write_text(
        "code,period,fai,industry_fai,nongov_fai\nRD-A,2018-06,8,7,7.5\nRD-B,2018-06,4,3,3.5\n", encoding="utf-8"
    )
    towns("import", "towns", str(tmp_path / "towns.csv"), home=home, check_rc=0)
    towns("import", "reports", str(tmp_path / "reports.csv"), home=home, check_rc=0)
    address = json.loads((home / "server.json").read_text())["temporal_address"]

    async def schedule():
        client = await Client.connect(address, data_converter=pydantic_data_converter)
        handle = client.get_schedule_handle(SCHEDULE_ID)
        desc = await handle.describe()
        upcoming = [t.astimezone(timezone(timedelta(hours=8))) for t in desc.info.next_action_times]
        before = desc.info.num_actions
        await handle.trigger()
        for _ in range(100):  # the triggered run is recorded asynchronously by the server
            desc = await handle.describe()
            if desc.info.num_actions > before and desc.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        run = desc.info.recent_actions[-1].action
        await client.get_workflow_handle(run.workflow_id, run_id=run.first_execution_run_id).result()
        return upcoming

    upcoming = asyncio.run(schedule())
    assert upcoming and all(t.month in (1, 4, 7, 10) and t.day == 15 and t.hour == 9 for t in upcoming)

    first = json.loads(towns("bulletin", "run", "--quarter", "2018Q2", "--json", home=home, check_rc=0).stdout)
    again = json.loads(towns("bulletin", "run", "--quarter", "2018Q2", "--json", home=home, check_rc=0).stdout)
    assert first["new"] is True and again["new"] is False and first["published_at"] == again["published_at"]

    data = json.loads(towns("bulletin", "show", "2018Q2", "--format", "json", home=home, check_rc=0).stdout)
    assert data["quarter"] == "2018Q2"
    mine = ("RD-A", "RD-B")  # the module's other tests have towns of their own on this server
    ranks = {t["code"]: (t["rank"], t["completion"], t["behind_schedule"]) for t in data["towns"] if t["code"] in mine}
    assert ranks == {"RD-A": (1, round(8 / 15, 4), False), "RD-B": (2, round(4 / 15, 4), True)}
    keqiao = next(d for d in data["districts"] if d["district"] == "keqiao")
    assert (keqiao["total"], keqiao["quota"]) == (8.0, 80.0)
    assert [w["code"] for w in data["early_warnings"] if w["code"] in mine] == ["RD-B"]

    out = tmp_path / "b.xlsx"
    towns("bulletin", "show", "2018Q2", "--format", "xlsx", "--out", str(out), home=home, check_rc=0)
    assert len(load_workbook(out).sheetnames) == 5
    html = towns("bulletin", "show", "2018Q2", "--format", "html", home=home, check_rc=0).stdout
    assert html.count("<svg") == 3 and "RD-B" in html
    assert towns("bulletin", "show", "2018Q5", home=home).returncode == 2
