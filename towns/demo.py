"""Demo fixtures: a programme's demo towns and their monthly reports since listing, from a data file.

The towns and every parameter of their figures are data, not code: ``towns/rules/packs/demo/
<programme>.toml`` (the default, ``sx2018``, holds Shaoxing's twelve characteristic towns around
2018). This module is the generic generator that turns such a file into importer rows. Every
figure — investment, tax, enterprises, talents, tourists, areas — is SYNTHETIC (合成数据): the
real figures are not public. The data is generated deterministically (fixed seeds, no clock),
so that tests and demos see the same numbers every time.

Each town reports every month from January of its listed year (or of the file's ``first_year``,
whichever is later) to December of its ``last_year`` — never a period before its listed year,
which the importer refuses. The whole creation history is there, so that annual and acceptance
rounds over the demo have every December they need.

Reports are year-to-date (1–M月累计): every money figure grows month to month within a year and
restarts in January, following the file's monthly seasons. Money is in 亿元, kept in whole
hundredths (0.01 亿元) so that every figure has at most two decimals.

Each town's figures are set for the file's two ``figure_years``; the years before the first are
derived from it, smaller and growing into it: investment from the town's ``early_fai``, tax lower
by ``early_tax_growth`` a year (so growth is positive), fewer enterprises, talents and tourists
(``early_scale``).

``EXPECTED_FAILURES`` (town code → rule ids failing in at least one month of the last year) and
``EXPECTED_ACCEPTANCE`` (acceptance year → town code → the proposal of an acceptance round, 验收命名,
built from the December reports with no annual grade decided yet) are read from the default
programme's file, where each town declares its own.
"""

from __future__ import annotations

import csv
import random
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .models.provenance import DEMO_ACTOR, SYNTHETIC_NOTE  # noqa: F401  (defined in models.provenance)

DEFAULT_PROGRAMME = "sx2018"  # the demo file loaded when none is named: packs/demo/sx2018.toml

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

# Monthly noise of the generator: a month's weight in its season ± this share, and a month's
# non-government and industry shares ± this many points.
FAI_JITTER = 0.06
TAX_JITTER = 0.05
VISIT_JITTER = 0.08
SHARE_JITTER = 0.015
# a scenic-level upgrade in the last figure year takes effect from this month on
UPGRADE_MONTH = 7

Season = tuple[float, float, float, float, float, float, float, float, float, float, float, float]


