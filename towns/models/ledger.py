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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Column, Text, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel, select

from .. import __version__
from .tables import insert_new, table
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


LEDGER_TABLE = table(LedgerEntry)
HEAD_TABLE = table(LedgerHead)


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
    def context(round_id: str) -> str:
        """A round's city context (recorded once; each proposal refers to it by key and hash)."""
        return f"context:{round_id}"

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


@dataclass(kw_only=True, slots=True)
class Entry:
    """What one ledger entry records, before it takes its place in the chain."""

    kind: str
    key: str
    actor: str = "system"
    actor_role: str = "system"
    code: str | None = None
    round_id: str | None = None
    period: str | None = None
    outcome: str = ""
    reason: str = ""
    pack: dict | None = None
    inputs: Any = None
    findings: Any = None
    workflow: dict | None = None
    event_time: str | None = None
    extra: dict | None = None


def append(session: Session, *, fresh: bool = False, **fields: Any) -> LedgerEntry:
    """Append one entry (the fields of ``Entry``) in the caller's transaction; idempotent on ``key``
    (``fresh``: see ``append_many``)."""
    return append_many(session, [Entry(**fields)], fresh=fresh)[0]


def inputs_digest(inputs: Any) -> str:
    """The ``inputs_hash`` of an entry recording ``inputs`` (what a reference to them names)."""
    return digest(canonical({"inputs": inputs}))


def referenced_inputs(session: Session, key: str, inputs_hash: str) -> Any:
    """The inputs an entry refers to by ``{"key", "hash"}`` (a round's context, recorded once):
    LookupError when no entry has the key, ValueError when its inputs no longer hash to the reference."""
    entry = session.exec(select(LedgerEntry).where(LedgerEntry.key == key)).first()
    if entry is None:
        raise LookupError(f"the ledger has no entry {key} (referred to by hash {inputs_hash[:12]})")
    inputs = json.loads(entry.body).get("inputs")
    if inputs_digest(inputs) != inputs_hash:
        raise ValueError(f"ledger entry {key} does not hash to {inputs_hash[:12]}, which refers to it: altered")
    return inputs


def append_many(session: Session, entries: list[Entry], *, fresh: bool = False) -> list[LedgerEntry]:
    """Append entries in order, in the caller's transaction, with a fixed number of statements
    whatever their number (idempotent on each ``key``: an entry already recorded is returned as
    it is). SQLAlchemy Core on the session's connection: an ORM object per entry cost more than
    the hashing; the entries returned are plain (detached) ``LedgerEntry`` objects.

    ``fresh``: the caller has just inserted, in this transaction, a row under a unique key that
    each entry's key is made from (a report's submission id), so no entry can exist yet and none is
    looked up — one statement less for every report (a duplicate would still fail on the ledger's
    unique key)."""
    conn = session.connection()
    table, head_table = LEDGER_TABLE, HEAD_TABLE
    keys = [] if fresh else [e.key for e in entries]
    existing: dict[str, LedgerEntry] = {}
    for i in range(0, len(keys), 500):
        for found in conn.execute(core_select(table).where(table.c.key.in_(keys[i : i + 500]))).mappings():
            existing[found["key"]] = LedgerEntry(**found)
    out: list[LedgerEntry] = []
    new: list[dict[str, Any]] = []
    head: tuple[int, str] | None = None
    for e in entries:
        if e.key in existing:
            out.append(existing[e.key])
            continue
        if head is None:
            locked = core_select(head_table.c.seq, head_table.c.hash).where(head_table.c.id == 1).with_for_update()
            at = conn.execute(locked).first()
            if at is None:  # the first entry ever: the head's row, made once whoever gets there first
                insert_new(conn, head_table, [{"id": 1, "seq": 0, "hash": GENESIS}], "id")
                at = conn.execute(locked).first()
            assert at is not None  # made just now, or by the transaction that got there first
            head = (at[0], at[1])
        seq, prev = head[0] + 1, head[1]
        data = {
            "seq": seq,
            "kind": e.kind,
            "key": e.key,
            "code": e.code,
            "round_id": e.round_id,
            "period": e.period,
            "outcome": e.outcome,
            "actor": e.actor,
            "actor_role": e.actor_role,
            "reason": e.reason,
            "pack": e.pack,
            "app_version": __version__,
            "inputs": e.inputs,
            "inputs_hash": inputs_digest(e.inputs),
            "findings": e.findings,
            "workflow": e.workflow,
            "event_time": e.event_time or utc_iso(),
            "recorded_time": utc_iso(),
            **(e.extra or {}),
        }
        body = canonical(data)
        row: dict[str, Any] = {
            "seq": seq,
            "key": e.key,
            "kind": e.kind,
            "code": e.code,
            "round_id": e.round_id,
            "period": e.period,
            "outcome": e.outcome,
            "actor": e.actor,
            "body": body,
            "prev_hash": prev,
            "hash": entry_hash(prev, body),
        }
        new.append(row)
        entry = LedgerEntry(**row)
        existing[e.key] = entry
        head = (seq, row["hash"])
        out.append(entry)
    if new and head is not None:
        conn.execute(insert(table), new)
        conn.execute(update(head_table).where(head_table.c.id == 1).values(seq=head[0], hash=head[1]))
    return out


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
