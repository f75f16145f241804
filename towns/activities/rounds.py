"""Activities of an assessment round: prepare (pin the pack, gather towns, city context),
evaluate a batch of towns, sum up the city, mark an overdue approval, apply decisions.

Each writes in one transaction and is idempotent: rows are keyed on (round, town), so a
retried activity leaves one row. Decisions are sent to the town workflows from here, a
batch at a time (cheaper than a signal per town from the round workflow; DESIGN.md).
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import date
from typing import Any

from sqlalchemy import Text, bindparam, cast, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from ..models import ledger, pack_store
from ..models.activities import (
    OUT_OF_ORDER,
    ApplyRequest,
    ApprovalRecord,
    BatchRequest,
    PrepareRequest,
    ProposalSummary,
    RoundActivities,
    RoundPlan,
    RoundRef,
)
from ..models.finding import Finding
from ..models.ledger import Keys, ledger_lock
from ..models.round import (
    AnnualContext,
    CityAggregates,
    DecisionNotice,
    DecisionRow,
    Effects,
    ProposalRow,
    RoundKind,
    RoundRow,
    TownProposal,
    later_decisions,
    load_records,
    order_problems,
    recorded_context,
)
from ..models.tables import table
from ..models.times import now_utc
from ..models.town import Town
from ..models.workflows import APPLY_DECISION, workflow_id
from ..rules import acceptance, annual, application
from ..rules.effects import effects as decision_effects
from ..rules.effects import unchanged
from ..rules.library import load_programme, pack_by_hash
from ..rules.pack import RulePack
from ..rules.proposals import evaluate
from ..rules.scope import in_scope
from .support import deterministic, heartbeating, heartbeating_async, workflow_ref

SIGNALS_AT_ONCE = 16  # decisions signalled to their towns at once by one worker, all batches together


def round_pack(engine: Engine, pack_id: str, year: int) -> RulePack:
    """The programme as in force for the round's year (its values on 31 December)."""
    return load_programme(engine, pack_id, date(year, 12, 31))


def pinned_pack(engine: Engine, pack_id: str, pack_hash: str, year: int) -> RulePack:
    """The pack the round pinned when it started, from the store (so a round started before a
    pack file changed goes on under the pack it started with)."""
    if not pack_hash:
        return round_pack(engine, pack_id, year)
    try:
        return pack_by_hash(engine, pack_hash)
    except LookupError:
        raise ApplicationError(
            f"rule pack {pack_id} {pack_hash[:12]}, which the round pinned, is not in the store; start a new round",
            type="PackChanged",
            non_retryable=True,
        ) from None


def named_onto_a_list(s: Session, year: int, pack: RulePack) -> int:
    """Towns named in ``year`` onto another list by the decision that named them (a provincial
    town named 省级特色小镇); a city-level town passing its acceptance stays on its list and
    does not count (the naming target)."""
    rows = s.exec(
        select(DecisionRow).where(
            DecisionRow.kind == "acceptance", DecisionRow.year == year, DecisionRow.final_grade == "named"
        )
    ).all()
    return sum(1 for d in rows if d.effects.get("tier") != d.before.get("tier"))


def _pack_of(row: RoundRow) -> dict[str, str]:
    return {"id": row.pack_id, "version": row.pack_version, "hash": row.pack_hash}


def _round_row(s: Session, round_id: str) -> RoundRow:
    """The round's row, which ``prepare_round`` stores before any other activity of the round runs."""
    row = s.get(RoundRow, round_id)
    if row is None:
        # LookupError: deterministic, so not retried (activities.support)
        raise LookupError(f"round {round_id} is not in the database (prepare_round stores it first)")
    return row


