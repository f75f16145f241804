"""`towns audit verify`: recompute the ledger's chain and hashes, and check the read model
(decisions, reports, findings) against the entries that record them.

Names the first broken entry and what differs: an altered entry no longer matches its
hash; a removed, inserted or reordered entry breaks the chain (seq or prev_hash); removing
the newest entries disagrees with the ledger head; an edited decision, report or finding
row disagrees with its ledger entry.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..models.finding import FindingRow
from ..models.ledger import GENESIS, INDEXED, LedgerEntry, LedgerHead, entry_hash
from ..models.report import FIGURE_FIELDS, MonthlyReport
from ..models.round import DecisionRow


class Problem(BaseModel):
    where: str  # "ledger seq 12" or "decisions row 7"
    key: Optional[str] = None
    what: str


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    problems: list[Problem]


def _chain(entries: list[LedgerEntry], head: Optional[LedgerHead]) -> list[Problem]:
    problems: list[Problem] = []
    prev_hash, expected = GENESIS, 1
    for e in entries:
        where = f"ledger seq {e.seq}"
        if e.seq != expected:
            problems.append(Problem(where=where, key=e.key, what=(
                f"expected seq {expected} next but found {e.seq}: entries {expected}–{e.seq - 1} were removed"
                if e.seq > expected else f"seq {e.seq} out of order (expected {expected})")))
        if e.prev_hash != prev_hash:
            problems.append(Problem(where=where, key=e.key, what=(
                "prev_hash does not match the previous entry's hash: an entry before it was removed, inserted, "
                "swapped or altered")))
        recomputed = entry_hash(e.prev_hash, e.body)
        if recomputed != e.hash:
            problems.append(Problem(where=where, key=e.key, what=(
                f"content altered: its body no longer matches its hash (stored {e.hash[:12]}…, recomputed "
                f"{recomputed[:12]}…)")))
        try:
            body = json.loads(e.body)
        except ValueError:
            problems.append(Problem(where=where, key=e.key, what="body is not valid JSON"))
            body = {}
        if body and body.get("seq") != e.seq:
            problems.append(Problem(where=where, key=e.key, what=f"row seq {e.seq} but the signed body says "
                                                                 f"{body.get('seq')}: rows were swapped or renumbered"))
        for col in INDEXED:
            if body and body.get(col) != getattr(e, col):
                problems.append(Problem(where=where, key=e.key, what=(
                    f"column {col} is {getattr(e, col)!r} but the signed body says {body.get(col)!r}")))
        prev_hash, expected = e.hash, max(expected, e.seq) + 1
    last_seq = entries[-1].seq if entries else 0
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(Problem(where="ledger head", what=(
            f"the head says the newest entry is seq {head.seq} ({head.hash[:12]}…) but the ledger ends at seq "
            f"{last_seq}: the newest entries were removed")))
    if head is None and entries:
        problems.append(Problem(where="ledger head", what="the ledger head row is missing"))
    return problems


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return a == b


def _read_model(s: Session, entries: list[LedgerEntry]) -> list[Problem]:
    problems: list[Problem] = []
    by_key = {e.key: e for e in entries}
    for d in s.exec(select(DecisionRow).order_by(DecisionRow.id)).all():
        e = by_key.get(f"decision:{d.round_id}:{d.code}")
        where = f"decisions row {d.id} ({d.round_id} {d.code})"
        if e is None:
            problems.append(Problem(where=where, what="no ledger entry records this decision"))
            continue
        body = json.loads(e.body)
        for field, recorded in (("final_grade", body.get("outcome")), ("by", body.get("actor")),
                                ("reason", body.get("reason")), ("effects", body.get("effects")),
                                ("proposed_grade", (body.get("inputs") or {}).get("proposed_grade"))):
            if not _same(getattr(d, field), recorded):
                problems.append(Problem(where=where, key=e.key, what=(
                    f"{field} is {getattr(d, field)!r} but ledger seq {e.seq} recorded {recorded!r}")))
    for r in s.exec(select(MonthlyReport).order_by(MonthlyReport.id)).all():
        e = by_key.get(f"findings:{r.submission_id}")
        where = f"monthly_reports row {r.id} ({r.code} {r.period} revision {r.revision})"
        if e is None:
            problems.append(Problem(where=where, what="no ledger entry records this report"))
            continue
        figures = (json.loads(e.body).get("inputs") or {}).get("figures") or {}
        for field in FIGURE_FIELDS:
            if not _same(getattr(r, field), figures.get(field)):
                problems.append(Problem(where=where, key=e.key, what=(
                    f"{field} is {getattr(r, field)!r} but ledger seq {e.seq} recorded {figures.get(field)!r}")))
    for f in s.exec(select(FindingRow).order_by(FindingRow.id)).all():
        e = by_key.get(f"findings:{f.submission_id}")
        where = f"findings row {f.id} ({f.code} {f.period} {f.rule})"
        if e is None:
            problems.append(Problem(where=where, what="no ledger entry records this finding"))
            continue
        recorded = next((x for x in json.loads(e.body).get("findings") or [] if x.get("rule") == f.rule), None)
        if recorded is None:
            problems.append(Problem(where=where, key=e.key, what=f"ledger seq {e.seq} has no finding {f.rule}"))
            continue
        for field in ("passed", "clause", "value", "threshold"):
            if not _same(getattr(f, field), recorded.get(field)):
                problems.append(Problem(where=where, key=e.key, what=(
                    f"{field} is {getattr(f, field)!r} but ledger seq {e.seq} recorded {recorded.get(field)!r}")))
    return problems


def verify(engine: Engine) -> VerifyReport:
    with Session(engine) as s:
        entries = s.exec(select(LedgerEntry).order_by(LedgerEntry.seq)).all()
        head = s.get(LedgerHead, 1)
        problems = _chain(entries, head) + _read_model(s, entries)
    return VerifyReport(ok=not problems, entries=len(entries), problems=problems)
