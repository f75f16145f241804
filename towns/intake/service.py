"""Importing towns and monthly reports: validate, send to the town workflows, quarantine.

Used by the CLI (and, later, the web form and REST): one path for every submission.
Rows of one town go in file order (year-to-date checks depend on it); towns go side by
side. Every row gets a result; every rejected row is kept raw in the quarantine table.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Optional

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from ..models.rejection import Problem, Rejection
from ..models.report import ReportSubmission
from ..models.times import now_utc
from ..models.town import Town, TownProfile

FIELD_NAMES = set(ReportSubmission.model_fields) | set(TownProfile.model_fields)
from ..rules.pack import DEFAULT_PACK, load_pack
from ..workflows.town import REJECTED, ReportOutcome, TownStart, TownWorkflow, workflow_id
from .files import Row


@dataclass
class RowResult:
    row: int
    code: Optional[str]
    period: Optional[str] = None
    accepted: bool = False
    status: str = ""  # accepted | corrected | unchanged | rejected
    revision: Optional[int] = None
    failed_rules: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row, "code": self.code, "period": self.period, "accepted": self.accepted,
            "status": self.status, "revision": self.revision, "failed_rules": self.failed_rules,
            "problems": [p.model_dump() for p in self.problems],
        }


def jsonable(raw: dict[str, Any]) -> dict[str, Any]:
    def one(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        return str(v)

    return {str(k): one(v) for k, v in raw.items()}


def problems_from(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(x) for x in err["loc"])
        if not where:  # a check across fields: its message starts with the field it blames
            first = msg.split(" ", 1)[0]
            where = first if first in FIELD_NAMES else "row"
        if err["type"] == "missing":
            msg = "is required but the cell is empty"
        elif err.get("input") is not None and err["type"] not in ("value_error",):
            msg = f"{msg} (got {err['input']!r})"
        out.append(Problem(field=where, en=msg))
    return out


def quarantine(engine: Engine, kind: str, row: Row, problems: list[Problem], source: str, by: str,
               code: Optional[str] = None, period: Optional[str] = None) -> None:
    with Session(engine) as s:
        s.add(Rejection(kind=kind, code=code, period=period, source=f"{source}:{row.number}", submitted_by=by,
                        received_at=now_utc(), raw=jsonable(row.raw), problems=[p.model_dump() for p in problems]))
        s.commit()


# ---------------------------------------------------------------- towns

def _differences(stored: TownProfile, new: TownProfile) -> list[str]:
    a, b = stored.model_dump(), new.model_dump()
    return [k for k in a if a[k] != b[k]]


async def register_town(client: Client, engine: Engine, profile: TownProfile, by: str, task_queue: str,
                        pack_id: str = DEFAULT_PACK) -> str:
    """Add the town to the registry and start its workflow. Idempotent: 'registered' or 'unchanged'."""
    with Session(engine) as s:
        existing = s.get(Town, profile.code)
        if existing is not None:
            diff = _differences(existing.profile(), profile)
            if diff:
                raise ValueError(
                    f"town {profile.code} is already registered with other values for {diff}; "
                    "a registered town's tier and state change only through assessment rounds")
            status = "unchanged"
        else:
            s.add(Town(**profile.model_dump(mode="json"), registered_at=now_utc(), registered_by=by,
                       applying_for=profile.tier.value if profile.state.value == "applied" else None))
            s.commit()
            status = "registered"
    await client.start_workflow(
        TownWorkflow.run,
        TownStart(profile=profile, pack_id=pack_id, limits=load_pack(pack_id).sanity,
                  report_due_day=int(load_pack(pack_id).value("report_due_day"))),
        id=workflow_id(profile.code),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return status


def apply_for_tier(engine: Engine, code: str, tier: str, by: str) -> None:
    """Record that a town applies for a tier; the next application round decides."""
    from ..models.vocab import Tier

    from ..models import ledger

    wanted = Tier.parse(tier)
    with ledger.ledger_lock(engine), Session(engine) as s:
        town = s.get(Town, code)
        if town is None:
            raise ValueError(f"unknown town '{code}'")
        if town.state not in ("creating", "applied"):
            raise ValueError(f"{code} is {town.state}: only a town in creation can apply for another tier")
        if town.tier == wanted.value:
            raise ValueError(f"{code} is already {wanted.value}")
        town.applying_for = wanted.value
        s.add(town)
        ledger.append(s, kind="application", key=f"application:{code}:{wanted.value}:{now_utc().isoformat()}",
                      code=code, actor=by, actor_role="office", outcome=f"applies for {wanted.value}",
                      inputs={"from_tier": town.tier, "tier": wanted.value, "state": town.state})
        s.commit()


async def import_towns(client: Client, engine: Engine, rows: list[Row], *, by: str, source: str, task_queue: str,
                       progress: Callable[[RowResult], None] = lambda r: None) -> list[RowResult]:
    results = []
    for row in rows:
        code = row.values.get("code")
        try:
            profile = TownProfile.model_validate(row.values)
        except ValidationError as exc:
            result = RowResult(row=row.number, code=code, status="rejected", problems=problems_from(exc))
        else:
            try:
                status = await register_town(client, engine, profile, by, task_queue)
                result = RowResult(row=row.number, code=code, accepted=True, status=status)
            except ValueError as exc:
                result = RowResult(row=row.number, code=code, status="rejected",
                                   problems=[Problem(field="code", en=str(exc), zh="小镇已登记，数据不一致")])
        if not result.accepted:
            quarantine(engine, "town", row, result.problems, source, by, code=code)
        results.append(result)
        progress(result)
    return results


# ---------------------------------------------------------------- reports

def rejection_problems(exc: WorkflowUpdateFailedError) -> Optional[list[Problem]]:
    cause = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.type == REJECTED and cause.details:
        return [Problem.model_validate(p) for p in cause.details[0]]
    return None


async def submit_report(client: Client, sub: ReportSubmission) -> ReportOutcome:
    handle = client.get_workflow_handle(workflow_id(sub.code))
    return await handle.execute_update(TownWorkflow.submit_report, sub, id=sub.submission_id,
                                       result_type=ReportOutcome)


async def import_reports(client: Client, engine: Engine, rows: list[Row], *, by: str, source: str,
                         progress: Callable[[RowResult], None] = lambda r: None,
                         concurrency: int = 8) -> list[RowResult]:
    batch = uuid.uuid4().hex[:12]
    with Session(engine) as s:
        known = set(s.exec(select(Town.code)).all())
    results: dict[int, RowResult] = {}
    by_town: dict[str, list[tuple[Row, ReportSubmission]]] = {}

    def reject(row: Row, problems: list[Problem], code=None, period=None) -> None:
        result = RowResult(row=row.number, code=code, period=period, status="rejected", problems=problems)
        quarantine(engine, "report", row, problems, source, by, code=code, period=period)
        results[row.number] = result
        progress(result)

    for row in rows:
        values = {"submitted_by": by, **row.values}
        values["submission_id"] = f"{batch}:{row.number}"
        values["source"] = f"{source}:{row.number}"
        code = str(values.get("code")) if values.get("code") is not None else None
        try:
            sub = ReportSubmission.model_validate(values)
        except ValidationError as exc:
            period = values.get("period")
            reject(row, problems_from(exc), code, str(period) if period is not None else None)
            continue
        if sub.code not in known:
            reject(row, [Problem(field="code", en=f"unknown town '{sub.code}': register it first (towns import towns FILE)",
                                 zh=f"未登记的小镇代码 {sub.code}")], sub.code, sub.period)
            continue
        by_town.setdefault(sub.code, []).append((row, sub))

    gate = asyncio.Semaphore(concurrency)

    async def send_town(items: list[tuple[Row, ReportSubmission]]) -> None:
        async with gate:
            for row, sub in items:
                try:
                    outcome = await submit_report(client, sub)
                except WorkflowUpdateFailedError as exc:
                    problems = rejection_problems(exc) or [Problem(field="row", en=f"not accepted: {exc.cause or exc}")]
                    reject(row, problems, sub.code, sub.period)
                    continue
                except RPCError as exc:
                    reject(row, [Problem(field="code", en=f"town {sub.code}'s workflow did not answer ({exc.message}); "
                                         "is `towns server` running? Re-import the towns file to restart it")],
                           sub.code, sub.period)
                    continue
                failed = [f.rule for f in outcome.evaluation.findings if not f.passed]
                result = RowResult(row=row.number, code=sub.code, period=sub.period, accepted=True,
                                   status="corrected" if outcome.revision > 1 else "accepted",
                                   revision=outcome.revision, failed_rules=failed)
                results[row.number] = result
                progress(result)

    await asyncio.gather(*(send_town(items) for items in by_town.values()))
    return [results[r.number] for r in rows]
