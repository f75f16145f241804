"""`towns audit verify|replay`, `history --xlsx --as-of` and `round simulate` as a user runs them."""

import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner

from tests.office import Office
from towns.cli import app
from towns.models.round import Override

runner = CliRunner()


@pytest.fixture
async def cli_scenario(env, engine, worker, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path / "home"))
    office = Office(env, engine, worker)
    code = await office.register("CLI", listed_year=2016)
    await office.december(code, 2016, fai=5, tax=1.0)
    await office.round("annual", 2016, city_tax_growth=0.0)
    await office.december(code, 2017, fai=5, tax=1.0)
    detail = await office.round(
        "annual", 2017, city_tax_growth=0.0, overrides=[Override(code=code, grade="warning", reason="再给一年观察期")]
    )
    return code, detail.id


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


async def test_verify_replay_and_tampering(cli_scenario, engine):
    _code, round_id = cli_scenario
    ok = invoke("audit", "verify")
    assert ok.exit_code == 0 and "ledger intact" in ok.stdout
    replayed = invoke("audit", "replay", "--all", "--json")
    assert replayed.exit_code == 0 and json.loads(replayed.stdout)["different"] == 0
    assert invoke("audit", "replay", "--round", round_id).exit_code == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE decisions SET reason = 'changed later' WHERE round_id = :r"), {"r": round_id})
    broken = invoke("audit", "verify")
    assert broken.exit_code == 1
    assert "decisions row" in broken.stdout and "changed later" in broken.stdout


async def test_history_xlsx_and_as_of(cli_scenario, tmp_path):
    code, _round_id = cli_scenario
    out = tmp_path / "history.xlsx"
    result = invoke("history", code, "--xlsx", str(out), "--json")
    assert result.exit_code == 0
    h = json.loads(result.stdout)
    wb = load_workbook(out)
    decisions = list(wb["决定 Decisions"].iter_rows(min_row=2, values_only=True))
    assert len(decisions) == len([e for e in h["events"] if e["kind"] == "decision"]) == 2
    assert decisions[-1][4] == "warning" and decisions[-1][7] == "再给一年观察期"
    early = invoke("history", code, "--as-of", "2000-01-01", "--json")
    assert json.loads(early.stdout)["events"] == []
    bad = invoke("history", code, "--as-of", "yesterday")
    assert bad.exit_code == 2 and "2018-06-30" in bad.output


async def test_simulate_from_the_command_line(cli_scenario, tmp_path):
    code, _round_id = cli_scenario
    # a what-if layer whose annual investment floor is 4 亿元: the town would no longer be warned in 2017
    what_if = tmp_path / "floor4.toml"
    what_if.write_text(
        '[pack]\nid = "floor4"\nversion = "1"\nschema = 2\nextends = "sx2018"\ntitle_zh = "假设"\ntitle_en = "what if"\n'
        '[params.annual.fai_floor]\nclause = "ZJ-ASSESS-FLOOR"\nvalues = { 2015-01-01 = 4 }\n',
        encoding="utf-8",
    )
    result = invoke("round", "simulate", "--kind", "annual", "--year", "2017", "--pack", str(what_if), "--json")
    assert result.exit_code == 0, result.output
    sim = json.loads(result.stdout)
    (change,) = sim["changes"]
    assert change["code"] == code and change["grade_from"] == "demoted" and change["grade_to"] != "demoted"
    assert any(f["rule"] == "annual-investment" for f in change["findings"])
