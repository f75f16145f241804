"""The demo fixtures: twelve Shaoxing towns and their year-to-date monthly reports since listing (2015–2018)."""

import csv
import hashlib
import itertools
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select
from typer.testing import CliRunner

from towns import demo
from towns.cli import app
from towns.cli.demo import load_demo_async
from towns.config import Settings
from towns.models.finding import FindingRow
from towns.models.report import MonthlyReport, ReportSubmission
from towns.models.round import TownRecord
from towns.models.town import TownProfile
from towns.rules.acceptance import creation_end, due_for_acceptance, evaluate_acceptance_town
from towns.rules.library import load_pack
from towns.rules.monthly import evaluate_monthly

TOWN_KEYS = {
    "code",
    "name",
    "district",
    "tier",
    "industry",
    "batch",
    "listed_year",
    "creation_years",
    "planned_investment",
    "annual_fai_target",
    "planned_area_km2",
    "core_area_km2",
    "state",
}
REPORT_KEYS = {
    "code",
    "period",
    "fai",
    "industry_fai",
    "nongov_fai",
    "tax",
    "new_enterprises",
    "high_tech_enterprises",
    "high_end_talents",
    "tourists_10k",
    "scenic_level",
    "correction",
    "submitted_by",
}
MONEY = ("fai", "industry_fai", "nongov_fai", "tax")


def _periods(first_year: int) -> list[str]:
    return [f"{y}-{m:02d}" for y in range(first_year, 2019) for m in range(1, 13)]


def _first_year(town: dict) -> int:
    return max(town["listed_year"], 2015)


def _evaluations():
    """(code, period) → {rule id: finding} for every report of every town."""
    pack = load_pack()
    towns = {t["code"]: TownProfile.model_validate(t) for t in demo.town_rows()}
    out = {}
    for row in demo.report_rows():
        sub = ReportSubmission.model_validate(row)
        ev = evaluate_monthly(towns[row["code"]], sub.period, 1, sub.figures(), pack)
        out[(row["code"], sub.period)] = {f.rule: f for f in ev.findings}
    return out


