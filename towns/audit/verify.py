"""`towns audit verify`: recompute the ledger's chain and hashes, and check the read model
(decisions, reports, findings) against the entries that record them.

Names the first broken entry and what differs: an altered entry no longer matches its
hash; a removed, inserted or reordered entry breaks the chain (seq or prev_hash); removing
the newest entries disagrees with the ledger head; an edited decision, report or finding
row disagrees with its ledger entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ..models.finding import FindingRow
from ..models.ledger import GENESIS, INDEXED, Keys, LedgerEntry, LedgerHead, entry_hash
from ..models.report import FIGURE_FIELDS, MonthlyReport
from ..models.round import DecisionRow


class Problem(BaseModel):
    where: str  # "ledger seq 12" or "decisions row 7"
    key: str | None = None
    what: str


class VerifyReport(BaseModel):
    ok: bool
    entries: int
    problems: list[Problem]


def _chain(entries: Sequence[LedgerEntry], head: LedgerHead | None) -> list[Problem]:
    problems: list[Problem] = []
    prev_hash, expected = GENESIS, 1
    for e in entries:
        where = f"ledger seq {e.seq}"
        if e.seq != expected:
            problems.append(
                Problem(
                    where=where,
                    key=e.key,
                    what=(
                        f"expected seq {expected} next but found {e.seq}: entries {expected}–{e.seq - 1} were removed"
                        if e.seq > expected
                        else f"seq {e.seq} out of order (expected {expected})"
                    ),
                )
            )
        if e.prev_hash != prev_hash:
            problems.append(
                Problem(
                    where=where,
                    key=e.key,
                    what=(
                        "prev_hash does not match the previous entry's hash: an entry before it was removed, inserted, "
                        "swapped or altered"
                    ),
                )
            )
        recomputed = entry_hash(e.prev_hash, e.body)
        if recomputed != e.hash:
            problems.append(
                Problem(
                    where=where,
                    key=e.key,
                    what=(
                        f"content altered: its body no longer matches its hash (stored {e.hash[:12]}…, recomputed "
                        f"{recomputed[:12]}…)"
                    ),
                )
            )
        try:
            body = json.loads(e.body)
        except ValueError:
            problems.append(Problem(where=where, key=e.key, what="body is not valid JSON"))
            body = {}
        if body and body.get("seq") != e.seq:
            problems.append(
                Problem(
                    where=where,
                    key=e.key,
                    what=f"row seq {e.seq} but the signed body says {body.get('seq')}: rows were swapped or renumbered",
                )
            )
        for column in INDEXED:
            if body and body.get(column) != getattr(e, column):
                problems.append(
                    Problem(
                        where=where,
                        key=e.key,
                        what=(
                            f"column {column} is {getattr(e, column)!r} but the signed body says {body.get(column)!r}"
                        ),
                    )
                )
        prev_hash, expected = e.hash, max(expected, e.seq) + 1
    last_seq = entries[-1].seq if entries else 0
    if head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(
            Problem(
                where="ledger head",
                what=(
                    f"the head says the newest entry is seq {head.seq} ({head.hash[:12]}…) but the ledger ends at seq "
                    f"{last_seq}: the newest entries were removed"
                ),
            )
        )
    if head is None and entries:
        problems.append(Problem(where="ledger head", what="the ledger head row is missing"))
    return problems


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-9
    return a == b


def _compare(where: str, e: LedgerEntry, row: Any, recorded: dict[str, Any]) -> list[Problem]:
    """One problem per field whose stored value differs from what the ledger entry recorded."""
    return [
        Problem(
            where=where, key=e.key, what=f"{field} is {getattr(row, field)!r} but ledger seq {e.seq} recorded {value!r}"
        )
        for field, value in recorded.items()
        if not _same(getattr(row, field), value)
    ]


# a row of the read model that a ledger entry records
Row = TypeVar("Row", DecisionRow, MonthlyReport, FindingRow)


def _check_rows(
    s: Session,
    by_key: dict[str, LedgerEntry],
    table: type[Row],
    noun: str,
    key_of: Callable[[Row], str],
    where_of: Callable[[Row], str],
    recorded_of: Callable[[Row, dict[str, Any]], dict[str, Any] | None],
    missing_of: Callable[[Row], str] | None = None,
) -> list[Problem]:
    """Each row of ``table`` against its ledger entry; ``missing_of`` names what the entry lacks when
    ``recorded_of`` finds nothing in it (``noun`` when not given)."""
    problems: list[Problem] = []
    for row in s.exec(select(table).order_by(col(table.id))).all():
        e, where = by_key.get(key_of(row)), where_of(row)
        if e is None:
            problems.append(Problem(where=where, what=f"no ledger entry records this {noun}"))
            continue
        recorded = recorded_of(row, json.loads(e.body))
        if recorded is None:
            missing = missing_of(row) if missing_of else noun
            problems.append(Problem(where=where, key=e.key, what=f"ledger seq {e.seq} has no {missing}"))
            continue
        problems += _compare(where, e, row, recorded)
    return problems


def _read_model(s: Session, entries: Sequence[LedgerEntry]) -> list[Problem]:
    """Each decision, report and finding row against the ledger entry that records it."""
    by_key = {e.key: e for e in entries}

    def decision(d: DecisionRow, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "final_grade": body.get("outcome"),
            "by": body.get("actor"),
            "reason": body.get("reason"),
            "effects": body.get("effects"),
            "proposed_grade": (body.get("inputs") or {}).get("proposed_grade"),
        }

    def report(r: MonthlyReport, body: dict[str, Any]) -> dict[str, Any]:
        figures = (body.get("inputs") or {}).get("figures") or {}
        return {f: figures.get(f) for f in FIGURE_FIELDS}

    def finding(f: FindingRow, body: dict[str, Any]) -> dict[str, Any] | None:
        rec = next((x for x in body.get("findings") or [] if x.get("rule") == f.rule), None)
        return None if rec is None else {k: rec.get(k) for k in ("passed", "clause", "value", "threshold")}

    return (
        _check_rows(
            s,
            by_key,
            DecisionRow,
            "decision",
            lambda d: Keys.decision(d.round_id, d.code),
            lambda d: f"decisions row {d.id} ({d.round_id} {d.code})",
            decision,
        )
        + _check_rows(
            s,
            by_key,
            MonthlyReport,
            "report",
            lambda r: Keys.findings(r.submission_id),
            lambda r: f"monthly_reports row {r.id} ({r.code} {r.period} revision {r.revision})",
            report,
        )
        + _check_rows(
            s,
            by_key,
            FindingRow,
            "finding",
            lambda f: Keys.findings(f.submission_id),
            lambda f: f"findings row {f.id} ({f.code} {f.period} {f.rule})",
            finding,
            missing_of=lambda f: f"finding {f.rule}",
        )
    )


def verify(engine: Engine) -> VerifyReport:
    with Session(engine) as s:
        entries = s.exec(select(LedgerEntry).order_by(col(LedgerEntry.seq))).all()
        head = s.get(LedgerHead, 1)
        problems = _chain(entries, head) + _read_model(s, entries)
    return VerifyReport(ok=not problems, entries=len(entries), problems=problems)
