"""Demo fixtures: Shaoxing's characteristic towns around 2018 and their monthly reports since listing.

The twelve towns are the ones of the domain table (names, districts, tiers, industries).
Every figure — investment, tax, enterprises, talents, tourists, areas — is SYNTHETIC:
the real figures are not public. The data is generated deterministically (fixed seeds, no
clock), so that tests and demos see the same numbers every time.

Each town reports every month from January of its listed year (or of ``FIRST_YEAR``, 2015,
whichever is later) to December 2018 — never a period before its listed year, which the
importer refuses. A batch-1 town (listed 2015) therefore has 48 reports, a town listed in
2016 has 36 and one listed in 2017 has 24: 432 in all. The whole creation history is there,
so that annual and acceptance rounds over the demo have every December they need.

Reports are year-to-date (1–M月累计) as Shaoxing reports them: every money figure grows
month to month within a year and restarts in January. Money is in 亿元, kept in whole
hundredths (0.01 亿元) so that every figure has at most two decimals.

Each town's figures are set for 2017 and 2018 (``_TOWNS``); the years before 2017 are
derived from 2017, smaller and growing into it: investment a little lower each year
(``_Town.early_fai``), tax lower by ``EARLY_TAX_GROWTH`` a year (so growth to 2017 is
positive), fewer enterprises, talents and tourists (``EARLY_SCALE``).

In 2015–2017 every town passes every monthly check of the sx2018 pack at least 5 % clear of
the threshold; in 2018 a few fail on purpose, listed in ``EXPECTED_FAILURES`` (rule ids that
fail in at least one month of 2018).

``EXPECTED_ACCEPTANCE`` says what an acceptance round (验收命名) proposes for the towns whose
three-year creation period ends in 2017 (listed 2015) and in 2018 (listed 2016), built from
their December reports with no annual grade decided yet.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from .models.provenance import DEMO_ACTOR, SYNTHETIC_NOTE  # noqa: F401  (defined in models.provenance)

TOWN_KEYS = (
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
)
REPORT_KEYS = (
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
)
FIRST_YEAR = 2015  # the demo starts here: no town reports before January 2015
LAST_YEAR = 2018
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))  # 2015 … 2018
FIGURE_YEARS = (2017, 2018)  # the years of the per-town figure pairs below
# yearly tax growth assumed before 2017: tax of year y = 2017 tax ÷ 1.2^(2017 − y)
EARLY_TAX_GROWTH = 1.2
# other figures before 2017: this share of the next year's (enterprises, tourists, stocks)
EARLY_SCALE = 0.85

# Monthly share of a year's investment (sums to 12): slow around the Spring Festival,
# pushes at the half-year and the year end. Its cumulative share never drops below
# 0.725 of the elapsed share of the year (February), which the pace margins allow for.
FAI_SEASON = (0.85, 0.60, 1.00, 1.00, 1.05, 1.15, 0.95, 0.95, 1.05, 1.00, 1.10, 1.30)
TAX_SEASON = (1.10, 0.80, 1.00, 1.00, 1.00, 1.05, 1.00, 0.95, 1.00, 1.00, 1.00, 1.10)
VISIT_SEASON = (0.90, 1.30, 0.90, 1.10, 1.20, 0.80, 0.90, 1.00, 0.90, 1.30, 0.80, 0.90)


@dataclass(frozen=True)
class _Town:
    code: str
    name: str
    district: str
    tier: str
    industry: str
    batch: str | None
    listed_year: int
    planned_investment: float
    planned_area_km2: float
    core_area_km2: float
    # synthetic yearly figures: 2017 and 2018 annual FAI (亿元), shares, tax, counts
    fai: tuple[float, float]
    nongov_share: tuple[float, float]
    industry_share: tuple[float, float]
    tax_2017: float
    tax_growth: float
    new_enterprises: tuple[int, int]
    high_tech: tuple[int, int]
    talents: tuple[int, int]
    tourists_10k: tuple[float, float]
    scenic_level: tuple[int, int]
    # for the nongov-share failure: from this month of 2018 on, the monthly share drops
    nongov_drop: tuple[int, float] | None = None
    # annual FAI (亿元) of the years before 2017 the town reports, oldest first
    # (2015 and 2016 for a town listed in 2015, 2016 alone for one listed in 2016)
    early_fai: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        assert len(self.early_fai) == 2017 - self.first_year, (self.code, "one early_fai per year before 2017")

    @property
    def first_year(self) -> int:
        return max(self.listed_year, FIRST_YEAR)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.first_year, LAST_YEAR + 1))


# Provincial annual targets (sx2018 pack): 15 亿元, or 10 for information economy, tourism,
# finance and historical-classic towns; pace threshold = target × M/12 × 0.8. Passing towns
# invest 1.35–1.9 × their target a year and keep shares well clear of 80 % / 70 %; the
# city-level umbrella town's target is its planned investment ÷ 3 = 12. Before 2017 every
# town invests 1.35–1.55 × its target (early_fai), a little less each year back.
# Scenic levels: the tourism town 花田 and the e-game town e游 become 4A / 3A scenic areas
# in July 2018 (in time for their acceptance); the equipment, environmental and umbrella
# towns never become scenic areas in the demo.
_TOWNS: tuple[_Town, ...] = (
    _Town(
        "SX-YC-HJ",
        "越城黄酒小镇",
        "yuecheng",
        "provincial_creation",
        "historical_classic",
        "1",
        2015,
        42.0,
        3.1,
        1.0,
        (15.6, 17.2),
        (0.88, 0.89),
        (0.84, 0.85),
        2.10,
        1.18,
        (18, 22),
        (6, 8),
        (14, 19),
        (96.0, 118.0),
        (3, 3),
        early_fai=(13.6, 14.8),
    ),
    _Town(
        "SX-ZJ-WY",
        "诸暨袜艺小镇",
        "zhuji",
        "provincial_creation",
        "fashion",
        "1",
        2015,
        55.0,
        2.9,
        1.0,
        (24.5, 26.8),
        (0.93, 0.94),
        (0.88, 0.87),
        3.60,
        1.32,
        (35, 41),
        (12, 15),
        (20, 26),
        (22.0, 31.0),
        (3, 3),
        early_fai=(20.6, 22.7),
    ),
    _Town(
        "SX-KQ-KW",
        "柯桥酷玩小镇",
        "keqiao",
        "provincial_creation",
        "tourism",
        "2",
        2016,
        48.0,
        3.4,
        1.1,
        (17.8, 19.5),
        (0.90, 0.91),
        (0.83, 0.84),
        0.85,
        1.26,
        (16, 20),
        (2, 3),
        (6, 9),
        (160.0, 205.0),
        (4, 4),
        early_fai=(14.6,),
    ),
    _Town(
        "SX-SY-EY",
        "上虞e游小镇",
        "shangyu",
        "provincial_creation",
        "information_economy",
        "2",
        2016,
        36.0,
        3.0,
        0.9,
        (16.4, 18.9),
        (0.92, 0.93),
        (0.86, 0.88),
        1.45,
        1.38,
        (48, 63),
        (9, 13),
        (25, 34),
        (8.0, 11.0),
        (0, 3),
        early_fai=(13.8,),
    ),
    _Town(
        "SX-XC-ZN",
        "新昌智能装备小镇",
        "xinchang",
        "provincial_creation",
        "high_end_equipment",
        "2",
        2016,
        58.0,
        3.2,
        1.2,
        (25.8, 28.4),
        (0.91, 0.92),
        (0.87, 0.89),
        4.20,
        1.21,
        (21, 25),
        (18, 23),
        (30, 37),
        (4.0, 5.0),
        (0, 0),
        early_fai=(22.6,),
    ),
    _Town(
        "SX-SY-HT",
        "杭州湾花田小镇",
        "shangyu",
        "provincial_creation",
        "tourism",
        "2",
        2016,
        40.0,
        3.5,
        1.2,
        (15.2, 16.9),
        (0.87, 0.88),
        (0.82, 0.83),
        0.42,
        1.15,
        (9, 11),
        (1, 1),
        (3, 4),
        (120.0, 150.0),
        (3, 4),
        early_fai=(13.6,),
    ),
    _Town(
        "SX-KQ-SF",
        "柯桥兰亭书法小镇",
        "keqiao",
        "provincial_cultivation",
        "historical_classic",
        None,
        2016,
        33.0,
        2.6,
        0.8,
        (14.6, 15.8),
        (0.89, 0.90),
        (0.81, 0.82),
        0.36,
        1.22,
        (12, 15),
        (1, 2),
        (8, 11),
        (85.0, 102.0),
        (4, 4),
        early_fai=(13.5,),
    ),
    _Town(
        "SX-ZJ-HB",
        "诸暨环保小镇",
        "zhuji",
        "provincial_cultivation",
        "environmental",
        None,
        2016,
        52.0,
        3.0,
        1.0,
        (22.4, 24.6),
        (0.88, 0.86),
        (0.85, 0.86),
        2.80,
        1.16,
        (26, 30),
        (10, 12),
        (17, 21),
        (2.0, 2.5),
        (0, 0),
        nongov_drop=(6, 0.45),
        early_fai=(20.8,),
    ),
    _Town(
        "SX-SZ-LS",
        "嵊州领尚小镇",
        "shengzhou",
        "provincial_cultivation",
        "fashion",
        None,
        2017,
        45.0,
        2.7,
        0.9,
        (21.5, 23.3),
        (0.94, 0.93),
        (0.86, 0.86),
        1.90,
        1.25,
        (19, 24),
        (5, 7),
        (9, 12),
        (6.0, 7.5),
        (0, 0),
    ),
    _Town(
        "SX-KQ-LY",
        "柯桥蓝印时尚小镇",
        "keqiao",
        "provincial_cultivation",
        "fashion",
        None,
        2017,
        50.0,
        3.3,
        1.1,
        (22.0, 24.2),
        (0.90, 0.90),
        (0.80, 0.62),
        1.20,
        1.12,
        (22, 27),
        (4, 5),
        (11, 14),
        (12.0, 18.0),
        (3, 3),
    ),
    _Town(
        "SX-SZ-YJ",
        "嵊州越剧小镇",
        "shengzhou",
        "provincial_creation",
        "tourism",
        "3",
        2017,
        38.0,
        2.8,
        0.9,
        (14.8, 6.8),
        (0.90, 0.91),
        (0.83, 0.82),
        0.30,
        1.10,
        (8, 7),
        (0, 0),
        (5, 6),
        (70.0, 82.0),
        (3, 4),
    ),
    _Town(
        "SX-SY-SY",
        "上虞伞艺小镇",
        "shangyu",
        "city",
        "fashion",
        None,
        2015,
        36.0,
        2.5,
        0.8,
        (17.5, 8.2),
        (0.88, 0.89),
        (0.84, 0.83),
        0.55,
        0.96,
        (10, 6),
        (2, 2),
        (3, 3),
        (3.0, 3.5),
        (0, 0),
        early_fai=(16.4, 16.9),
    ),
)

# town code → rule ids failing in at least one month of 2018 (every other town passes
# every rule in every month; in 2015–2017 every town passes every rule)
EXPECTED_FAILURES: dict[str, set[str]] = {
    "SX-SZ-YJ": {"pace-provincial"},  # Yue-opera town: its theatre project slipped, 6.8 亿元 in 2018 against 8
    "SX-ZJ-HB": {"nongov-share"},  # environmental town: government-funded plants from June 2018
    "SX-KQ-LY": {"industry-share"},  # blue-print town: supporting housing and roads, 62 % industry in 2018
    "SX-SY-SY": {"pace-city"},  # umbrella town: 8.2 亿元 in 2018 against 36 ÷ 3 = 12 (pace 9.6)
}


# acceptance year → town code → the proposal of an acceptance round (验收命名) for the towns
# due that year (listed_year + 3 − 1), built from their December reports with no annual
# grade decided yet (towns/rules/acceptance.py). Cumulative FAI of every due town meets
# the 50 (30 relaxed) 亿元 and its cumulative industry share the 70 %: every "not_named"
# below fails on the scenic level of its December report alone.
EXPECTED_ACCEPTANCE: dict[int, dict[str, str]] = {
    2017: {  # listed 2015
        "SX-YC-HJ": "named",  # 44.0 亿元 ≥ 30 (historical classic), 3A
        "SX-ZJ-WY": "named",  # 67.8 亿元 ≥ 50, 3A
        # umbrella town: 50.8 亿元 ≥ 50 and 84 % industry, but no scenic area (0 < 3A) —
        # its 2017 figures allow no city acceptance in 2017; creation is extended a year
        "SX-SY-SY": "not_named",
    },
    2018: {  # listed 2016
        "SX-KQ-KW": "named",  # tourism: 51.9 亿元 ≥ 30, 4A
        "SX-SY-EY": "named",  # information economy: 49.1 亿元 ≥ 30, 3A since July 2018
        "SX-SY-HT": "named",  # tourism: 45.7 亿元 ≥ 30, 4A since July 2018
        "SX-KQ-SF": "named",  # historical classic: 43.9 亿元 ≥ 30, 4A
        "SX-XC-ZN": "not_named",  # equipment: 76.8 亿元 ≥ 50, but no scenic area (0 < 3A)
        "SX-ZJ-HB": "not_named",  # environmental: 67.8 亿元 ≥ 50, but no scenic area (0 < 3A)
    },
}


def town_rows() -> list[dict]:
    """The twelve Shaoxing towns as importer rows (English column names)."""
    return [
        {
            "code": t.code,
            "name": t.name,
            "district": t.district,
            "tier": t.tier,
            "industry": t.industry,
            "batch": t.batch,
            "listed_year": t.listed_year,
            "creation_years": 3,
            "planned_investment": t.planned_investment,
            "annual_fai_target": None,
            "planned_area_km2": t.planned_area_km2,
            "core_area_km2": t.core_area_km2,
            "state": "creating",
        }
        for t in _TOWNS
    ]


def _split(total_cents: int, season: tuple[float, ...], rng: random.Random, jitter: float) -> list[int]:
    """Monthly increments (whole hundredths) of a year's total, following the season ± jitter."""
    weights = [w * (1 + rng.uniform(-jitter, jitter)) for w in season]
    scale = total_cents / sum(weights)
    out = [round(w * scale) for w in weights]
    out[-1] += total_cents - sum(out)  # the year adds up exactly
    return out


