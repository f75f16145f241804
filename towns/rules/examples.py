"""Legal examples: a town (or a few), its reports, and the findings and grades the programme
must give them — written by an official in YAML, run by ``towns pack test`` and the test suite.

One file holds a list of examples (docs/packs.md, "Examples")::

    - name: 非政府投资占比恰好80%为达标 — a non-government share of exactly 80 % passes
      pack: sx2018            # a shipped or installed programme, or a pack file beside this one
      kind: monthly           # monthly | annual | acceptance | application
      period: 2018-06         # monthly; rounds give `year`
      towns:
        - code: EX-1
          tier: provincial_creation
          industry: fashion
          listed_year: 2016
          reports:
            2018-06: {fai: 10, industry_fai: 8, nongov_fai: 8}
      expect:
        EX-1:
          findings: {nongov-share: passed, pace-provincial: failed}

Round examples give each town's December reports (and ``warnings``, ``acceptance_failures``,
``annual_grade``, ``applying_for`` where they matter), ``city_tax_growth`` for an annual
round and ``named_this_year`` for its naming target; they expect ``grade``, ``score`` and
``findings`` per town, and ``city`` findings. A finding is expected ``passed``, ``failed``,
``absent``, or as a table of ``passed``, ``value``, ``threshold``, ``clause``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..models.finding import Finding
from ..models.report import Figures
from ..models.round import RoundKind, TownRecord
from ..models.town import TownProfile
from .annual import annual_city, annual_context
from .library import load_pack, load_pack_file, period_end
from .monthly import evaluate_monthly
from .pack import PackError, RulePack
from .proposals import evaluate

TOWN_DEFAULTS = {"name": "示例小镇", "district": None, "planned_investment": 50}
RECORD_FIELDS = ("warnings", "acceptance_failures", "annual_grade", "applying_for")


class ExampleTown(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    reports: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    pack: str
    kind: str
    period: str | None = None
    year: int | None = None
    city_tax_growth: float | None = None
    named_this_year: int = 0
    towns: list[ExampleTown]
    expect: dict[str, dict[str, Any]]


class ExampleResult(BaseModel):
    file: str
    name: str
    ok: bool
    problems: list[str]


def _pack(ex: Example, folder: Path, as_of: date) -> RulePack:
    candidate = folder / ex.pack
    if candidate.suffix == ".toml" and candidate.is_file():
        return load_pack_file(candidate, as_of)
    return load_pack(ex.pack, as_of)


def _profile(t: ExampleTown, pack: RulePack) -> TownProfile:
    data = {k: v for k, v in (t.model_extra or {}).items() if k not in RECORD_FIELDS}
    data = {**TOWN_DEFAULTS, **data, "code": t.code}
    if data["district"] is None:
        data["district"] = pack.districts[0].id if pack.districts else "none"
    return TownProfile.model_validate(data)


def _record(t: ExampleTown, pack: RulePack, year: int) -> TownRecord:
    extra = t.model_extra or {}
    figures = {str(p): Figures.model_validate(f) for p, f in t.reports.items()}
    december = {int(p[:4]): f for p, f in figures.items() if p.endswith("-12")}
    upto = [p for p in sorted(figures) if p <= f"{year}-12"]
    return TownRecord(
        profile=_profile(t, pack),
        december=december,
        latest=figures[upto[-1]] if upto else None,
        **{k: extra[k] for k in RECORD_FIELDS if k in extra},
    )


def _outcomes(ex: Example, folder: Path) -> tuple[dict[str, dict[str, Any]], RulePack]:
    """code (or "city") → {"grade", "score", "findings": {rule: Finding}}."""
    got: dict[str, dict[str, Any]] = {}
    if ex.kind == "monthly":
        if ex.period is None:
            raise ValueError("a monthly example gives its period (2018-06)")
        pack = _pack(ex, folder, period_end(ex.period))
        for t in ex.towns:
            fig = Figures.model_validate(t.reports[ex.period])
            last = t.reports.get(f"{int(ex.period[:4]) - 1}{ex.period[4:]}", {}).get("tax")
            ev = evaluate_monthly(_profile(t, pack), ex.period, 1, fig, pack, last)
            got[t.code] = {"findings": {f.rule: f for f in ev.findings}}
        return got, pack
    if ex.year is None:
        raise ValueError(f"a {ex.kind} example gives its year")
    pack = _pack(ex, folder, date(ex.year, 12, 31))
    kind = RoundKind(RoundKind.parse(ex.kind).value)  # type: ignore[call-arg]  # python/mypy#10573
    records = [_record(t, pack, ex.year) for t in ex.towns]
    ctx = annual_context(records, ex.year, pack, ex.city_tax_growth) if kind == RoundKind.annual else None
    proposals = [evaluate(kind, r, ex.year, pack, ctx) for r in records]
    for p in proposals:
        got[p.code] = {"grade": p.proposed_grade, "score": p.score, "findings": {f.rule: f for f in p.findings}}
    if kind == RoundKind.annual:
        city = annual_city(records, proposals, ex.year, pack, ex.named_this_year)
        got["city"] = {"findings": {f.rule: f for f in city.findings}}
    return got, pack


def _check_finding(where: str, rule: str, want: Any, f: Finding | None) -> list[str]:
    if want == "absent":
        return [] if f is None else [f"{where}: {rule} was expected absent, but it {_verdict(f)}"]
    if f is None:
        return [f"{where}: {rule} was expected {want}, but there is no such finding"]
    if isinstance(want, str):
        if want not in ("passed", "failed"):
            return [f"{where}: {rule}: expect passed, failed or absent, not {want!r}"]
        ok = f.passed == (want == "passed")
        return [] if ok else [f"{where}: {rule} was expected {want}, but it {_verdict(f)}"]
    out = []
    for key, value in want.items():
        actual = getattr(f, key, None)
        if actual != value:
            out.append(f"{where}: {rule}.{key} was expected {value!r}, got {actual!r} ({f.reason_en})")
    return out


def _verdict(f: Finding) -> str:
    return f"{'passed' if f.passed else 'failed'} ({f.reason_en})"


def run_example(ex: Example, folder: Path) -> list[str]:
    """The differences between what the programme gives and what the example expects."""
    got, _ = _outcomes(ex, folder)
    problems = []
    for who, want in ex.expect.items():
        have = got.get(who)
        if have is None:
            problems.append(f"{who}: no such town in the example (towns: {sorted(got)})")
            continue
        for key in ("grade", "score"):
            if key in want and have.get(key) != want[key]:
                problems.append(f"{who}: {key} was expected {want[key]!r}, got {have.get(key)!r}")
        for rule, w in (want.get("findings") or {}).items():
            problems += _check_finding(who, rule, w, have["findings"].get(rule))
        unknown = set(want) - {"grade", "score", "findings"}
        if unknown:
            problems.append(f"{who}: unknown expectation(s) {sorted(unknown)}; use grade, score, findings")
    return problems


def run_file(path: Path) -> list[ExampleResult]:
    try:
        docs = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        return [ExampleResult(file=str(path), name="(file)", ok=False, problems=[f"cannot read: {exc}"])]
    if not isinstance(docs, list):
        return [ExampleResult(file=str(path), name="(file)", ok=False, problems=["a list of examples is expected"])]
    out = []
    for i, raw in enumerate(docs, 1):
        name = raw.get("name", f"example {i}") if isinstance(raw, dict) else f"example {i}"
        try:
            problems = run_example(Example.model_validate(raw), path.parent)
        except (ValueError, KeyError, PackError) as exc:
            problems = [f"cannot run: {exc}"]
        out.append(ExampleResult(file=str(path), name=str(name), ok=not problems, problems=problems))
    return out