def _digest(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_writing_the_demo_tells_the_user_its_figures_are_synthetic(tmp_path):
    """`towns demo write` says, where the user reads it, that the figures are invented."""
    result = CliRunner().invoke(app, ["demo", "write", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "合成数据，仅供演示" in result.output and "Synthetic demo data, not official statistics" in result.output
    assert (tmp_path / "demo" / "towns.csv").exists() and (tmp_path / "demo" / "reports.csv").exists()


def test_the_demo_data_is_pinned():
    """The generator's output is pinned: a change to a seed, a season or a town's figures shows here
    (update the digests only for a change meant to alter the demo)."""
    assert _digest(demo.town_rows()) == "dee075cbfc29243a122c821d29115a5b855f60f3d7996489b0a8871108dd48ab"
    assert _digest(demo.report_rows()) == "82cbbd306f1ceec8a00e74c9e7ef5066167d0370ed2f980bf206e839aeb89879"
    rows = {(r["code"], r["period"]): r for r in demo.report_rows()}
    # the Yue-opera town's mid-2018 figures: drawn by the seeded generator, not set by hand
    assert rows[("SX-SZ-YJ", "2018-06")] == {
        "code": "SX-SZ-YJ",
        "period": "2018-06",
        "fai": 3.22,
        "industry_fai": 2.64,
        "nongov_fai": 2.95,
        "tax": 0.17,
        "new_enterprises": 3,
        "high_tech_enterprises": 0,
        "high_end_talents": 5,
        "tourists_10k": 43.87,
        "scenic_level": 3,
        "correction": False,
        "submitted_by": "shengzhou-stats",
    }
    # Decembers add up to the year's figures: 6.8 亿元 invested in 2018, tax 0.30 × 1.10
    assert (rows[("SX-SZ-YJ", "2018-12")]["fai"], rows[("SX-SZ-YJ", "2018-12")]["tax"]) == (6.8, 0.33)
    assert rows[("SX-YC-HJ", "2015-01")]["fai"] == 0.97  # the first month of the first batch


def test_the_rules_grade_the_demo_towns_as_the_demo_says():
    """Two of the demo's named failures, with the figures a user sees in the findings."""
    evaluations = _evaluations()
    yj = evaluations[("SX-SZ-YJ", "2018-12")]["pace-provincial"]  # Yue-opera town: theatre project slipped
    assert (yj.passed, yj.value, yj.threshold) == (False, 6.8, 8.0)
    sy = evaluations[("SX-SY-SY", "2018-12")]["pace-city"]  # umbrella town: 36 ÷ 3 × 0.8 = 9.6
    assert (sy.passed, sy.value, sy.threshold) == (False, 8.2, 9.6)
    assert all(f.passed for f in evaluations[("SX-YC-HJ", "2018-12")].values())  # the yellow-wine town passes


async def test_loading_the_demo_takes_every_report_and_names_the_failing_towns(env, engine, worker, db_url, capsys):
    """`towns demo load` on a server: every report is taken, the towns that fail a rule are named, the
    synthetic-data notice is shown, the findings are recorded; loading again changes nothing."""
    s = Settings(home=Path(engine.url.database).parent, database_url=db_url, temporal_address=None, task_queue=worker)
    assert await load_demo_async(env.client, s) == (432, 0)
    said = capsys.readouterr().out
    assert "432 monthly reports accepted, 0 already there, 0 rejected" in said
    assert "towns with failed checks: SX-KQ-LY, SX-SY-SY, SX-SZ-YJ, SX-ZJ-HB" in said
    assert "合成数据，仅供演示" in said
    with Session(engine) as ses:
        assert len(ses.exec(select(MonthlyReport)).all()) == 432
        failed = ses.exec(select(FindingRow).where(col(FindingRow.passed).is_(False))).all()
    assert {(f.code, f.rule) for f in failed} == {(c, r) for c, rules in demo.EXPECTED_FAILURES.items() for r in rules}
    yj = next(f for f in failed if (f.code, f.period) == ("SX-SZ-YJ", "2018-12"))
    assert (yj.rule, yj.value, yj.threshold) == ("pace-provincial", 6.8, 8.0)
    assert await load_demo_async(env.client, s) == (0, 0)
    assert "every demo report is already loaded" in capsys.readouterr().out


def test_twelve_towns_with_unique_codes_and_valid_profiles():
    rows = demo.town_rows()
    assert len(rows) == 12
    assert len({r["code"] for r in rows}) == 12
    for r in rows:
        assert set(r) == TOWN_KEYS
        assert len(r["code"]) <= 32
        p = TownProfile.model_validate(r)
        assert p.code == r["code"] and p.state.value == "creating"
        assert 2015 <= r["listed_year"] <= 2017  # reports start in January of the listed year
        assert r["planned_investment"] is not None and 30 <= r["planned_investment"] <= 60
    tiers = {r["code"]: r["tier"] for r in rows}
    assert tiers["SX-ZJ-WY"] == "provincial_creation"
    assert tiers["SX-SY-SY"] == "city"
    assert TownProfile.model_validate(next(r for r in rows if r["tier"] == "city")).planned_investment == 36
    listed = {r["code"]: r["listed_year"] for r in rows}
    assert listed["SX-ZJ-WY"] == listed["SX-YC-HJ"] == listed["SX-SY-SY"] == 2015
    for r in rows:
        want = {"1": 2015, "2": 2016, "3": 2017}.get(r["batch"])
        if want is not None:
            assert r["listed_year"] == want, r["code"]
        elif r["tier"] == "provincial_cultivation":
            assert r["listed_year"] in (2016, 2017), r["code"]


def test_reports_cover_every_month_grouped_by_town():
    towns = demo.town_rows()
    rows = demo.report_rows()
    counts = {t["code"]: 12 * (2019 - _first_year(t)) for t in towns}
    assert sorted(set(counts.values())) == [24, 36, 48]
    assert len(rows) == sum(counts.values()) == 432
    start = 0
    for t in towns:
        code, n = t["code"], counts[t["code"]]
        block = rows[start : start + n]
        assert [r["code"] for r in block] == [code] * n
        assert [r["period"] for r in block] == _periods(_first_year(t))
        start += n


def test_no_report_before_a_towns_listed_year():
    listed = {t["code"]: t["listed_year"] for t in demo.town_rows()}
    for r in demo.report_rows():
        assert int(r["period"][:4]) >= listed[r["code"]], (r["code"], r["period"])
        assert r["period"] >= "2015-01"


def test_reports_validate_and_respect_constraints():
    for r in demo.report_rows():
        assert set(r) == REPORT_KEYS
        sub = ReportSubmission.model_validate(r)
        assert sub.period == r["period"] and sub.correction is False
        assert 0 <= r["nongov_fai"] <= r["fai"] <= 300
        assert 0 <= r["industry_fai"] <= r["fai"]
        assert 0 <= r["tax"] <= 100
        for k in MONEY:
            assert round(r[k], 2) == r[k]
        assert isinstance(r["scenic_level"], int) and 0 <= r["scenic_level"] <= 5
        for k in ("new_enterprises", "high_tech_enterprises", "high_end_talents"):
            assert isinstance(r[k], int) and r[k] >= 0
        assert r["tourists_10k"] >= 0
        assert r["submitted_by"].endswith("-stats")


def test_year_to_date_figures_never_fall_within_a_year():
    by_town = defaultdict(list)
    for r in demo.report_rows():
        by_town[r["code"]].append(r)
    for code, rows in by_town.items():
        for prev, cur in itertools.pairwise(rows):
            if cur["period"].endswith("-01"):
                continue  # a new year restarts the year-to-date figures
            for k in MONEY:
                assert cur[k] >= prev[k], (code, cur["period"], k)
        by_period = {r["period"]: r for r in rows}
        for year in range(int(rows[0]["period"][:4]) + 1, 2019):
            assert by_period[f"{year}-01"]["fai"] < by_period[f"{year - 1}-12"]["fai"]  # restarted in January


def test_tax_grows_year_on_year_for_most_towns():
    dec = {(r["code"], r["period"]): r["tax"] for r in demo.report_rows() if r["period"].endswith("-12")}
    codes = [t["code"] for t in demo.town_rows()]
    growing = [c for c in codes if 1.1 <= dec[(c, "2018-12")] / dec[(c, "2017-12")] <= 1.4]
    assert len(growing) >= 9


def test_early_years_are_smaller_and_grow_into_2017():
    dec = {(r["code"], int(r["period"][:4])): r for r in demo.report_rows() if r["period"].endswith("-12")}
    for t in demo.town_rows():
        code = t["code"]
        for year in range(_first_year(t), 2017):
            this, nxt = dec[(code, year)], dec[(code, year + 1)]
            for k in ("fai", "tax", "new_enterprises", "high_tech_enterprises", "high_end_talents", "tourists_10k"):
                assert this[k] <= nxt[k], (code, year, k)
            assert this["fai"] < nxt["fai"] and this["tax"] < nxt["tax"], (code, year)  # positive growth


def test_expected_failures_are_exactly_right():
    evaluations = _evaluations()
    failed = defaultdict(lambda: defaultdict(set))
    for (code, period), findings in evaluations.items():
        for rule, f in findings.items():
            if not f.passed:
                failed[int(period[:4])][code].add(rule)
    assert dict(failed[2018]) == demo.EXPECTED_FAILURES
    assert set(failed) == {2018}  # 2015–2017: no failure at all
    # the brief's required cases
    tiers = {t["code"]: t["tier"] for t in demo.town_rows()}
    assert "pace-provincial" in demo.EXPECTED_FAILURES["SX-SZ-YJ"]
    assert "pace-city" in demo.EXPECTED_FAILURES["SX-SY-SY"] and tiers["SX-SY-SY"] == "city"
    assert any(
        "nongov-share" in rules and tiers[c].startswith("provincial") for c, rules in demo.EXPECTED_FAILURES.items()
    )
    assert any("industry-share" in rules for rules in demo.EXPECTED_FAILURES.values())


def test_passing_towns_pass_with_a_margin():
    """Towns meant to pass stay at least 5 % clear of every threshold, every month."""
    for (code, period), findings in _evaluations().items():
        expected = demo.EXPECTED_FAILURES.get(code, set())
        assert findings  # every town has applicable rules
        for rule, f in findings.items():
            if rule in expected:
                continue
            assert f.passed, (code, period, rule)
            assert f.value >= f.threshold * 1.05, (code, period, rule, f.value, f.threshold)


def test_every_month_before_2018_passes_every_rule_with_a_margin():
    seen = set()
    for (code, period), findings in _evaluations().items():
        if period >= "2018":
            continue
        seen.add(int(period[:4]))
        assert findings
        for rule, f in findings.items():
            assert f.passed and f.value >= f.threshold * 1.05, (code, period, rule, f.value, f.threshold)
    assert seen == {2015, 2016, 2017}


def _acceptance(year: int) -> dict[str, object]:
    """code → the acceptance proposal of every town whose creation period ends in ``year``, from the
    demo's Decembers, its annual grade of the year a pass (an undecided one is pending)."""
    pack = load_pack("sx2018", date(year, 12, 31))
    dec = {
        (r["code"], int(r["period"][:4])): ReportSubmission.model_validate(r).figures()
        for r in demo.report_rows()
        if r["period"].endswith("-12")
    }
    out = {}
    for row in demo.town_rows():
        profile = TownProfile.model_validate(row)
        if not due_for_acceptance(profile, year, pack) or creation_end(profile) != year:
            continue
        december = {y: f for (c, y), f in dec.items() if c == profile.code}
        record = TownRecord(profile=profile, december=december, latest=december[year], annual_grade="pass")
        out[profile.code] = evaluate_acceptance_town(record, year, pack)
    return out


def test_expected_acceptance_is_exactly_right():
    assert set(demo.EXPECTED_ACCEPTANCE) == {2017, 2018}
    for year, expected in demo.EXPECTED_ACCEPTANCE.items():
        proposals = _acceptance(year)
        assert {c: p.proposed_grade for c, p in proposals.items()} == expected, year
        for code, p in proposals.items():
            # every creation year has its December report
            assert not any(f.rule.startswith("acceptance-december-report") for f in p.findings), (year, code)
    # the brief's named cases
    assert demo.EXPECTED_ACCEPTANCE[2017]["SX-ZJ-WY"] == "named"
    assert demo.EXPECTED_ACCEPTANCE[2017]["SX-YC-HJ"] == "named"
    grades_2018 = list(demo.EXPECTED_ACCEPTANCE[2018].values())
    assert grades_2018.count("named") > len(grades_2018) / 2  # most batch-2 / cultivation towns pass


def test_failed_acceptances_fail_on_the_scenic_level_alone():
    """Investment and industry share are met by every due town; only the scenic level fails."""
    for year in demo.EXPECTED_ACCEPTANCE:
        for code, p in _acceptance(year).items():
            failed = {f.rule for f in p.findings if not f.passed} - {"acceptance-consequence"}
            if p.proposed_grade == "named":
                assert not failed, (year, code)
            else:
                assert failed == {"acceptance-scenic"}, (year, code, failed)


def test_write_csv_round_trips(tmp_path):
    towns_csv, reports_csv = demo.write_csv(tmp_path / "out")
    assert towns_csv.name == "towns.csv" and reports_csv.name == "reports.csv"
    assert towns_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    with towns_csv.open(encoding="utf-8-sig", newline="") as f:
        assert f.readline().strip().startswith("code,")  # plain header, no comment line
    with towns_csv.open(encoding="utf-8-sig", newline="") as f:
        towns = list(csv.DictReader(f))
    with reports_csv.open(encoding="utf-8-sig", newline="") as f:
        reports = list(csv.DictReader(f))
    assert len(towns) == len(demo.town_rows()) and len(reports) == len(demo.report_rows())
    assert set(towns[0]) == TOWN_KEYS and set(reports[0]) == REPORT_KEYS
    assert towns[0]["annual_fai_target"] == ""  # None is an empty cell
    for got, want in zip(towns, demo.town_rows(), strict=True):
        # an empty cell is None (as the importer reads it: TownProfile itself refuses "" for a number)
        got = {k: (None if v == "" else v) for k, v in got.items()}
        assert TownProfile.model_validate(got) == TownProfile.model_validate(want)
    for got, want in zip(reports, demo.report_rows(), strict=True):
        assert ReportSubmission.model_validate(got) == ReportSubmission.model_validate(want)
