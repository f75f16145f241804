"""What the read commands show: a town's status and its history, from our database."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from .models.finding import FindingRow
from .models.ledger import LedgerEntry
from .models.rejection import Rejection
from .models.times import CST, as_utc
from .models.times import iso_utc as _iso
from .models.report import FIGURE_FIELDS, MonthlyReport
from .models.town import Town
from .models.vocab import District, Industry, Tier, TownState
from .rules.clauses import catalogue
from .rules.monthly import annual_target, num
from .rules.pack import load_pack


def _before(t: datetime, as_of: Optional[datetime]) -> bool:
    return as_of is None or as_utc(t) <= as_of


def parse_as_of(raw: str) -> datetime:
    """A date (the end of that day) or a date and time; Beijing time (UTC+8) unless an offset is given."""
    from datetime import time

    text = raw.strip()
    try:
        if len(text) == 10:
            d = datetime.fromisoformat(text).date()
            return datetime.combine(d, time.max, tzinfo=CST)
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{raw}' is not a date: write 2018-06-30 or 2018-06-30T17:00") from None
    return t if t.tzinfo else t.replace(tzinfo=CST)


def _latest_reports(s: Session, code: str, as_of: Optional[datetime] = None) -> dict[str, MonthlyReport]:
    latest: dict[str, MonthlyReport] = {}
    for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
        if not _before(r.recorded_at, as_of):
            continue
        if r.period not in latest or r.revision > latest[r.period].revision:
            latest[r.period] = r
    return latest


def _as_it_stood(s: Session, town: Town, as_of: Optional[datetime]) -> Town:
    """The town's registry row as it stood at ``as_of``: undo the decisions recorded after it."""
    if as_of is None:
        return town
    from .models.round import DecisionRow

    later = [d for d in s.exec(select(DecisionRow).where(DecisionRow.code == town.code)
                               .order_by(DecisionRow.recorded_at, DecisionRow.id)).all()
             if not _before(d.recorded_at, as_of)]
    if not later:
        return town
    before = later[0].before
    row = Town.model_validate(town.model_dump())
    for k in ("state", "tier", "warnings", "last_grade", "listed_year", "creation_years", "acceptance_failures"):
        if k in before:
            setattr(row, k, before[k])
    return row


def town_status(engine: Engine, town: Town, as_of: Optional[datetime] = None) -> dict[str, Any]:
    with Session(engine) as s:
        town = _as_it_stood(s, town, as_of)
        reports = _latest_reports(s, town.code, as_of)
        last = max(reports, default=None)
        findings = []
        if last:
            rep = reports[last]
            findings = s.exec(select(FindingRow).where(FindingRow.submission_id == rep.submission_id)
                              .order_by(FindingRow.id)).all()
        rejections = len([j for j in s.exec(select(Rejection).where(Rejection.code == town.code)).all()
                          if _before(j.received_at, as_of)])
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
        "as_of": as_of.isoformat() if as_of else None,
    }


def all_status(engine: Engine, as_of: Optional[datetime] = None) -> list[dict[str, Any]]:
    with Session(engine) as s:
        towns = s.exec(select(Town).order_by(Town.district, Town.code)).all()
    return [town_status(engine, t, as_of) for t in towns if _before(t.registered_at, as_of)]


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


def history(engine: Engine, code: str, as_of: Optional[datetime] = None) -> dict[str, Any]:
    """Every report, finding, rejection and decision of a town, ordered by when it was recorded."""
    events: list[tuple[tuple, dict[str, Any]]] = []
    with Session(engine) as s:
        for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
            events.append(((r.recorded_at, 0, r.id), {
                "kind": "report", "time": _iso(r.recorded_at), "period": r.period, "revision": r.revision,
                "correction": r.correction, "submitted_by": r.submitted_by, "source": r.source,
                "submission_id": r.submission_id,
                "figures": {k: getattr(r, k) for k in FIGURE_FIELDS},
            }))
        for f in s.exec(select(FindingRow).where(FindingRow.code == code)).all():
            events.append(((f.recorded_at, 1, f.id), {
                "kind": "finding", "time": _iso(f.recorded_at), "period": f.period, "revision": f.revision,
                "submission_id": f.submission_id,
                **_finding(f),
            }))
        from .views_rounds import decision_events

        events.extend(decision_events(engine, code))
        for j in s.exec(select(Rejection).where(Rejection.code == code)).all():
            events.append(((j.received_at, 2, j.id), {
                "kind": "rejection", "time": _iso(j.received_at), "period": j.period, "source": j.source,
                "submitted_by": j.submitted_by, "problems": j.problems, "raw": j.raw,
            }))
    with Session(engine) as s:
        seqs = {k: q for k, q in s.exec(select(LedgerEntry.key, LedgerEntry.seq).where(LedgerEntry.code == code)).all()}
    for _, e in events:
        key = {"report": lambda: f"findings:{e.get('submission_id')}",
               "finding": lambda: f"findings:{e.get('submission_id')}",
               "decision": lambda: f"decision:{e.get('round')}:{code}"}.get(e["kind"])
        if key:
            e["ledger_seq"] = seqs.get(key())
    events = [e for e in events if _before(e[0][0], as_of)]
    events.sort(key=lambda e: (as_utc(e[0][0]), e[0][1], e[0][2]))
    out = {"code": code, "events": [e for _, e in events]}
    if as_of is not None:
        town = get_town(engine, code)
        st = town_status(engine, town, as_of)
        out["as_of"] = as_of.isoformat()
        out["state"] = {k: st[k] for k in ("state", "tier", "warnings", "last_grade", "listed_year",
                                           "creation_years")}
    return out
