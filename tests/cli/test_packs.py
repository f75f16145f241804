"""`towns pack check|show|list|install|test` as an official runs them."""

import json
from importlib import resources

from typer.testing import CliRunner

from towns.cli import app
from towns.models.db import make_engine, prepare_database

runner = CliRunner()
PACKS = resources.files("towns.rules").joinpath("packs")


def towns(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_show_2017_and_2018_differ_exactly_by_the_shaoxing_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path))
    p17 = json.loads(towns("pack", "show", "sx2018", "--as-of", "2017-06-30", "--json").stdout)
    p18 = json.loads(towns("pack", "show", "sx2018", "--as-of", "2018-06-30", "--json").stdout)
    changed = {k for k in p18["params"] if p17["params"].get(k) != p18["params"][k]}
    assert changed == {k for k, p in p18["params"].items() if p["layer"].startswith("sx2018")}
    assert "city_fai_target" in changed and "city_fai_target" in p17["not_in_force"]
    assert (
        p18["params"]["city_fai_target"]["clause"] == "SX2018-G1" and p18["params"]["city_fai_target"]["value"] == 300
    )
    table = towns("pack", "show", "sx2018", "--as-of", "2018-06-30").stdout
    assert "city_fai_target" in table and "SX2018-G1" in table and "office reading" in table
    assert "柯桥区 keqiao 80 亿元" in table


def test_check_says_what_is_wrong_and_exits_1(tmp_path):
    good = tmp_path / "sx2019.toml"
    good.write_text(
        '[pack]\nid = "sx2019"\nversion = "2019.1"\nschema = 2\nextends = "sx2018"\n'
        'title_zh = "2019年绍兴市特色小镇创建工作要点"\ntitle_en = "Shaoxing 2019"\n'
        '[params.city_fai_target]\nclause = "SX2018-G1"\nvalues = { 2019-01-01 = 320 }\nuntil = 2019-12-31\n'
        '[[districts]]\nid = "keqiao"\nquota = { clause = "SX2018-T4", values = { 2019-01-01 = 100 }, until = 2019-12-31 }\n',
        encoding="utf-8",
    )
    result = towns("pack", "check", str(good))
    assert result.exit_code == 1
    # only keqiao has a 2019 quota: the quotas do not sum to the 2019 target, and it says when
    assert "sum to 100 亿元 but city_fai_target is 320 亿元" in result.stdout and "2019-01-01" in result.stdout
    ok = towns("pack", "check", str(PACKS.joinpath("sx2018.toml")), str(PACKS.joinpath("zj.toml")), "--json")
    assert ok.exit_code == 0 and all(f["ok"] for f in json.loads(ok.stdout)["files"])


def test_list_install_and_test(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    listed = json.loads(towns("pack", "list", "--json").stdout)["packs"]
    assert {p["id"] for p in listed} >= {"zj", "sx2018"} and all(p["source"] == "shipped" for p in listed)
    engine = make_engine(f"sqlite:///{tmp_path / 'towns.db'}")
    prepare_database(engine)
    engine.dispose()
    layer = tmp_path / "what-if.toml"
    layer.write_text(
        '[pack]\nid = "sx2018-pace"\nversion = "1"\nschema = 2\nextends = "sx2018"\n'
        'title_zh = "进度系数0.9"\ntitle_en = "pace factor 0.9"\n'
        '[params.pace_factor]\nclause = "SX2018-G3"\nvalues = { 2018-01-01 = 0.9 }\nreading = "office"\n',
        encoding="utf-8",
    )
    first = towns("pack", "install", str(layer), "--by", "王主任")
    assert first.exit_code == 0 and "installed" in first.stdout
    assert "already installed" in towns("pack", "install", str(layer)).stdout
    layer.write_text(layer.read_text("utf-8").replace("0.9 }", "0.95 }"), encoding="utf-8")
    changed = towns("pack", "install", str(layer))
    assert changed.exit_code == 1 and "new version" in changed.stderr
    rows = json.loads(towns("pack", "list", "--json").stdout)["packs"]
    assert any(p["id"] == "sx2018-pace" and "王主任" in p["source"] for p in rows)

    examples = sorted(str(f) for f in PACKS.joinpath("examples", "sx2018").iterdir() if f.name.startswith("g4"))
    ran = towns("pack", "test", *examples)
    assert ran.exit_code == 0 and "0 failed" in ran.stdout
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "- name: wrong on purpose\n  pack: sx2018\n  kind: monthly\n  period: 2018-06\n  towns:\n"
        "    - {code: EX-W, tier: provincial_creation, industry: fashion, listed_year: 2016,"
        " reports: {2018-06: {fai: 10, industry_fai: 8, nongov_fai: 8}}}\n"
        "  expect:\n    EX-W:\n      findings: {nongov-share: failed}\n",
        encoding="utf-8",
    )
    bad = towns("pack", "test", str(wrong))
    assert bad.exit_code == 1 and "nongov-share was expected failed, but it passed" in bad.stdout
