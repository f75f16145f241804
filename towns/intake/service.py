"""Importing towns and monthly reports: validate, send to the town workflows, quarantine.

Used by the CLI (and, later, the web form and REST): one path for every submission.

Reports: each row is read against the submission contract; a row that fails it (or names
an unknown town) is refused here and kept raw in the quarantine. The other rows go to
their town's workflow, one Update per town with all of the file's rows for it in file
order (``ReportBatch``): the workflow takes a town's Updates one at a time, so two files
for the same months never interleave, and answers every row (accepted, corrected,
unchanged, rejected — the rejected ones it quarantines itself, in the same transaction
as the accepted ones). Towns go side by side. Every row is answered as soon as its town
is done (``progress``).

If the server goes away, the same Update (same id) is sent again until it answers or
``TOWNS_RETRY_WAIT`` seconds (default 120) have passed; the rows still without an answer
are then said to be unanswered — neither accepted nor quarantined — and running the same
file again answers them truly (rows already recorded are "unchanged").
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from ..models.finding import DEFAULT_PACK
from ..models.rejection import Problem, Rejection, jsonable, problems_from, rejection_row
from ..models.report import MAX_BATCH_ROWS, BatchOutcome, ReportBatch, ReportRow, ReportSubmission, RowAnswer
from ..models.times import now_utc
from ..models.town import Town, TownProfile
from ..models.user import OS_USER_ROLE
from ..models.workflows import REJECTED, ReportOutcome, TownStart, workflow_id
from ..rules.library import load_programme, programmes
from ..rules.pack import PackError
from ..rules.vocabulary import PackVocabulary
from ..workflows.town import TownWorkflow
from .files import Row

UNANSWERED = Problem(
    field="row",
    en="the server went away before answering this row: run the same import again — rows already "
    "recorded are answered 'unchanged', the others are taken",
    zh="服务在答复该行之前中断：请重新导入同一文件——已记录的行将显示“已存在”，其余的行会被接收",
)
# RPC failures that mean "the server is (for now) not there", worth sending the same Update again
_GONE = (
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.RESOURCE_EXHAUSTED,
)


@dataclass
class RowResult:
    row: int
    code: str | None
    period: str | None = None
    accepted: bool = False
    status: str = ""  # accepted | corrected | unchanged | registered | rejected | unanswered
    revision: int | None = None
    failed_rules: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    where: str = ""  # the row as the file names it: "5", or "Sheet2!5"

    def __post_init__(self) -> None:
        self.where = self.where or str(self.row)

    @property
    def quarantined(self) -> bool:
        return self.status == "rejected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "where": self.where,
            "code": self.code,
            "period": self.period,
            "accepted": self.accepted,
            "status": self.status,
            "revision": self.revision,
            "failed_rules": self.failed_rules,
            "problems": [p.model_dump() for p in self.problems],
        }


def _where(row: Row) -> str:
    return getattr(row, "where", None) or str(row.number)


def _retry_db(write: Callable[[], None], wait: float = 60.0) -> None:
    """A client-side write, retried while the database refuses connections (bounded)."""
    end = time.monotonic() + wait
    while True:
        try:
            write()
            return
        except OperationalError:
            if time.monotonic() > end:
                raise
            time.sleep(1.0)


def quarantine(
    engine: Engine,
    kind: str,
    row: Row,
    problems: list[Problem],
    source: str,
    by: str,
    code: str | None = None,
    period: str | None = None,
    key: str | None = None,
) -> None:
    def write() -> None:
        with Session(engine) as s:
            if key is not None and s.exec(select(Rejection.id).where(Rejection.key == key)).first():
                return  # a retried write
            s.add(
                rejection_row(
                    kind,
                    key=key,
                    code=code,
                    period=period,
                    source=f"{source}:{_where(row)}",
                    by=by,
                    raw=row.raw,
                    problems=problems,
                )
            )
            s.commit()

    _retry_db(write)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- towns


def _differences(stored: TownProfile, new: TownProfile) -> list[str]:
    a, b = stored.model_dump(), new.model_dump()
    return [k for k in a if a[k] != b[k]]


def default_programme(engine: Engine) -> str:
    """The programme a town belongs to when its row names none: the only programme installed in
    this deployment when there is exactly one, else the one shipped as the default (sx2018)."""
    from ..models.pack_store import installed_sources

    installed = [p for p in programmes(engine) if p in installed_sources(engine)]
    return installed[0] if len(installed) == 1 else DEFAULT_PACK


async def register_town(client: Client, engine: Engine, profile: TownProfile, by: str, task_queue: str) -> str:
    """Add the town to the registry and start its workflow. Idempotent: 'registered' or 'unchanged';
    ValueError when the town is registered with other values."""
    result = (await register_towns(client, engine, [profile], by, task_queue))[0]
    if isinstance(result, ValueError):
        raise result
    return result


Registered = str | ValueError  # 'registered', 'unchanged', or why the row is refused


def _registry_rows(engine: Engine, profiles: list[TownProfile], by: str) -> list[tuple[Registered, datetime]]:
    """Add the new towns to the registry in one transaction; each profile answered in order
    ('registered', 'unchanged', or a ValueError for other values than those registered — rows of
    one code are compared with the first), with the town's registration time."""
    for _attempt in range(2):
        out: list[tuple[Registered, datetime]] = []
        registered_at = now_utc()
        with Session(engine) as s:
            codes = sorted({p.code for p in profiles})
            stored: dict[str, Town] = {}
            for i in range(0, len(codes), 500):
                for t in s.exec(select(Town).where(col(Town.code).in_(codes[i : i + 500]))).all():
                    stored[t.code] = t
            for p in profiles:
                town = stored.get(p.code)
                if town is None:
                    town = Town(
                        **p.model_dump(mode="json"),
                        registered_at=registered_at,
                        registered_by=by,
                        applying_for=p.tier if p.state.value == "applied" else None,
                    )
                    s.add(town)
                    stored[p.code] = town
                    out.append(("registered", registered_at))
                    continue
                at = town.registered_at if town.registered_at.tzinfo else town.registered_at.replace(tzinfo=UTC)
                diff = _differences(town.profile(), p)
                if diff:
                    out.append(
                        (
                            ValueError(
                                f"town {p.code} is already registered with other values for {diff}; "
                                "a registered town's tier and state change only through assessment rounds"
                            ),
                            at,
                        )
                    )
                else:
                    out.append(("unchanged", at))
            try:
                s.commit()
                return out
            except IntegrityError:  # registered at the same moment by another import: compare with it
                s.rollback()
    raise RuntimeError("the registry changed under two attempts to register the same towns; run the import again")