class Rounds(RoundActivities):
    """The round activities, on the database (and a client, to send decisions to the towns)."""

    def __init__(self, engine: Engine, client: Client | None = None):
        self.engine = engine
        self.client = client
        self._signals = asyncio.Semaphore(SIGNALS_AT_ONCE)
        # one batch evaluates at a time in this process: the evaluation is Python on one core (the GIL)
        # behind the rule engine's lock, so batches side by side only fought over both (1,000 towns, five
        # batches: 2.8 s of CPU one after another, 4.6 s side by side); a second worker process takes
        # the batches this one has not started
        self._evaluating = threading.Lock()

    @activity.defn(name="prepare_round")
    @deterministic
    def prepare_round(self, req: PrepareRequest) -> RoundPlan:
        pack = round_pack(self.engine, req.pack_id, req.year)
        with heartbeating(), Session(self.engine) as s:
            towns = s.exec(select(Town).order_by(Town.code)).all()  # read once: the scope is checked, then kept
            codes = [t.code for t in towns if in_scope(t, req.kind, req.year, pack)]
            if s.get(RoundRow, req.round_id) is None:
                problems = order_problems(later_decisions(s, codes, req.kind.value, req.year), req.round_id)
                if problems:  # refused before anything is written
                    raise ApplicationError("; ".join(problems), problems, type=OUT_OF_ORDER, non_retryable=True)
            pack_store.remember(s, pack)
            if s.get(RoundRow, req.round_id) is None:
                s.add(
                    RoundRow(
                        id=req.round_id,
                        kind=req.kind.value,
                        year=req.year,
                        pack_id=pack.pack.id,
                        pack_version=pack.pack.version,
                        pack_hash=pack.hash,
                        started_by=req.started_by,
                        started_at=now_utc(),
                        city_tax_growth=req.city_tax_growth,
                    )
                )
            s.commit()
            context_hash = None
            if req.kind == RoundKind.annual:
                context = annual.annual_context(load_records(s, codes, req.year), req.year, pack, req.city_tax_growth)
                context_hash = self._record_context(req, pack, context)
        return RoundPlan(
            pack=pack.ref,
            codes=codes,
            context_hash=context_hash,
            approval_overdue_days=float(pack.annual_value("approval_overdue_days")),
        )

    def _record_context(self, req: PrepareRequest, pack: RulePack, context: AnnualContext) -> str:
        """The round's city context, recorded once in the ledger (every proposal refers to it by
        hash, so a proposal's entry does not grow with the number of towns); returns the hash of
        the context recorded — a retried attempt's, when one got there first."""
        with ledger_lock(self.engine), Session(self.engine) as s:
            entry = ledger.append(
                s,
                kind="context",
                key=Keys.context(req.round_id),
                round_id=req.round_id,
                period=str(req.year),
                outcome=f"city context of {len(context.innovation_scores)} towns",
                actor=req.started_by,
                actor_role=req.started_role,
                pack=pack.ref.model_dump(),
                inputs=context.model_dump(mode="json"),
                workflow=workflow_ref(),
            )
            s.commit()
            return str(json.loads(entry.body)["inputs_hash"])

    @activity.defn(name="evaluate_round_batch")
    @deterministic
    def evaluate_round_batch(self, req: BatchRequest) -> list[ProposalSummary]:
        pack = pinned_pack(self.engine, req.pack_id, req.pack_hash, req.year)
        with heartbeating(), self._evaluating:
            with Session(self.engine) as s:  # read and evaluate outside the ledger's lock
                context = req.context
                context_ref = None
                if req.context_hash:
                    context_ref = {"key": Keys.context(req.round_id), "hash": req.context_hash}
                    context = recorded_context(s, {"context_ref": context_ref})
                records = load_records(s, req.codes, req.year)
            proposals = [evaluate(req.kind, r, req.year, pack, context) for r in records]
            by_code = {r.profile.code: r for r in records}
            with ledger_lock(self.engine), Session(self.engine) as s:
                stored = set(
                    s.exec(
                        select(ProposalRow.code).where(
                            ProposalRow.round_id == req.round_id, col(ProposalRow.code).in_(req.codes)
                        )
                    ).all()
                )
                fresh = [p for p in proposals if p.code not in stored]
                recorded = now_utc()
                if fresh:  # Core: an ORM object per proposal cost more than its evaluation's bookkeeping
                    s.connection().execute(
                        insert(table(ProposalRow)),
                        [
                            {
                                "round_id": req.round_id,
                                "code": p.code,
                                "proposal": p.model_dump(mode="json"),
                                "recorded_at": recorded,
                            }
                            for p in fresh
                        ],
                    )
                workflow = workflow_ref()
                ledger.append_many(
                    s,
                    [
                        ledger.Entry(
                            kind="proposal",
                            key=Keys.proposal(req.round_id, p.code),
                            code=p.code,
                            round_id=req.round_id,
                            period=str(req.year),
                            outcome=p.proposed_grade,
                            pack=pack.ref.model_dump(),
                            inputs={
                                "record": by_code[p.code].model_dump(mode="json"),
                                **(
                                    {"context_ref": context_ref}
                                    if context_ref
                                    else {"context": context.model_dump(mode="json") if context else None}
                                ),
                                "kind": req.kind.value,
                                "year": req.year,
                            },
                            findings=[f.model_dump(mode="json") for f in p.findings],
                            workflow=workflow,
                            extra={"score": p.score, "effects": p.effects.model_dump(mode="json")},
                        )
                        for p in fresh
                    ],
                )
                s.commit()
                summaries = {
                    p.code: ProposalSummary(code=p.code, proposed_grade=p.proposed_grade, score=p.score) for p in fresh
                }
                if stored:  # a retried attempt: the proposals it recorded then stand
                    for r in s.exec(
                        select(ProposalRow).where(
                            ProposalRow.round_id == req.round_id, col(ProposalRow.code).in_(sorted(stored))
                        )
                    ).all():
                        summaries[r.code] = ProposalSummary(
                            code=r.code, proposed_grade=r.proposal["proposed_grade"], score=r.proposal["score"]
                        )
        return [summaries[code] for code in sorted(summaries)]

    @activity.defn(name="sum_up_round")
    @deterministic
    def sum_up_round(self, ref: RoundRef) -> CityAggregates:
        """City aggregates over the round's proposals; the round becomes 'proposed'."""
        pack = round_pack(self.engine, ref.pack_id, ref.year)
        with heartbeating(), Session(self.engine) as s:
            row = _round_row(s, ref.round_id)
            proposals_t = table(ProposalRow)
            # the JSON text parsed by the model itself (pydantic's parser, not json.loads and a validation)
            text = cast(proposals_t.c.proposal, Text)
            proposals = [
                TownProposal.model_validate_json(stored)
                for (stored,) in s.connection().execute(
                    core_select(text).where(proposals_t.c.round_id == ref.round_id).order_by(proposals_t.c.code)
                )
            ]
            records = load_records(s, [p.code for p in proposals], ref.year)
            if ref.kind == RoundKind.annual:
                named = named_onto_a_list(s, ref.year, pack)
                city = annual.annual_city(records, proposals, ref.year, pack, named)
            elif ref.kind == RoundKind.acceptance:
                city = acceptance.acceptance_city(proposals, ref.year, pack)
            else:
                city = application.application_city(proposals, ref.year, pack)
            overdue = [f for f in (row.city or {}).get("findings", []) if f.get("rule") == "approval-overdue"]
            data = city.model_dump(mode="json")
            data["findings"] = data["findings"] + overdue
            row.city = data
            if row.state == "evaluating":
                row.state = "proposed"
            s.add(row)
            s.commit()
        return city

    @activity.defn(name="mark_round_overdue")
    @deterministic
    def mark_round_overdue(self, ref: RoundRef) -> None:
        pack = round_pack(self.engine, ref.pack_id, ref.year)
        days = pack.annual_value("approval_overdue_days")
        with Session(self.engine) as s:
            row = _round_row(s, ref.round_id)
            if row.overdue:
                return
            finding = Finding(
                rule="approval-overdue",
                clause=pack.param("annual.approval_overdue_days").clause,
                inputs={"started_at": row.started_at.isoformat(), "days": days},
                threshold=float(days),
                value=None,
                passed=False,
                reason_en=f"the round's proposals have waited more than {days} days for approval; "
                "nothing is approved automatically",
                reason_zh=f"考核结果提出后超过 {days} 天仍未审定（不会自动审定）",
            )
            city = dict(row.city or {})
            city["findings"] = [*list(city.get("findings", [])), finding.model_dump(mode="json")]
            row.city = city
            row.overdue = True
            s.add(row)
            s.commit()

    @activity.defn(name="check_round_order")
    @deterministic
    def check_round_order(self, ref: RoundRef) -> list[str]:
        """Before an approval: the towns of the round that a decision for a later year has reached since."""
        with Session(self.engine) as s:
            codes = list(s.exec(select(ProposalRow.code).where(ProposalRow.round_id == ref.round_id)).all())
            return order_problems(
                later_decisions(s, codes, ref.kind.value, ref.year, excluding_round=ref.round_id), ref.round_id
            )

    @activity.defn(name="apply_round_batch")
    @deterministic
    async def apply_round_batch(self, req: ApplyRequest) -> list[DecisionNotice]:
        async with heartbeating_async():
            return await self._apply_and_signal(req)

    async def _apply_and_signal(self, req: ApplyRequest) -> list[DecisionNotice]:
        notices = await asyncio.to_thread(self._apply, req)
        if self.client is not None:
            client = self.client
            gate = self._signals  # shared by the batches running in this worker at once

            async def send(code: str, notice: DecisionNotice) -> None:
                async with gate:
                    try:
                        await client.get_workflow_handle(workflow_id(code)).signal(APPLY_DECISION, notice)
                    except RPCError as exc:
                        if exc.status != RPCStatusCode.NOT_FOUND:
                            raise
                        # the decision is recorded in our database, which is the record; the town's
                        # workflow is gone (Temporal state reset?) and picks it up when re-registered
                        activity.logger.warning("town workflow %s not found; decision recorded only", code)

            # a town ignores a notice it has taken already, so a retried batch may send them all again
            await asyncio.gather(*(send(code, notice) for code, notice in notices))
        return [n for _, n in notices]

    def _apply(self, req: ApplyRequest) -> list[tuple[str, DecisionNotice]]:
        """Record the batch's decisions, change its towns and append their ledger entries, in one
        transaction (Core statements: an ORM object per decision and per town cost more than the
        work); the notices to send, a retried attempt's decisions included."""
        pack = pinned_pack(self.engine, req.pack_id, req.pack_hash, req.year)
        out = []
        decisions_t, proposals_t, towns_t = table(DecisionRow), table(ProposalRow), table(Town)
        with ledger_lock(self.engine), Session(self.engine) as s:
            conn = s.connection()
            row = _round_row(s, req.round_id)
            records = {r.profile.code: r for r in load_records(s, req.codes, req.year)}
            mine = (decisions_t.c.round_id == req.round_id) & decisions_t.c.code.in_(req.codes)
            done = {
                d.code: d
                for d in conn.execute(
                    core_select(
                        decisions_t.c.code, decisions_t.c.final_grade, decisions_t.c.reason, decisions_t.c.effects
                    ).where(mine)
                )
            }
            # as recorded by the evaluation (model_dump(mode="json")): the findings go to the ledger as they are
            proposals: dict[str, dict[str, Any]] = {
                str(code): dict(proposal)
                for code, proposal in conn.execute(
                    core_select(proposals_t.c.code, proposals_t.c.proposal).where(
                        proposals_t.c.round_id == req.round_id, proposals_t.c.code.in_(req.codes)
                    )
                )
            }
            towns = {
                t["code"]: t for t in conn.execute(core_select(towns_t).where(towns_t.c.code.in_(req.codes))).mappings()
            }
            entries: list[ledger.Entry] = []
            decisions: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            recorded = now_utc()
            workflow = workflow_ref()
            # a later year's decision applied meanwhile (two approvals at once): this one leaves the town as it is
            later = later_decisions(
                s, [c for c in req.codes if c not in done], req.kind.value, req.year, excluding_round=req.round_id
            )
            for code in req.codes:
                override = req.overrides.get(code)
                if code in done:  # a retried activity: the decision stands, send it again
                    d = done[code]
                    eff = Effects.model_validate(d.effects)
                    final, reason = d.final_grade, d.reason
                else:
                    record, proposal = records[code], proposals[code]
                    final = override.grade if override else proposal["proposed_grade"]
                    reason = override.reason if override else ""
                    town = towns[code]
                    before = {
                        "state": town["state"],
                        "tier": town["tier"],
                        "warnings": town["warnings"],
                        "last_grade": town["last_grade"],
                        "listed_year": town["listed_year"],
                        "creation_years": town["creation_years"],
                        "acceptance_failures": town["acceptance_failures"],
                    }
                    superseded = [d.round_id for d in later.get(code, [])]
                    if superseded:
                        eff = unchanged(record)
                        note = (
                            f"not applied to the town: {', '.join(superseded)} for a later year was applied first "
                            "(decisions apply in year order) 未改变小镇状态：更晚年度的结果已先行应用"
                        )
                        reason = f"{reason} — {note}" if reason else note
                    else:
                        eff = decision_effects(record, final, req.year, pack)
                    effects = eff.model_dump(mode="json")
                    decisions.append(
                        {
                            "round_id": req.round_id,
                            "kind": req.kind.value,
                            "year": req.year,
                            "code": code,
                            "proposed_grade": proposal["proposed_grade"],
                            "final_grade": final,
                            "score": proposal["score"],
                            "by": req.by,
                            "reason": reason,
                            "before": before,
                            "effects": effects,
                            "pack_id": row.pack_id,
                            "pack_version": row.pack_version,
                            "pack_hash": row.pack_hash,
                            "recorded_at": recorded,
                        }
                    )
                    changed.append(
                        {
                            "the_code": code,
                            "state": eff.state,
                            "tier": eff.tier,
                            "warnings": eff.warnings,
                            "listed_year": eff.listed_year if eff.listed_year is not None else town["listed_year"],
                            "creation_years": eff.creation_years or town["creation_years"],
                            "acceptance_failures": eff.acceptance_failures,
                            "last_grade": final
                            if req.kind == RoundKind.annual and not superseded
                            else town["last_grade"],
                            "applying_for": None if req.kind == RoundKind.application else town["applying_for"],
                        }
                    )
                    entries.append(
                        ledger.Entry(
                            kind="decision",
                            key=Keys.decision(req.round_id, code),
                            code=code,
                            round_id=req.round_id,
                            period=str(req.year),
                            actor=req.by,
                            actor_role=req.role,
                            reason=reason,
                            outcome=final,
                            pack=_pack_of(row),
                            inputs={
                                "record": record.model_dump(mode="json"),
                                "proposed_grade": proposal["proposed_grade"],
                                "final_grade": final,
                                "override": override.model_dump() if override else None,
                                "kind": req.kind.value,
                                "year": req.year,
                            },
                            findings=proposal["findings"],
                            workflow=workflow,
                            extra={
                                "score": proposal["score"],
                                "before": before,
                                "effects": effects,
                                **({"superseded_by": superseded} if superseded else {}),
                            },
                        )
                    )
                out.append(
                    (
                        code,
                        DecisionNotice(
                            round_id=req.round_id,
                            kind=req.kind.value,
                            year=req.year,
                            grade=final,
                            effects=eff,
                            by=req.by,
                            reason=reason,
                        ),
                    )
                )
            if decisions:
                conn.execute(insert(decisions_t), decisions)
                conn.execute(
                    update(towns_t)
                    .where(towns_t.c.code == bindparam("the_code"))
                    .values({name: bindparam(name) for name in changed[0] if name != "the_code"}),
                    changed,
                )
            ledger.append_many(s, entries)
            s.commit()
        return out

    @activity.defn(name="close_round")
    @deterministic
    def close_round(self, req: RoundRef) -> None:
        with Session(self.engine) as s:
            row = _round_row(s, req.round_id)
            if row.state != "applied":
                row.state = "applied"
                s.add(row)
                s.commit()

    @activity.defn(name="record_approval")
    @deterministic
    def record_approval(self, req: ApprovalRecord) -> None:
        with ledger_lock(self.engine), Session(self.engine) as s:
            row = _round_row(s, req.round_id)
            if row.approved_by is None:
                row.approved_by = req.by
                row.approved_at = now_utc()
                s.add(row)
            ledger.append(
                s,
                kind="approval",
                key=Keys.approval(req.round_id),
                round_id=req.round_id,
                period=str(row.year),
                actor=req.by,
                actor_role=req.role,
                reason=req.note,
                outcome=f"approved with {len(req.overrides)} override(s)",
                pack=_pack_of(row),
                inputs={"overrides": [o.model_dump() for o in req.overrides]},
                workflow=workflow_ref(),
            )
            for o in req.overrides:
                ledger.append(
                    s,
                    kind="override",
                    key=Keys.override(req.round_id, o.code),
                    code=o.code,
                    round_id=req.round_id,
                    period=str(row.year),
                    actor=req.by,
                    actor_role=req.role,
                    reason=o.reason,
                    outcome=o.grade,
                    pack=_pack_of(row),
                    inputs={"override": o.model_dump()},
                    workflow=workflow_ref(),
                )
            s.commit()