def _cumulate(increments: list[int]) -> list[int]:
    out, run = [], 0
    for inc in increments:
        run += inc
        out.append(run)
    return out


@dataclass(frozen=True)
class _Year:
    """One town's figures for one year: what ``_year_rows`` spreads over the months."""

    fai: float
    nongov_share: float
    industry_share: float
    tax: float
    new_enterprises: int
    high_tech: tuple[int, int]  # (start of year, end of year): stocks grow through the year
    talents: tuple[int, int]
    tourists_10k: float
    scenic: tuple[int, int]  # (January–June, July–December): an upgrade takes effect in July
    nongov_drop: tuple[int, float] | None = None


def _early(level: float, year: int) -> float:
    """A figure of a year before 2017, scaled down from its 2017 level."""
    return level * EARLY_SCALE ** (2017 - year)


def _year(t: _Town, year: int) -> _Year:
    if year in FIGURE_YEARS:
        i = FIGURE_YEARS.index(year)

        def stock(levels: tuple[int, int]) -> tuple[int, int]:
            return (int(levels[0] * EARLY_SCALE) if i == 0 else levels[0]), levels[i]

        return _Year(
            fai=t.fai[i],
            nongov_share=t.nongov_share[i],
            industry_share=t.industry_share[i],
            tax=t.tax_2017 if year == 2017 else t.tax_2017 * t.tax_growth,
            new_enterprises=t.new_enterprises[i],
            high_tech=stock(t.high_tech),
            talents=stock(t.talents),
            tourists_10k=t.tourists_10k[i],
            scenic=(t.scenic_level[0], t.scenic_level[i]),
            nongov_drop=t.nongov_drop if year == 2018 else None,
        )
    # before 2017: smaller figures growing into 2017 (shares and scenic level as in 2017);
    # a stock ends the year where the next year starts
    k = year - t.first_year
    return _Year(
        fai=t.early_fai[k],
        nongov_share=t.nongov_share[0],
        industry_share=t.industry_share[0],
        tax=t.tax_2017 / EARLY_TAX_GROWTH ** (2017 - year),
        new_enterprises=int(_early(t.new_enterprises[0], year)),
        high_tech=(int(_early(t.high_tech[0], year - 1)), int(_early(t.high_tech[0], year))),
        talents=(int(_early(t.talents[0], year - 1)), int(_early(t.talents[0], year))),
        tourists_10k=round(_early(t.tourists_10k[0], year), 2),
        scenic=(t.scenic_level[0], t.scenic_level[0]),
    )


