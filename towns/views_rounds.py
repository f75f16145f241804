"""What the round commands show, from our database."""

from __future__ import annotations

from typing import Any, Optional

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from .models.round import DecisionRow, Grade, ProposalRow, RoundKind, RoundRow
from .models.town import Town
from .models.times import iso_utc as _iso


def round_detail(engine: Engine, round_id: str) -> Optional[dict[str, Any]]:
    with Session(engine) as s:
        row = s.get(RoundRow, round_id)
        if row is None:
            return None
        proposals = s.exec(select(ProposalRow).where(ProposalRow.round_id == round_id).order_by(ProposalRow.code)).all()
        decisions = {d.code: d for d in s.exec(select(DecisionRow).where(DecisionRow.round_id == round_id)).all()}
        names = {t.code: t.name for t in s.exec(select(Town)).all()}
    towns = []
    for p in proposals:
        prop = p.proposal
        d = decisions.get(p.code)
        towns.append({
            "code": p.code, "name": names.get(p.code, ""), "tier": prop["tier"],
            "proposed_grade": prop["proposed_grade"], "proposed_grade_zh": Grade(prop["proposed_grade"]).zh,
            "final_grade": d.final_grade if d else None, "final_grade_zh": Grade(d.final_grade).zh if d else None,
            "score": prop.get("score"), "findings": prop.get("findings", []),
            "reason": d.reason if d else "", "by": d.by if d else None,
            "effects": d.effects if d else prop.get("effects"), "inputs": prop.get("inputs", {}),
        })
    return {
        "id": row.id, "kind": row.kind, "kind_zh": RoundKind(row.kind).zh, "year": row.year, "state": row.state,
        "pack": {"id": row.pack_id, "version": row.pack_version, "hash": row.pack_hash},
        "started_by": row.started_by, "started_at": _iso(row.started_at),
        "approved_by": row.approved_by, "approved_at": _iso(row.approved_at), "overdue": row.overdue,
        "city_tax_growth": row.city_tax_growth,
        "city": row.city or {"values": {}, "findings": []},
        "towns": towns,
    }


def round_list(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(RoundRow).order_by(RoundRow.year, RoundRow.started_at)).all()
        counts = {}
        for p in s.exec(select(ProposalRow.round_id)).all():
            counts[p] = counts.get(p, 0) + 1
    return [{"id": r.id, "kind": r.kind, "year": r.year, "state": r.state, "towns": counts.get(r.id, 0),
             "started_by": r.started_by, "approved_by": r.approved_by, "overdue": r.overdue,
             "pack": f"{r.pack_id} {r.pack_version}"} for r in rows]


def decision_events(engine: Engine, code: str) -> list[tuple[tuple, dict[str, Any]]]:
    with Session(engine) as s:
        rows = s.exec(select(DecisionRow).where(DecisionRow.code == code)).all()
    return [((d.recorded_at, 3, d.id), {
        "kind": "decision", "time": _iso(d.recorded_at), "period": str(d.year), "round": d.round_id,
        "round_kind": d.kind, "grade": d.final_grade, "grade_zh": Grade(d.final_grade).zh,
        "proposed_grade": d.proposed_grade, "score": d.score, "by": d.by, "reason": d.reason,
        "before": d.before, "effects": d.effects,
        "pack": {"id": d.pack_id, "version": d.pack_version, "hash": d.pack_hash},
    }) for d in rows]


def order_refusals(engine: Engine, kind: RoundKind, year: int) -> list[str]:
    """Why a round for ``year`` would come too late for some of its towns (empty when it would not):
    a decision for a later year has been applied to them (decisions apply in year order)."""
    from .models.round import later_decisions, order_problems
    from .rules.scope import in_scope

    with Session(engine) as s:
        scope = [t.code for t in s.exec(select(Town)).all() if in_scope(t, kind, year)]
        return order_problems(later_decisions(s, scope, kind.value, year), f"round-{year}-{kind.value}")
