"""The decision ledger: append-only, hash-chained evidence of every finding set, proposal,
approval, override and applied decision.

Each entry's ``body`` is the canonical JSON of what it records; ``hash`` is
sha256(prev_hash + body). ``ledger_head`` holds the last seq and hash, so removing the
newest entry is caught too. The code has no update or delete path; on PostgreSQL a
trigger refuses UPDATE and DELETE (installed by ``models.db``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from .. import __version__
from .times import as_utc

GENESIS = "0" * 64
# columns copied out of the body for queries; verify checks they still match it
INDEXED = ("kind", "key", "code", "round_id", "period", "outcome", "actor")


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger"

    seq: int = SQLField(primary_key=True)
    key: str = SQLField(unique=True, max_length=300)
    kind: str = SQLField(index=True, max_length=20)
    code: str | None = SQLField(default=None, index=True, max_length=32)
    round_id: str | None = SQLField(default=None, index=True, max_length=64)
    period: str | None = SQLField(default=None, max_length=20)
    outcome: str = ""
    actor: str = "system"
    body: str = SQLField(sa_column=Column(Text, nullable=False))
    prev_hash: str = SQLField(max_length=64)
    hash: str = SQLField(max_length=64)

    def data(self) -> dict[str, Any]:
        return json.loads(self.body)


class LedgerHead(SQLModel, table=True):
    __tablename__ = "ledger_head"

    id: int = SQLField(default=1, primary_key=True)
    seq: int = 0
    hash: str = GENESIS


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, body: str) -> str:
    return digest(prev_hash + body)


def utc_iso(t: datetime | None = None) -> str:
    return as_utc(t or datetime.now(UTC)).isoformat()


# ---------------------------------------------------------------- the keys of the entries (one place)


class Keys:
    """The key of each kind of entry: an entry is written once per key (``append`` is idempotent on it),
    and the read model's rows are matched to their entries by it (``audit verify``, the history)."""

    @staticmethod
    def findings(submission_id: str) -> str:
        """A report's evaluation (its finding set)."""
        return f"findings:{submission_id}"

    @staticmethod
    def supervision(rule: str, code: str, period: str) -> str:
        """An overdue report (report-overdue) or its late arrival (report-late); also the finding's key."""
        return f"{'overdue' if rule == 'report-overdue' else 'late'}:{code}:{period}"

    @staticmethod
    def proposal(round_id: str, code: str) -> str:
        return f"proposal:{round_id}:{code}"

    @staticmethod
    def decision(round_id: str, code: str) -> str:
        return f"decision:{round_id}:{code}"

    @staticmethod
    def approval(round_id: str) -> str:
        return f"approval:{round_id}"

    @staticmethod
    def override(round_id: str, code: str) -> str:
        return f"override:{round_id}:{code}"

    @staticmethod
    def application(code: str, tier: str, at: str) -> str:
        return f"application:{code}:{tier}:{at}"

    @staticmethod
    def account(name: str, what: str) -> str:
        """A user added or disabled (the web console's accounts)."""
        return f"account:{name}:{what}"


_sqlite_lock = threading.Lock()


class _Nothing:
    def __enter__(self) -> _Nothing:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        return False


def ledger_lock(engine: Engine) -> AbstractContextManager[object]:
    """Serialise ledger writers within this process on SQLite (PostgreSQL locks the head row)."""
    return _sqlite_lock if engine.dialect.name == "sqlite" else _Nothing()


def append(
    session: Session,
    *,
    kind: str,
    key: str,
    actor: str = "system",
    actor_role: str = "system",
    code: str | None = None,
    round_id: str | None = None,
    period: str | None = None,
    outcome: str = "",
    reason: str = "",
    pack: dict | None = None,
    inputs: Any = None,
    findings: Any = None,
    workflow: dict | None = None,
    event_time: str | None = None,
    extra: dict | None = None,
) -> LedgerEntry:
    """Append one entry in the caller's transaction (idempotent on ``key``)."""
    existing = session.exec(select(LedgerEntry).where(LedgerEntry.key == key)).first()
    if existing is not None:
        return existing
    head = session.exec(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).first()
    if head is None:
        head = LedgerHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    inputs_text = canonical({"inputs": inputs})
    data = {
        "seq": head.seq + 1,
        "kind": kind,
        "key": key,
        "code": code,
        "round_id": round_id,
        "period": period,
        "outcome": outcome,
        "actor": actor,
        "actor_role": actor_role,
        "reason": reason,
        "pack": pack,
        "app_version": __version__,
        "inputs": inputs,
        "inputs_hash": digest(inputs_text),
        "findings": findings,
        "workflow": workflow,
        "event_time": event_time or utc_iso(),
        "recorded_time": utc_iso(),
        **(extra or {}),
    }
    body = canonical(data)
    entry = LedgerEntry(
        seq=data["seq"],
        key=key,
        kind=kind,
        code=code,
        round_id=round_id,
        period=period,
        outcome=outcome,
        actor=actor,
        body=body,
        prev_hash=head.hash,
        hash=entry_hash(head.hash, body),
    )
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.add(head)
    return entry


PG_TRIGGER = """
CREATE OR REPLACE FUNCTION towns_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the decision ledger is append-only: %% refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ledger_append_only ON ledger;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE FUNCTION towns_ledger_append_only();
"""