def _year_rows(t: _Town, year: int) -> list[dict]:
    y = _year(t, year)
    rng = random.Random(f"towns-demo:{t.code}:{year}")
    fai_inc = _split(round(y.fai * 100), FAI_SEASON, rng, 0.06)
    nongov_inc, industry_inc = [], []
    for month, inc in enumerate(fai_inc, start=1):
        ng = y.nongov_share + rng.uniform(-0.015, 0.015)
        if y.nongov_drop is not None and month >= y.nongov_drop[0]:
            ng = y.nongov_drop[1] + rng.uniform(-0.015, 0.015)
        ind = y.industry_share + rng.uniform(-0.015, 0.015)
        nongov_inc.append(min(inc, round(inc * ng)))
        industry_inc.append(min(inc, round(inc * ind)))
    tax_inc = _split(round(y.tax * 100), TAX_SEASON, rng, 0.05)
    visit_inc = _split(round(y.tourists_10k * 100), VISIT_SEASON, rng, 0.08)

    fai, nongov, industry = _cumulate(fai_inc), _cumulate(nongov_inc), _cumulate(industry_inc)
    tax, visits = _cumulate(tax_inc), _cumulate(visit_inc)
    rows = []
    for m in range(12):
        elapsed = (m + 1) / 12
        rows.append(
            {
                "code": t.code,
                "period": f"{year:04d}-{m + 1:02d}",
                "fai": fai[m] / 100,
                "industry_fai": industry[m] / 100,
                "nongov_fai": nongov[m] / 100,
                "tax": tax[m] / 100,
                "new_enterprises": int(y.new_enterprises * sum(FAI_SEASON[: m + 1]) / 12),
                # stocks (high-tech enterprises, talents) grow through the year towards its year-end level
                "high_tech_enterprises": y.high_tech[0] + int((y.high_tech[1] - y.high_tech[0]) * elapsed),
                "high_end_talents": y.talents[0] + int((y.talents[1] - y.talents[0]) * elapsed),
                "tourists_10k": visits[m] / 100,
                "scenic_level": y.scenic[1] if m >= 6 else y.scenic[0],
                "correction": False,
                "submitted_by": f"{t.district}-stats",
            }
        )
    return rows


def report_rows() -> list[dict]:
    """Year-to-date monthly reports of every town, grouped by town, in period order.

    A town's reports run from January of its listed year (2015 at the earliest) to
    December 2018: 48 for a town listed in 2015, 36 for 2016, 24 for 2017. No report is
    ever for a period before the town's listed year (the importer would refuse it).
    """
    return [row for t in _TOWNS for year in t.years for row in _year_rows(t, year)]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(directory: Path) -> tuple[Path, Path]:
    """Write towns.csv and reports.csv (UTF-8 with BOM, for Excel) into directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, keys, rows in (("towns.csv", TOWN_KEYS, town_rows()), ("reports.csv", REPORT_KEYS, report_rows())):
        path = directory / name
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(row[k]) for k in keys})
        paths.append(path)
    return paths[0], paths[1]
