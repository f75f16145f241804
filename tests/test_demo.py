"""The demo fixtures: twelve Shaoxing towns and two years of year-to-date monthly reports."""

import csv
from collections import defaultdict

from towns import demo
from towns.models.report import ReportSubmission
from towns.models.town import TownProfile
from towns.rules.monthly import evaluate_monthly
from towns.rules.pack import load_pack

TOWN_KEYS = {
    "code", "name", "district", "tier", "industry", "batch", "listed_year", "creation_years",
    "planned_investment", "annual_fai_target", "planned_area_km2", "core_area_km2", "state",
}
REPORT_KEYS = {
    "code", "period", "fai", "industry_fai", "nongov_fai", "tax", "new_enterprises",
    "high_tech_enterprises", "high_end_talents", "tourists_10k", "scenic_level", "correction", "submitted_by",
}
MONEY = ("fai", "industry_fai", "nongov_fai", "tax")
PERIODS = [f"{y}-{m:02d}" for y in (2017, 2018) for m in range(1, 13)]


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


def test_synthetic_note_is_bilingual():
    assert "合成数据" in demo.SYNTHETIC_NOTE and "仅供演示" in demo.SYNTHETIC_NOTE
    assert "synthetic" in demo.SYNTHETIC_NOTE.lower() and "not official" in demo.SYNTHETIC_NOTE


def test_deterministic():
    assert demo.town_rows() == demo.town_rows()
    assert demo.report_rows() == demo.report_rows()


def test_twelve_towns_with_unique_codes_and_valid_profiles():
    rows = demo.town_rows()
    assert len(rows) == 12
    assert len({r["code"] for r in rows}) == 12
    for r in rows:
        assert set(r) == TOWN_KEYS
        assert len(r["code"]) <= 32
        p = TownProfile.model_validate(r)
        assert p.code == r["code"] and p.state.value == "creating"
        assert r["listed_year"] <= 2017  # reports start in 2017-01
        assert r["planned_investment"] is not None and 30 <= r["planned_investment"] <= 60
    tiers = {r["code"]: r["tier"] for r in rows}
    assert tiers["SX-ZJ-WY"] == "provincial_creation"
    assert tiers["SX-SY-SY"] == "city"
    assert TownProfile.model_validate(next(r for r in rows if r["tier"] == "city")).planned_investment == 36


def test_reports_cover_every_month_grouped_by_town():
    towns = [t["code"] for t in demo.town_rows()]
    rows = demo.report_rows()
    assert len(rows) == 24 * len(towns)
    for i, code in enumerate(towns):
        block = rows[24 * i: 24 * (i + 1)]
        assert [r["code"] for r in block] == [code] * 24
        assert [r["period"] for r in block] == PERIODS


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
        for prev, cur in zip(rows, rows[1:]):
            if cur["period"].endswith("-01"):
                continue  # a new year restarts the year-to-date figures
            for k in MONEY:
                assert cur[k] >= prev[k], (code, cur["period"], k)
        jan_2018 = next(r for r in rows if r["period"] == "2018-01")
        dec_2017 = next(r for r in rows if r["period"] == "2017-12")
        assert jan_2018["fai"] < dec_2017["fai"]  # restarted in January


def test_tax_grows_year_on_year_for_most_towns():
    dec = {(r["code"], r["period"]): r["tax"] for r in demo.report_rows() if r["period"].endswith("-12")}
    codes = [t["code"] for t in demo.town_rows()]
    growing = [c for c in codes if 1.1 <= dec[(c, "2018-12")] / dec[(c, "2017-12")] <= 1.4]
    assert len(growing) >= 9


def test_expected_failures_are_exactly_right():
    evaluations = _evaluations()
    failed = {2017: defaultdict(set), 2018: defaultdict(set)}
    for (code, period), findings in evaluations.items():
        for rule, f in findings.items():
            if not f.passed:
                failed[int(period[:4])][code].add(rule)
    assert dict(failed[2018]) == demo.EXPECTED_FAILURES
    assert set(failed[2017]) <= set(demo.EXPECTED_FAILURES)
    # the brief's required cases
    tiers = {t["code"]: t["tier"] for t in demo.town_rows()}
    assert "pace-provincial" in demo.EXPECTED_FAILURES["SX-SZ-YJ"]
    assert "pace-city" in demo.EXPECTED_FAILURES["SX-SY-SY"] and tiers["SX-SY-SY"] == "city"
    assert any("nongov-share" in rules and tiers[c].startswith("provincial") for c, rules in demo.EXPECTED_FAILURES.items())
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
    for got, want in zip(towns, demo.town_rows()):
        # an empty cell is None (as the importer reads it: TownProfile itself refuses "" for a number)
        got = {k: (None if v == "" else v) for k, v in got.items()}
        assert TownProfile.model_validate(got) == TownProfile.model_validate(want)
    for got, want in zip(reports, demo.report_rows()):
        assert ReportSubmission.model_validate(got) == ReportSubmission.model_validate(want)
