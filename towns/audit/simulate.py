"""What-if: evaluate a round under another rule pack without recording anything.

If the round was run, the towns' recorded inputs are used (the figures and counters as
they stood then) and the recorded proposals are the baseline; otherwise the towns as they
are now, evaluated under the current pack. The office sees which towns' grades would
change, from what to what, and the findings that differ.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..models.finding import DEFAULT_PACK
from ..models.ledger import LedgerEntry
from ..models.round import RoundKind, TownProposal, TownRecord, load_records, recorded_context
from ..models.town import Town
from ..rules import annual
from ..rules.library import load_pack
from ..rules.pack import PackError, RulePack
from ..rules.proposals import evaluate
from ..rules.scope import in_scope


class Change(BaseModel):
    code: str
    name: str
    tier: str
    grade_from: str
    grade_to: str
    score_from: float | None
    score_to: float | None
    findings: list[dict[str, Any]]  # the findings that differ: rule, clause, passed/value/threshold before → after


class Simulation(BaseModel):
    kind: str
    year: int
    baseline: str  # "recorded round <id>" or "current pack <version>"
    pack_from: dict[str, str]
    pack_to: dict[str, str]
    towns: int
    changes: list[Change]


def _recorded(engine: Engine, round_id: str) -> list[tuple[TownRecord, TownProposal, Any]]:
    out = []
    contexts: dict[str, Any] = {}  # the round's context, read once (its proposals refer to it by hash)
    with Session(engine) as s:
        entries = s.exec(
            select(LedgerEntry)
            .where(LedgerEntry.round_id == round_id, LedgerEntry.kind == "proposal")
            .order_by(LedgerEntry.code)
        ).all()
        for e in entries:
            body = json.loads(e.body)
            record = TownRecord.model_validate(body["inputs"]["record"])
            proposal = TownProposal(
                code=e.code,
                name=record.profile.name,
                tier=record.profile.tier,
                proposed_grade=body["outcome"],
                score=body.get("score"),
                findings=body.get("findings") or [],
                inputs=body["inputs"],
                effects=body["effects"],
            )
            ref = body["inputs"].get("context_ref")
            if ref and ref["hash"] not in contexts:
                ctx = recorded_context(s, body["inputs"])
                contexts[ref["hash"]] = ctx.model_dump(mode="json") if ctx else None
            out.append((record, proposal, contexts[ref["hash"]] if ref else body["inputs"].get("context")))
    return out


def _diff_findings(a: TownProposal, b: TownProposal) -> list[dict[str, Any]]:
    before = {f.rule: f for f in a.findings}
    after = {f.rule: f for f in b.findings}
    out = []
    for rule in sorted(set(before) | set(after)):
        x, y = before.get(rule), after.get(rule)
        if x is None or y is None or (x.passed, x.value, x.threshold) != (y.passed, y.value, y.threshold):
            either = y or x
            assert either is not None  # the rule came from one of the two
            out.append(
                {
                    "rule": rule,
                    "clause": either.clause,
                    "before": None if x is None else {"passed": x.passed, "value": x.value, "threshold": x.threshold},
                    "after": None if y is None else {"passed": y.passed, "value": y.value, "threshold": y.threshold},
                    "reason_en": y.reason_en if y else "",
                    "reason_zh": y.reason_zh if y else "",
                }
            )
    return out


def baseline_pack(what_if: RulePack, year: int) -> RulePack:
    """The shipped pack a what-if pack is compared with: the one of the same id, else the one it extends."""
    as_of = date(year, 12, 31)
    try:
        return load_pack(what_if.pack.id, as_of)
    except PackError:
        return load_pack(what_if.pack.extends or DEFAULT_PACK, as_of)


def simulate(
    engine: Engine,
    kind: RoundKind,
    year: int,
    what_if: RulePack,
    city_tax_growth: float | None = None,
    round_id: str | None = None,
) -> Simulation:
    round_id = round_id or f"round-{year}-{kind.value}"
    recorded = _recorded(engine, round_id)
    if recorded:
        records = [r for r, _, _ in recorded]
        baseline = {p.code: p for _, p, _ in recorded}
        label = f"recorded round {round_id}"
        ctx_rec = next((c for _, _, c in recorded if c), None)
        if city_tax_growth is None and ctx_rec and ctx_rec.get("city_tax_growth_source") == "office":
            city_tax_growth = ctx_rec["city_tax_growth"]
        with Session(engine) as s:
            from ..models.round import RoundRow

            row = s.get(RoundRow, round_id)
            assert row is not None  # the round's proposals are on record, so is the round
            pack_from = {"id": row.pack_id, "version": row.pack_version, "hash": row.pack_hash}
    else:
        current = baseline_pack(what_if, year)
        with Session(engine) as s:
            towns = s.exec(select(Town).order_by(Town.code)).all()
            codes = [t.code for t in towns if in_scope(t, kind, year, current)]
            records = load_records(s, codes, year)
        ctx = annual.annual_context(records, year, current, city_tax_growth) if kind == RoundKind.annual else None
        baseline = {r.profile.code: evaluate(kind, r, year, current, ctx) for r in records}
        label = f"current pack {current.pack.version}"
        pack_from = {"id": current.pack.id, "version": current.pack.version, "hash": current.hash}
    ctx = annual.annual_context(records, year, what_if, city_tax_growth) if kind == RoundKind.annual else None
    changes = []
    for r in records:
        before = baseline[r.profile.code]
        after = evaluate(kind, r, year, what_if, ctx)
        if after.proposed_grade != before.proposed_grade:
            changes.append(
                Change(
                    code=r.profile.code,
                    name=r.profile.name,
                    tier=r.profile.tier,
                    grade_from=before.proposed_grade,
                    grade_to=after.proposed_grade,
                    score_from=before.score,
                    score_to=after.score,
                    findings=_diff_findings(before, after),
                )
            )
    return Simulation(
        kind=kind.value,
        year=year,
        baseline=label,
        pack_from=pack_from,
        pack_to={"id": what_if.pack.id, "version": what_if.pack.version, "hash": what_if.hash},
        towns=len(records),
        changes=changes,
    )