class DemoError(ValueError):
    """A demo file that is missing or does not describe a demo."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Drop(_Strict):
    """From ``month`` of the last figure year on, the monthly non-government share drops to ``share``."""

    month: int = Field(ge=1, le=12)
    share: float = Field(ge=0, le=1)


class _Acceptance(_Strict):
    year: int
    proposal: Literal["named", "not_named"]


class _Town(_Strict):
    code: str
    name: str
    district: str
    tier: str
    industry: str
    batch: str | None = None
    listed_year: int
    planned_investment: float
    planned_area_km2: float
    core_area_km2: float
    # synthetic yearly figures, one per figure year: annual FAI (亿元), shares, counts
    fai: tuple[float, float]
    nongov_share: tuple[float, float]
    industry_share: tuple[float, float]
    tax: float  # of the first figure year; the second's is tax × tax_growth
    tax_growth: float
    new_enterprises: tuple[int, int]
    high_tech: tuple[int, int]
    talents: tuple[int, int]
    tourists_10k: tuple[float, float]
    scenic_level: tuple[int, int]
    nongov_drop: _Drop | None = None
    # annual FAI (亿元) of the years before the first figure year the town reports, oldest first
    early_fai: tuple[float, ...] = ()
    expected_failures: frozenset[str] = frozenset()
    acceptance: _Acceptance | None = None


class _Season(_Strict):
    fai: Season
    tax: Season
    tourists: Season


class _Settings(_Strict):
    programme: str
    pack: str
    synthetic: Literal[True]  # a demo's figures are invented, and say so
    first_year: int
    last_year: int
    creation_years: int = Field(ge=1)
    figure_years: tuple[int, int]
    early_tax_growth: float = Field(gt=0)
    early_scale: float = Field(gt=0)
    season: _Season

    @model_validator(mode="after")
    def _years(self) -> _Settings:
        first, second = self.figure_years
        if not (self.first_year <= first and second == first + 1 and second == self.last_year):
            raise ValueError("figure_years must be the last two years, from first_year to last_year")
        return self


class _File(_Strict):
    demo: _Settings
    towns: tuple[_Town, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Programme:
    """A demo programme as its file describes it (towns/rules/packs/demo/<id>.toml)."""

    id: str
    settings: _Settings
    towns: tuple[_Town, ...]

    def first_year(self, t: _Town) -> int:
        return max(t.listed_year, self.settings.first_year)

    def years(self, t: _Town) -> tuple[int, ...]:
        return tuple(range(self.first_year(t), self.settings.last_year + 1))

    @property
    def expected_failures(self) -> dict[str, set[str]]:
        """town code → rule ids failing in at least one month of the last year (every other town
        passes every rule in every month; before the last year every town passes every rule)."""
        return {t.code: set(t.expected_failures) for t in self.towns if t.expected_failures}

    @property
    def expected_acceptance(self) -> dict[int, dict[str, str]]:
        """acceptance year → town code → the proposal of an acceptance round (验收命名) for the towns
        whose creation period ends that year, with no annual grade decided yet."""
        out: dict[int, dict[str, str]] = {}
        for t in self.towns:
            if t.acceptance is not None:
                out.setdefault(t.acceptance.year, {})[t.code] = t.acceptance.proposal
        return dict(sorted(out.items()))


@lru_cache(maxsize=8)
def load(programme: str = DEFAULT_PROGRAMME) -> Programme:
    """The demo programme of towns/rules/packs/demo/<programme>.toml."""
    origin = f"rules/packs/demo/{programme}.toml"
    res = resources.files("towns.rules").joinpath("packs", "demo", f"{programme}.toml")
    if not res.is_file():
        raise DemoError(f"no demo file {origin}")
    try:
        data: dict[str, Any] = tomllib.loads(res.read_text("utf-8"))
        parsed = _File.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise DemoError(f"{origin}: {exc}") from None
    s = parsed.demo
    if s.programme != programme:
        raise DemoError(f"{origin}: [demo] programme = {s.programme!r}, not {programme!r}")
    codes = [t.code for t in parsed.towns]
    if len(set(codes)) != len(codes):
        raise DemoError(f"{origin}: a town code appears twice")
    prog = Programme(id=programme, settings=s, towns=parsed.towns)
    for t in parsed.towns:
        if len(t.early_fai) != max(0, s.figure_years[0] - prog.first_year(t)):
            raise DemoError(f"{origin}: {t.code}: one early_fai per year it reports before {s.figure_years[0]}")
    return prog


def town_rows(programme: str = DEFAULT_PROGRAMME) -> list[dict[str, Any]]:
    """The programme's demo towns as importer rows (English column names)."""
    p = load(programme)
    return [
        {
            "code": t.code,
            "name": t.name,
            "district": t.district,
            "tier": t.tier,
            "industry": t.industry,
            "batch": t.batch,
            "listed_year": t.listed_year,
            "creation_years": p.settings.creation_years,
            "planned_investment": t.planned_investment,
            "annual_fai_target": None,
            "planned_area_km2": t.planned_area_km2,
            "core_area_km2": t.core_area_km2,
            "state": "creating",
        }
        for t in p.towns
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
    scenic: tuple[int, int]  # (before the upgrade month, from it on)
    nongov_drop: _Drop | None = None


def _year(s: _Settings, t: _Town, year: int, first_year: int) -> _Year:
    base = s.figure_years[0]

    def early(level: float, y: int) -> float:
        """A figure of a year before the first figure year, scaled down from its level then."""
        return level * s.early_scale ** (base - y)

    if year in s.figure_years:
        i = s.figure_years.index(year)

        def stock(levels: tuple[int, int]) -> tuple[int, int]:
            return (int(levels[0] * s.early_scale) if i == 0 else levels[0]), levels[i]

        return _Year(
            fai=t.fai[i],
            nongov_share=t.nongov_share[i],
            industry_share=t.industry_share[i],
            tax=t.tax if i == 0 else t.tax * t.tax_growth,
            new_enterprises=t.new_enterprises[i],
            high_tech=stock(t.high_tech),
            talents=stock(t.talents),
            tourists_10k=t.tourists_10k[i],
            scenic=(t.scenic_level[0], t.scenic_level[i]),
            nongov_drop=t.nongov_drop if i == 1 else None,
        )
    # before the figure years: smaller figures growing into the first (shares and scenic level
    # as then); a stock ends the year where the next year starts
    k = year - first_year
    return _Year(
        fai=t.early_fai[k],
        nongov_share=t.nongov_share[0],
        industry_share=t.industry_share[0],
        tax=t.tax / s.early_tax_growth ** (base - year),
        new_enterprises=int(early(t.new_enterprises[0], year)),
        high_tech=(int(early(t.high_tech[0], year - 1)), int(early(t.high_tech[0], year))),
        talents=(int(early(t.talents[0], year - 1)), int(early(t.talents[0], year))),
        tourists_10k=round(early(t.tourists_10k[0], year), 2),
        scenic=(t.scenic_level[0], t.scenic_level[0]),
    )


def _year_rows(p: Programme, t: _Town, year: int) -> list[dict[str, Any]]:
    season = p.settings.season
    y = _year(p.settings, t, year, p.first_year(t))
    rng = random.Random(f"towns-demo:{t.code}:{year}")
    fai_inc = _split(round(y.fai * 100), season.fai, rng, FAI_JITTER)
    nongov_inc, industry_inc = [], []
    for month, inc in enumerate(fai_inc, start=1):
        ng = y.nongov_share + rng.uniform(-SHARE_JITTER, SHARE_JITTER)
        if y.nongov_drop is not None and month >= y.nongov_drop.month:
            ng = y.nongov_drop.share + rng.uniform(-SHARE_JITTER, SHARE_JITTER)
        ind = y.industry_share + rng.uniform(-SHARE_JITTER, SHARE_JITTER)
        nongov_inc.append(min(inc, round(inc * ng)))
        industry_inc.append(min(inc, round(inc * ind)))
    tax_inc = _split(round(y.tax * 100), season.tax, rng, TAX_JITTER)
    visit_inc = _split(round(y.tourists_10k * 100), season.tourists, rng, VISIT_JITTER)

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
                "new_enterprises": int(y.new_enterprises * sum(season.fai[: m + 1]) / 12),
                # stocks (high-tech enterprises, talents) grow through the year towards its year-end level
                "high_tech_enterprises": y.high_tech[0] + int((y.high_tech[1] - y.high_tech[0]) * elapsed),
                "high_end_talents": y.talents[0] + int((y.talents[1] - y.talents[0]) * elapsed),
                "tourists_10k": visits[m] / 100,
                "scenic_level": y.scenic[1] if m + 1 >= UPGRADE_MONTH else y.scenic[0],
                "correction": False,
                "submitted_by": f"{t.district}-stats",
            }
        )
    return rows


def report_rows(programme: str = DEFAULT_PROGRAMME) -> list[dict[str, Any]]:
    """Year-to-date monthly reports of every town, grouped by town, in period order.

    A town's reports run from January of its listed year (the file's first year at the earliest)
    to December of the file's last year. No report is ever for a period before the town's listed
    year (the importer would refuse it).
    """
    p = load(programme)
    return [row for t in p.towns for year in p.years(t) for row in _year_rows(p, t, year)]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(directory: Path, programme: str = DEFAULT_PROGRAMME) -> tuple[Path, Path]:
    """Write towns.csv and reports.csv (UTF-8 with BOM, for Excel) into directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, keys, rows in (
        ("towns.csv", TOWN_KEYS, town_rows(programme)),
        ("reports.csv", REPORT_KEYS, report_rows(programme)),
    ):
        path = directory / name
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(row[k]) for k in keys})
        paths.append(path)
    return paths[0], paths[1]


# The default programme's expected outcomes (see Programme.expected_failures / expected_acceptance).
EXPECTED_FAILURES: dict[str, set[str]] = load().expected_failures
EXPECTED_ACCEPTANCE: dict[int, dict[str, str]] = load().expected_acceptance