async def register_towns(
    client: Client,
    engine: Engine,
    profiles: list[TownProfile],
    by: str,
    task_queue: str,
    *,
    concurrency: int = 16,
    done: Callable[[int, Registered], None] = lambda i, r: None,
) -> list[Registered]:
    """Register towns in bulk: the registry rows in one transaction, then every town's workflow
    started, ``concurrency`` at a time (a town already started is left running). ``done(i, answer)``
    is called for each profile as soon as it is answered. Idempotent."""
    answers = await asyncio.to_thread(_registry_rows, engine, profiles, by)
    first: dict[str, int] = {}
    for i, ((answer, _), p) in enumerate(zip(answers, profiles, strict=True)):
        if isinstance(answer, ValueError):
            done(i, answer)
        else:
            first.setdefault(p.code, i)
    rows_of: dict[str, list[int]] = {}
    for i, ((answer, _), p) in enumerate(zip(answers, profiles, strict=True)):
        if not isinstance(answer, ValueError):
            rows_of.setdefault(p.code, []).append(i)
    packs: dict[str, Any] = {}
    for p in profiles:
        if p.programme not in packs:
            packs[p.programme] = load_programme(engine, p.programme)
    gate = asyncio.Semaphore(concurrency)

    async def start(i: int) -> None:
        profile, (_, registered_at) = profiles[i], answers[i]
        pack = packs[profile.programme]
        async with gate:
            await client.start_workflow(
                TownWorkflow.run,
                TownStart(
                    profile=profile,
                    pack_id=profile.programme,
                    limits=pack.sanity,
                    report_due_day=int(pack.value("report_due_day")),
                    registered_at=registered_at,
                ),
                id=workflow_id(profile.code),
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        for j in rows_of[profile.code]:
            done(j, answers[j][0])

    await asyncio.gather(*(start(i) for i in first.values()))
    return [a for a, _ in answers]


def apply_for_tier(engine: Engine, code: str, tier: str, by: str, role: str = OS_USER_ROLE) -> None:
    """Record that a town applies for a tier; the next application round decides."""
    from ..models import ledger

    with ledger.ledger_lock(engine), Session(engine) as s:
        town = s.get(Town, code)
        if town is None:
            raise ValueError(f"unknown town '{code}'")
        wanted = PackVocabulary(load_programme(engine, town.programme)).parse("tier", tier)
        if town.state not in ("creating", "applied"):
            raise ValueError(f"{code} is {town.state}: only a town in creation can apply for another tier")
        if town.tier == wanted:
            raise ValueError(f"{code} is already {wanted}")
        town.applying_for = wanted
        s.add(town)
        ledger.append(
            s,
            kind="application",
            key=ledger.Keys.application(code, wanted, now_utc().isoformat()),
            code=code,
            actor=by,
            actor_role=role,
            outcome=f"applies for {wanted}",
            inputs={"from_tier": town.tier, "tier": wanted, "state": town.state},
        )
        s.commit()


async def import_towns(
    client: Client,
    engine: Engine,
    rows: list[Row],
    *,
    by: str,
    source: str,
    task_queue: str,
    progress: Callable[[RowResult], None] = lambda r: None,
    concurrency: int = 16,
) -> list[RowResult]:
    """Register every valid row; rows of one code in file order, codes side by side."""
    batch = uuid.uuid4().hex[:12]
    results: dict[str, RowResult] = {}
    groups: dict[str, list[tuple[Row, TownProfile]]] = {}

    def answer(row: Row, result: RowResult) -> None:
        if result.status == "rejected":
            quarantine(engine, "town", row, result.problems, source, by, code=result.code, key=f"{batch}:{_where(row)}")
        results[_where(row)] = result
        progress(result)

    default = default_programme(engine)
    vocabularies: dict[str, PackVocabulary] = {}

    def programme_of(row: Row) -> str:
        return _text(row.values.get("programme")) or default

    def vocabulary(programme: str) -> PackVocabulary:
        if programme not in vocabularies:
            vocabularies[programme] = PackVocabulary(load_programme(engine, programme))
        return vocabularies[programme]

    for row in rows:
        code = _text(row.values.get("code"))
        try:
            vocabulary(programme_of(row))
        except PackError as exc:
            problem = Problem(
                field="programme",
                en=f"{exc} — leave the column empty for the default programme {default}",
                zh=f"未知的考核办法“{programme_of(row)}”；留空则使用默认的 {default}",
            )
            answer(row, RowResult(row=row.number, where=_where(row), code=code, status="rejected", problems=[problem]))
            continue
        if getattr(row, "problems", None):
            answer(
                row,
                RowResult(row=row.number, where=_where(row), code=code, status="rejected", problems=list(row.problems)),
            )
            continue
        try:
            profile = TownProfile.model_validate(
                {**row.values, "programme": programme_of(row)}, context={"vocabulary": vocabulary(programme_of(row))}
            )
        except ValidationError as exc:
            answer(
                row,
                RowResult(row=row.number, where=_where(row), code=code, status="rejected", problems=problems_from(exc)),
            )
            continue
        groups.setdefault(profile.code, []).append((row, profile))

    valid = [(row, profile) for items in groups.values() for row, profile in items]

    def registered(i: int, status: Registered) -> None:
        row, profile = valid[i]
        if isinstance(status, ValueError):
            problem = Problem(field="code", en=str(status), zh="该小镇已登记，且数据不一致：层级和状态只能经考核改变")
            answer(
                row,
                RowResult(row=row.number, where=_where(row), code=profile.code, status="rejected", problems=[problem]),
            )
        else:
            answer(row, RowResult(row=row.number, where=_where(row), code=profile.code, accepted=True, status=status))

    await register_towns(
        client, engine, [p for _, p in valid], by, task_queue, concurrency=concurrency, done=registered
    )
    return [results[_where(r)] for r in rows]


# ---------------------------------------------------------------- reports


def rejection_problems(exc: WorkflowUpdateFailedError) -> list[Problem] | None:
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__  # what a Temporal error's .cause returns
    if isinstance(cause, ApplicationError) and cause.type == REJECTED and cause.details:
        return [Problem.model_validate(p) for p in cause.details[0]]
    return None


def _failure_text(exc: BaseException) -> str:
    cause: BaseException | None = exc
    text = str(exc)
    while cause is not None:
        text = getattr(cause, "message", None) or str(cause) or text
        cause = getattr(cause, "cause", None)
    return text


async def submit_report(client: Client, sub: ReportSubmission) -> ReportOutcome:
    handle = client.get_workflow_handle(workflow_id(sub.code))
    # the result type (ReportOutcome) comes from the update method's annotation. The ignore: temporalio's
    # ``workflow.update(name=...)`` overload types an async handler's result as the coroutine, not what it returns
    return await handle.execute_update(
        TownWorkflow.submit_report,
        sub,
        id=sub.submission_id or None,
    )


async def submit_batch(
    client: Client, batch: ReportBatch, update_id: str, wait: float | None = None
) -> BatchOutcome | None:
    """Send one town's rows; the same Update again while the server is away; None when it never answered."""
    wait = float(os.environ.get("TOWNS_RETRY_WAIT", "120")) if wait is None else wait
    handle = client.get_workflow_handle(workflow_id(batch.code))
    end = time.monotonic() + wait
    while True:
        try:
            # the result type (BatchOutcome) comes from the update method's annotation; the ignore as in
            # submit_report (temporalio types a named async update's result as the coroutine)
            return await handle.execute_update(TownWorkflow.submit_reports, batch, id=update_id)
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            pass
        except RPCError as exc:
            if exc.status not in _GONE:
                raise
        if time.monotonic() > end:
            return None
        await asyncio.sleep(1.0)


async def import_reports(
    client: Client,
    engine: Engine,
    rows: list[Row],
    *,
    by: str,
    source: str,
    role: str = OS_USER_ROLE,
    progress: Callable[[RowResult], None] = lambda r: None,
    concurrency: int = 16,
) -> list[RowResult]:
    """Send every valid row to its town's workflow, recorded as written by ``by`` in ``role`` (the
    authenticated user, or the operating-system user of the command line) — a 填报人 column of
    the file is kept with the raw row, but does not name the author."""
    batch_id = uuid.uuid4().hex[:12]
    with Session(engine) as s:
        known = set(s.exec(select(Town.code)).all())
    results: dict[str, RowResult] = {}
    by_town: dict[str, list[tuple[Row, ReportSubmission]]] = {}

    def answer(result: RowResult) -> None:
        results[result.where] = result
        progress(result)

    def refuse(row: Row, problems: list[Problem], code: str | None = None, period: str | None = None) -> None:
        quarantine(
            engine, "report", row, problems, source, by, code=code, period=period, key=f"{batch_id}:{_where(row)}"
        )
        answer(
            RowResult(row=row.number, where=_where(row), code=code, period=period, status="rejected", problems=problems)
        )

    for row in rows:
        values = {**row.values, "submitted_by": by, "submitted_role": role}
        values["submission_id"] = f"{batch_id}:{_where(row)}"
        values["source"] = f"{source}:{_where(row)}"
        code = _text(values.get("code"))
        period = _text(values.get("period"))
        if getattr(row, "problems", None):
            refuse(row, list(row.problems), code, period)
            continue
        try:
            sub = ReportSubmission.model_validate(values)
        except ValidationError as exc:
            refuse(row, problems_from(exc), code, period)
            continue
        if sub.code not in known:
            refuse(
                row,
                [
                    Problem(
                        field="code",
                        en=f"unknown town '{sub.code}': register it first (towns import towns FILE)",
                        zh=f"小镇代码：未登记的小镇 {sub.code}，请先导入小镇名录（towns import towns）",
                    )
                ],
                sub.code,
                sub.period,
            )
            continue
        by_town.setdefault(sub.code, []).append((row, sub))

    gate = asyncio.Semaphore(concurrency)

    async def send_town(code: str, items: list[tuple[Row, ReportSubmission]]) -> None:
        async with gate:
            for start in range(0, len(items), MAX_BATCH_ROWS):
                await send_part(code, items[start : start + MAX_BATCH_ROWS], start // MAX_BATCH_ROWS)

    async def send_part(code: str, items: list[tuple[Row, ReportSubmission]], part: int) -> None:
        batch = ReportBatch(
            code=code, rows=[ReportRow(row=_where(row), raw=jsonable(row.raw), submission=sub) for row, sub in items]
        )
        try:
            outcome = await submit_batch(client, batch, update_id=f"{batch_id}:{code}:{part}")
        except WorkflowUpdateFailedError as exc:
            problems = rejection_problems(exc) or [
                Problem(field="row", en=f"not recorded: {_failure_text(exc)}", zh=f"未能记录：{_failure_text(exc)}")
            ]
            for row, sub in items:
                refuse(row, problems, sub.code, sub.period)
            return
        except RPCError as exc:
            for row, sub in items:
                refuse(
                    row,
                    [
                        Problem(
                            field="code",
                            en=f"town {sub.code}'s workflow did not answer ({exc.message}); "
                            "re-import the towns file to restart it",
                            zh=f"小镇 {sub.code} 的流程没有响应，请重新导入小镇名录",
                        )
                    ],
                    sub.code,
                    sub.period,
                )
            return
        if outcome is None:
            for row, sub in items:
                answer(
                    RowResult(
                        row=row.number,
                        where=_where(row),
                        code=sub.code,
                        period=sub.period,
                        status="unanswered",
                        problems=[UNANSWERED],
                    )
                )
            return
        for (row, sub), a in zip(items, outcome.answers, strict=True):
            answer(_result(row, sub, a))

    await asyncio.gather(*(send_town(code, items) for code, items in by_town.items()))
    return [results[_where(r)] for r in rows]


def _result(row: Row, sub: ReportSubmission, a: RowAnswer) -> RowResult:
    return RowResult(
        row=row.number,
        where=_where(row),
        code=sub.code,
        period=sub.period,
        accepted=a.status != "rejected",
        status=a.status,
        revision=a.revision,
        failed_rules=list(a.failed_rules),
        problems=list(a.problems),
    )
