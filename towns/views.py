"""What the read commands show: a town's status and its history, from our database."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from .models.finding import FindingRow
from .models.rejection import Rejection
from .models.report import FIGURE_FIELDS, MonthlyReport
from .models.town import Town
from .models.vocab import District, Industry, Tier, TownState
from .rules.clauses import catalogue
from .rules.monthly import annual_target, num
from .rules.pack import load_pack


def _iso(t: datetime) -> str:
    """Times are stored in UTC; SQLite hands them back naive."""
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).isoformat()


def _latest_reports(s: Session, code: str) -> dict[str, MonthlyReport]:
    latest: dict[str, MonthlyReport] = {}
    for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
        if r.period not in latest or r.revision > latest[r.period].revision:
            latest[r.period] = r
    return latest


def town_status(engine: Engine, town: Town) -> dict[str, Any]:
    with Session(engine) as s:
        reports = _latest_reports(s, town.code)
        last = max(reports, default=None)
        findings = []
        if last:
            rep = reports[last]
            findings = s.exec(select(FindingRow).where(FindingRow.submission_id == rep.submission_id)
                              .order_by(FindingRow.id)).all()
        rejections = len(s.exec(select(Rejection.id).where(Rejection.code == town.code)).all())
    profile = town.profile()
    target = annual_target(profile, load_pack())
    return {
        "code": town.code, "name": town.name,
        "district": town.district, "district_zh": District(town.district).zh,
        "tier": town.tier, "tier_zh": Tier(town.tier).zh,
        "industry": town.industry, "industry_zh": Industry(town.industry).zh,
        "state": town.state, "state_zh": TownState(town.state).zh,
        "listed_year": town.listed_year, "creation_years": town.creation_years,
        "annual_fai_target": num(target.value), "annual_fai_target_source": target.source_en,
        "periods_reported": len(reports), "last_period": last,
        "last_report": ({k: getattr(reports[last], k) for k in FIGURE_FIELDS} | {"revision": reports[last].revision})
        if last else None,
        "findings": [_finding(f) for f in findings],
        "failed": [f.rule for f in findings if not f.passed],
        "rejections": rejections,
        "warnings": town.warnings, "last_grade": town.last_grade,
        "acceptance_failures": town.acceptance_failures, "applying_for": town.applying_for,
    }


def all_status(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        towns = s.exec(select(Town).order_by(Town.district, Town.code)).all()
    return [town_status(engine, t) for t in towns]


def get_town(engine: Engine, code: str) -> Optional[Town]:
    with Session(engine) as s:
        return s.get(Town, code)


def _finding(f: FindingRow) -> dict[str, Any]:
    c = catalogue().get(f.clause)
    return {
        "rule": f.rule, "clause": f.clause, "clause_zh": c.zh if c else "", "clause_en": c.en if c else "",
        "passed": f.passed, "value": f.value, "threshold": f.threshold, "inputs": f.inputs,
        "reason_zh": f.reason_zh, "reason_en": f.reason_en,
        "pack": {"id": f.pack_id, "version": f.pack_version, "hash": f.pack_hash},
    }


def history(engine: Engine, code: str) -> dict[str, Any]:
    """Every report, finding, rejection and decision of a town, ordered by when it was recorded."""
    events: list[tuple[tuple, dict[str, Any]]] = []
    with Session(engine) as s:
        for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
            events.append(((r.recorded_at, 0, r.id), {
                "kind": "report", "time": _iso(r.recorded_at), "period": r.period, "revision": r.revision,
                "correction": r.correction, "submitted_by": r.submitted_by, "source": r.source,
                "figures": {k: getattr(r, k) for k in FIGURE_FIELDS},
            }))
        for f in s.exec(select(FindingRow).where(FindingRow.code == code)).all():
            events.append(((f.recorded_at, 1, f.id), {
                "kind": "finding", "time": _iso(f.recorded_at), "period": f.period, "revision": f.revision,
                **_finding(f),
            }))
        from .views_rounds import decision_events

        events.extend(decision_events(engine, code))
        for j in s.exec(select(Rejection).where(Rejection.code == code)).all():
            events.append(((j.received_at, 2, j.id), {
                "kind": "rejection", "time": _iso(j.received_at), "period": j.period, "source": j.source,
                "submitted_by": j.submitted_by, "problems": j.problems, "raw": j.raw,
            }))
    events.sort(key=lambda e: (e[0][0].replace(tzinfo=None), e[0][1], e[0][2]))
    return {"code": code, "events": [e for _, e in events]}
