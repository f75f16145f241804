"""`towns audit replay`: re-evaluate recorded decisions from their recorded inputs under the
recorded rule pack (loaded by content hash) and say `same` or exactly what differs."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models.finding import Finding
from ..models.ledger import LedgerEntry
from ..models.report import Figures
from ..models.round import RoundKind, TownProposal, TownRecord, recorded_context
from ..models.town import TownProfile
from ..rules.effects import effects as decision_effects
from ..rules.effects import unchanged
from ..rules.library import pack_by_hash
from ..rules.monthly import evaluate_monthly
from ..rules.pack import RulePack
from ..rules.proposals import evaluate

REPLAYABLE = ("findings", "proposal", "decision")


class ReplayResult(BaseModel):
    seq: int
    key: str
    kind: str
    code: str | None
    same: bool
    differences: list[str]


def _compare_findings(recorded: list[dict[str, Any]] | None, now: list[Finding]) -> list[str]:
    diffs = []
    rec = {f["rule"]: f for f in recorded or []}
    cur = {f.rule: f.model_dump(mode="json") for f in now}
    for rule in sorted(set(rec) | set(cur)):
        a, b = rec.get(rule), cur.get(rule)
        if a is None:
            assert b is not None  # the rule came from one of the two
            diffs.append(f"finding {rule}: not recorded, but the replay produces it (passed={b['passed']})")
        elif b is None:
            diffs.append(f"finding {rule}: recorded (passed={a['passed']}) but the replay does not produce it")
        else:
            for field in ("clause", "passed", "value", "threshold"):
                if a.get(field) != b.get(field):
                    diffs.append(f"finding {rule}: {field} recorded {a.get(field)!r}, replayed {b.get(field)!r}")
    return diffs


def _evaluate_proposal(engine: Engine, inputs: dict[str, Any], pack: RulePack) -> TownProposal:
    record = TownRecord.model_validate(inputs["record"])
    with Session(engine) as s:
        context = recorded_context(s, inputs)
    # the ignore: mypy checks an Enum call against the members' __new__ (value, zh), while EnumMeta.__call__
    # looks the value up (python/mypy#10573)
    kind = RoundKind(inputs["kind"])  # type: ignore[call-arg]
    return evaluate(kind, record, inputs["year"], pack, context)


def replay_entry(engine: Engine, e: LedgerEntry) -> ReplayResult:
    body: dict[str, Any] = json.loads(e.body)
    inputs = body.get("inputs") or {}
    diffs: list[str] = []
    try:
        pack = pack_by_hash(engine, body["pack"]["hash"])
        if e.kind == "findings":
            if inputs.get("town") is None:
                raise LookupError("the entry does not record the town profile it was evaluated against")
            if e.period is None:
                raise LookupError("the entry does not record the period it was evaluated for")
            ev = evaluate_monthly(
                TownProfile.model_validate(inputs["town"]),
                e.period,
                inputs["revision"],
                Figures.model_validate(inputs["figures"]),
                pack,
                inputs.get("tax_last_year"),
            )
            diffs += _compare_findings(body.get("findings"), ev.findings)
        elif e.kind == "proposal":
            p = _evaluate_proposal(engine, inputs, pack)
            if p.proposed_grade != body.get("outcome"):
                diffs.append(f"proposed grade recorded {body.get('outcome')!r}, replayed {p.proposed_grade!r}")
            if p.score != body.get("score"):
                diffs.append(f"score recorded {body.get('score')!r}, replayed {p.score!r}")
            diffs += _compare_findings(body.get("findings"), p.findings)
        elif e.kind == "decision":
            record = TownRecord.model_validate(inputs["record"])
            final = inputs["final_grade"]
            if inputs.get("override") is None and final != inputs.get("proposed_grade"):
                diffs.append(
                    f"final grade {final!r} differs from the proposal {inputs.get('proposed_grade')!r} "
                    "without an override"
                )
            eff = (
                unchanged(record)
                if body.get("superseded_by")  # left the town as it was (year order)
                else decision_effects(record, final, inputs["year"], pack)
            ).model_dump(mode="json")
            if eff != body.get("effects"):
                diffs.append(f"effects recorded {body.get('effects')}, replayed {eff}")
    except (LookupError, KeyError, ValueError) as exc:
        diffs.append(f"cannot replay: {exc}")
    return ReplayResult(seq=e.seq, key=e.key, kind=e.kind, code=e.code, same=not diffs, differences=diffs)


def replay(engine: Engine, *, seq: int | None = None, round_id: str | None = None) -> list[ReplayResult]:
    with Session(engine) as s:
        q = select(LedgerEntry).where(col(LedgerEntry.kind).in_(REPLAYABLE)).order_by(col(LedgerEntry.seq))
        if seq is not None:
            q = select(LedgerEntry).where(LedgerEntry.seq == seq)
        elif round_id is not None:
            q = q.where(LedgerEntry.round_id == round_id)
        entries = s.exec(q).all()
    return [replay_entry(engine, e) for e in entries]
