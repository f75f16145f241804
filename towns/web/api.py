"""The REST API under /api: what other systems and the console's pages call.

Reads are open to every role; writes check the role (``require``) and, for a reporter, the
district of every town it writes for — before anything is sent to a workflow, so a refused
write stores nothing: no report, no ledger entry, no workflow event. Every write passes the
authenticated user and role on, and the ledger records them.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.background import BackgroundTask
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from ..audit.replay import ReplayResult, replay
from ..audit.verify import VerifyReport, verify
from ..bulletin import beijing_today, compute_bulletin, parse_quarter, write_xlsx
from ..bulletin.compute import Bulletin, BulletinRefused, QuarterError
from ..intake.files import REPORT_HEADERS, TOWN_HEADERS, FileError, Row, read_rows
from ..intake.service import (
    RowResult,
    default_programme,
    import_reports,
    import_towns,
    register_town,
    rejection_problems,
)
from ..models.finding import DEFAULT_PACK, Finding
from ..models.rejection import Problem, problems_from
from ..models.report import ReportSubmission
from ..models.round import Approval, Override, RoundKind, RoundRow
from ..models.town import Town, TownProfile
from ..models.user import User
from ..models.workflows import RoundStart, RoundView, round_id, workflow_id
from ..queries import RoundDetail, TownHistory, TownStatus, all_status, get_town, history, round_detail, town_status
from ..queries import published_bulletin as stored_bulletin
from ..rules.library import load_programme
from ..rules.pack import PackError
from ..rules.vocabulary import PackVocabulary
from ..workflows.round import RoundWorkflow
from ..workflows.town import TownWorkflow
from .accounts import authenticate
from .auth import CurrentUser, forbidden, require

router = APIRouter(prefix="/api")
REPORT_REQUIRED = ["code", "period", "fai", "industry_fai", "nongov_fai"]
MAX_UPLOAD = 32 * 2**20  # an upload beyond it is refused (a month of 10,000 towns is a few MB)
TOWN_REQUIRED = ["code", "name", "district", "tier", "industry"]
TOWN_CONFLICT_ZH = "该小镇已登记，且数据不一致：层级和状态只能经考核改变"
UNPROCESSABLE = 422
ROUND_VISIBLE_WAIT = 10.0  # seconds a started round is waited for until `GET /api/rounds/{id}` knows it


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def client_of(request: Request) -> Client:
    client: Client = request.app.state.client
    return client


Db = Annotated[Engine, Depends(engine_of)]
Temporal = Annotated[Client, Depends(client_of)]


def not_found(what: str, zh: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={"en": what, "zh": zh})


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


@router.post("/auth/token", response_model=Token, tags=["auth"])
def token(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """The OAuth2 password form: ``username`` and ``password``; a bearer token valid 8 hours."""
    login = authenticate(engine_of(request), form.username, form.password)
    if login.wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail={
                "en": f"too many failed logins: wait {login.wait:.0f} s",
                "zh": f"登录失败次数过多，请 {login.wait:.0f} 秒后再试",
            },
            headers={"Retry-After": str(int(login.wait) + 1)},
        )
    if login.user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={"en": "wrong user name or password", "zh": "用户名或密码错误"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=request.app.state.signer.token(login.user.name))


# ---------------------------------------------------------------- towns


@router.get("/towns", response_model=list[TownStatus], tags=["towns"])
def towns(user: CurrentUser, db: Db) -> list[TownStatus]:
    """Every town's status (the fields of `towns status --json`)."""
    return all_status(db)


@router.get("/towns/{code}", response_model=TownStatus, tags=["towns"])
def town(code: str, user: CurrentUser, db: Db) -> TownStatus:
    found = get_town(db, code)
    if found is None:
        raise not_found(f"no town {code}", f"没有小镇 {code}")
    return town_status(db, found)


@router.get("/towns/{code}/history", response_model=TownHistory, tags=["towns"])
def town_history(code: str, user: CurrentUser, db: Db) -> TownHistory:
    if get_town(db, code) is None:
        raise not_found(f"no town {code}", f"没有小镇 {code}")
    return history(db, code)


class TownIn(BaseModel):
    """One town, with the import's columns. Every field is read as the import reads a cell (through
    the programme's vocabulary: 柯桥 or keqiao), so that a missing or wrong one is answered, field by
    field, in Chinese and English (422 ``problems``) — not in FastAPI's own words."""

    model_config = ConfigDict(json_schema_extra={"required": [*TOWN_REQUIRED]})

    code: Any = None
    name: Any = None
    district: Any = None
    tier: Any = None
    industry: Any = None
    listed_year: Any = None
    creation_years: Any = None
    planned_investment: Any = None
    annual_fai_target: Any = None
    planned_area_km2: Any = None
    core_area_km2: Any = None
    state: Any = None
    batch: Any = None
    programme: Any = None


def _registered(db: Engine, code: str) -> TownStatus:
    found = get_town(db, code)
    assert found is not None  # just registered
    return town_status(db, found)


@router.post(
    "/towns",
    status_code=status.HTTP_201_CREATED,
    response_model=TownStatus,
    tags=["towns"],
    responses={
        409: {"description": "the town is registered already, with other values"},
        422: {"description": "the problems of each field"},
    },
)
async def register(request: Request, body: TownIn, db: Db, client: Temporal, user: User = require("staff")) -> Any:
    """Register one town (staff): 201 with its status; registering it again with the same values
    answers the same. 422 with the problems of each field (Chinese and English); 409 when the town
    is registered already with other values (its tier and state change only through rounds)."""
    values = {k: v for k, v in body.model_dump().items() if v is not None and v != ""}
    programme = str(values.get("programme") or "").strip() or await asyncio.to_thread(default_programme, db)
    try:
        pack = await asyncio.to_thread(load_programme, db, programme)
    except PackError as exc:
        return _unprocessable([Problem(field="programme", en=str(exc), zh=f"考核办法：没有“{programme}”")])
    try:
        profile = TownProfile.model_validate(
            {**values, "programme": programme}, context={"vocabulary": PackVocabulary(pack)}
        )
    except ValidationError as exc:
        return _unprocessable(problems_from(exc))
    try:
        await register_town(client, db, profile, by=user.name, task_queue=request.app.state.task_queue)
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"en": str(exc), "zh": TOWN_CONFLICT_ZH}) from None
    except RPCError as exc:
        raise _temporal_away(exc) from None
    return await asyncio.to_thread(_registered, db, profile.code)


# ---------------------------------------------------------------- reports


class ReportIn(BaseModel):
    """One monthly report, with the import's columns. Every field is read as the import reads a
    cell (the contract checks it), so that a missing or wrong one is answered, field by field, in
    Chinese and English (422 ``problems``) — not in FastAPI's own words."""

    model_config = ConfigDict(json_schema_extra={"required": [*REPORT_REQUIRED]})

    code: Any = None
    period: Any = None
    fai: Any = None
    industry_fai: Any = None
    nongov_fai: Any = None
    tax: Any = None
    new_enterprises: Any = None
    high_tech_enterprises: Any = None
    high_end_talents: Any = None
    tourists_10k: Any = None
    scenic_level: Any = None
    correction: Any = False


class ReportOut(BaseModel):
    code: str
    period: str
    status: str
    revision: int | None = None
    findings: list[Finding] = Field(default_factory=list)


def code_of(raw: Any) -> str:
    """A town code as the submission contract reads it (a code typed as a number, spaces around it)."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(int(raw)) if float(raw).is_integer() else str(raw)
    return "" if raw is None else str(raw).strip()


def may_write_for(user: User, towns_: list[Town | None], codes: list[str]) -> None:
    """403 unless the user may submit reports for these towns (a reporter: its own district, of
    its own programme). Unknown codes are left to the import, which refuses them."""
    if user.role != "reporter":
        raise forbidden(f"a {user.role} does not submit reports", f"当前角色（{user.role}）不能报送月报")
    outside = sorted(
        {
            c
            for c, t in zip(codes, towns_, strict=True)
            if t is not None and (t.district != user.district or t.programme != user.programme)
        }
    )
    if outside:
        raise forbidden(
            f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in your district ({user.district}): "
            "nothing was stored",
            f"{'、'.join(outside)} 不属于您所在的区县（{user.district}），未作任何保存",
        )


def _unprocessable(problems: list[Problem]) -> JSONResponse:
    return JSONResponse(status_code=UNPROCESSABLE, content={"problems": [p.model_dump() for p in problems]})


def _town(db: Engine, code: str) -> Town | None:
    with Session(db) as s:
        return s.get(Town, code) if code else None


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut, tags=["reports"])
async def submit_report(body: ReportIn, db: Db, client: Temporal, user: User = require("reporter")) -> Any:
    """One report: 201 with its findings, or 422 with the problems of each field (Chinese and English)."""
    code = code_of(body.code)
    found = await asyncio.to_thread(_town, db, code)
    may_write_for(user, [found], [code])
    problems: list[Problem] = []
    try:
        sub = ReportSubmission.model_validate(
            {
                **body.model_dump(exclude_none=True),
                "submitted_by": user.name,
                "submitted_role": user.role,
                "submission_id": f"web:{uuid.uuid4().hex}",
                "source": "api",
            }
        )
    except ValidationError as exc:
        problems = problems_from(exc)
    if code and found is None and not any(p.field == "code" for p in problems):
        problems.insert(
            0,
            Problem(
                field="code",
                en=f"unknown town '{code}': no town of this code is registered",
                zh=f"小镇代码：未登记的小镇“{code}”",
            ),
        )
    if problems:
        return _unprocessable(problems)
    handle = client.get_workflow_handle(workflow_id(sub.code))
    try:
        outcome = await handle.execute_update(TownWorkflow.submit_report, sub, id=sub.submission_id)
    except WorkflowUpdateFailedError as exc:
        refused = rejection_problems(exc)
        if refused is None:
            raise
        return _unprocessable(refused)
    return ReportOut(
        code=sub.code,
        period=sub.period,
        status=outcome.status,
        revision=outcome.revision,
        findings=outcome.evaluation.findings if outcome.evaluation is not None else [],
    )


class UploadOut(BaseModel):
    file: str
    accepted: int
    rejected: int
    rows: list[RowResult]
    warnings: list[str] = Field(default_factory=list)


async def read_upload(
    file: UploadFile, headers: dict[str, list[str]], required: list[str]
) -> tuple[list[Row], list[str]] | JSONResponse:
    """The rows of an uploaded CSV or XLSX, read as the import reads a file; 422 when the file
    as a whole cannot be read."""
    suffix = Path(file.filename or "upload.csv").suffix or ".csv"
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _unprocessable(
            [
                Problem(
                    field="file",
                    en=f"the file is larger than {MAX_UPLOAD // 2**20} MB: split it into smaller files",
                    zh=f"文件超过 {MAX_UPLOAD // 2**20} MB，请拆分后分批上传",
                )
            ]
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            rows, warnings = read_rows(path, headers, required)
        except FileError as exc:
            return _unprocessable([Problem(field="file", en=str(exc), zh=str(exc))])
    return rows, [str(w) for w in warnings]


def upload_out(file: UploadFile, results: list[RowResult], warnings: list[str]) -> UploadOut:
    return UploadOut(
        file=file.filename or "upload",
        accepted=sum(r.accepted for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        rows=results,
        warnings=warnings,
    )


@router.post("/reports/upload", response_model=UploadOut, tags=["reports"])
async def upload_reports(
    db: Db,
    client: Temporal,
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    user: User = require("reporter"),
) -> Any:
    """A file of monthly reports (CSV or XLSX, as the import reads them): the answer of every row.
    The rows accepted are kept even when others are refused."""
    got = await read_upload(file, REPORT_HEADERS, REPORT_REQUIRED)
    if isinstance(got, JSONResponse):
        return got
    rows, warnings = got
    codes = sorted({code_of(r.values.get("code")) for r in rows} - {""})

    def towns_of() -> dict[str, Town]:
        with Session(db) as s:
            return {t.code: t for t in s.exec(select(Town).where(Town.code.in_(codes))).all()}  # type: ignore[attr-defined]

    known = await asyncio.to_thread(towns_of)
    may_write_for(user, [known.get(c) for c in codes], codes)
    results = await import_reports(client, db, rows, by=user.name, source=file.filename or "upload", role=user.role)
    return upload_out(file, results, warnings)


@router.post("/towns/upload", response_model=UploadOut, tags=["towns"])
async def upload_towns(
    request: Request,
    db: Db,
    client: Temporal,
    file: Annotated[UploadFile, File(description="CSV or XLSX")],
    user: User = require("staff"),
) -> Any:
    """A file of towns (CSV or XLSX, as `towns import towns` reads it): the answer of every row.
    The rows registered are kept even when others are refused."""
    got = await read_upload(file, TOWN_HEADERS, TOWN_REQUIRED)
    if isinstance(got, JSONResponse):
        return got
    rows, warnings = got
    results = await import_towns(
        client,
        db,
        rows,
        by=user.name,
        source=file.filename or "upload",
        task_queue=request.app.state.task_queue,
    )
    return upload_out(file, results, warnings)


# ---------------------------------------------------------------- rounds


class RoundIn(BaseModel):
    kind: RoundKind
    year: int = Field(ge=2000, le=2100)
    city_tax_growth: float | None = None
    pack: str = DEFAULT_PACK


class RoundStarted(BaseModel):
    id: str
    state: str


def _round_state(db: Engine, rid: str) -> str | None:
    with Session(db) as s:
        row = s.get(RoundRow, rid)
        return row.state if row is not None else None


@router.post(
    "/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundStarted,
    tags=["rounds"],
    responses={409: {"description": "the round was started already"}, 422: {"description": "no such programme"}},
)
async def start_round(request: Request, body: RoundIn, db: Db, client: Temporal, user: User = require("staff")) -> Any:
    """Start a round; answered once the round is recorded (``GET /api/rounds/{id}`` knows it), its
    proposals still to come (poll until ``state`` is ``proposed``)."""
    try:
        await asyncio.to_thread(load_programme, db, body.pack)
    except PackError as exc:
        return _unprocessable([Problem(field="pack", en=str(exc), zh=f"考核办法：没有“{body.pack}”")])
    rid = round_id(body.year, body.kind.value, body.pack)
    try:
        await client.start_workflow(
            RoundWorkflow.run,
            RoundStart(
                kind=body.kind,
                year=body.year,
                pack_id=body.pack,
                city_tax_growth=body.city_tax_growth,
                started_by=user.name,
                started_role=user.role,
            ),
            id=rid,
            task_queue=request.app.state.task_queue,
        )
    except WorkflowAlreadyStartedError:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"en": f"{rid} was started already: GET /api/rounds/{rid}", "zh": f"{rid} 已启动"},
        ) from None
    except RPCError as exc:
        raise _temporal_away(exc) from None
    state = None
    for _ in range(int(ROUND_VISIBLE_WAIT / 0.05)):
        state = await asyncio.to_thread(_round_state, db, rid)
        if state is not None:
            break
        await asyncio.sleep(0.05)
    return RoundStarted(id=rid, state=state or "evaluating")


def _temporal_away(exc: RPCError) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail={
            "en": f"the workflow service did not answer ({exc.message}); try again",
            "zh": "流程服务暂无响应，请稍后重试",
        },
    )


@router.get("/rounds/{rid}", response_model=RoundDetail, tags=["rounds"])
def get_round(rid: str, user: CurrentUser, db: Db) -> RoundDetail:
    d = round_detail(db, rid)
    if d is None:
        raise not_found(f"no round {rid}", f"没有考核轮次 {rid}")
    return d


class OverrideIn(BaseModel):
    grade: str
    reason: str = Field(min_length=1, description="required: why the office overrides the proposed grade")


class ApprovalIn(BaseModel):
    overrides: dict[str, OverrideIn] = Field(default_factory=dict)
    note: str = ""


@router.post("/rounds/{rid}/approve", response_model=RoundView, tags=["rounds"])
async def approve_round(
    rid: str, body: ApprovalIn, db: Db, client: Temporal, user: User = require("staff")
) -> RoundView:
    if round_detail(db, rid) is None:
        raise not_found(f"no round {rid}", f"没有考核轮次 {rid}")
    approval = Approval(
        by=user.name,
        role=user.role,
        note=body.note,
        overrides=[Override(code=c, grade=o.grade, reason=o.reason) for c, o in body.overrides.items()],
    )
    try:
        view: RoundView = await client.get_workflow_handle(rid).execute_update(RoundWorkflow.approve, approval)
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc, "cause", None)
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"en": str(getattr(cause, "message", cause) or exc), "zh": "审定未通过"},
        ) from None
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise _temporal_away(exc) from None
        # the round's workflow is over: it was approved (and applied) already
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"en": f"{rid} is closed: it was approved already", "zh": f"{rid} 已审定，不能再次审定"},
        ) from None
    return view


# ---------------------------------------------------------------- bulletins and audit


def _bulletin(db: Engine, quarter: str, pack: str) -> Bulletin:
    """The published bulletin, else a draft; 404 for what is not a quarter, an unknown programme,
    or a quarter with no town on a list (nothing to show)."""
    try:
        year, q = parse_quarter(quarter)
    except QuarterError as exc:
        en, _, zh = str(exc).partition(" / ")
        raise not_found(en, f"“{quarter}”不是季度：{zh or '请写作 YYYYQn，如 2018Q2'}") from None
    published = stored_bulletin(db, quarter, pack)
    if published is not None:
        return published
    try:
        b = compute_bulletin(db, quarter, pack, issued_on=beijing_today(), draft=True)
    except BulletinRefused as exc:
        raise not_found(exc.en, exc.zh) from None
    except PackError as exc:
        raise not_found(str(exc), f"没有考核办法“{pack}”") from None
    if not b.towns:
        raise not_found(
            f"no town of {pack} was on a creation list in {year}Q{q}: no bulletin to show",
            f"{year}年第{q}季度没有列入创建名单的小镇（{pack}），无通报内容",
        )
    return b


@router.get("/bulletins/{quarter}", response_model=Bulletin, tags=["bulletins"])
def bulletin(quarter: str, user: CurrentUser, db: Db, pack: str = DEFAULT_PACK) -> Bulletin:
    """The quarter's published bulletin, else a draft computed now (``draft``: true)."""
    return _bulletin(db, quarter, pack)


@router.get("/bulletins/{quarter}/xlsx", tags=["bulletins"])
def bulletin_xlsx(quarter: str, user: CurrentUser, db: Db, pack: str = DEFAULT_PACK) -> FileResponse:
    b = _bulletin(db, quarter, pack)
    return xlsx_response(f"bulletin-{b.quarter}.xlsx", lambda path: write_xlsx(b, path))


def xlsx_response(name: str, write: Callable[[Path], object]) -> FileResponse:
    """A workbook written by ``write`` into a temporary folder, sent, then removed."""
    folder = Path(tempfile.mkdtemp(prefix="towns-xlsx-"))
    path = folder / name
    try:
        write(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        filename=path.name,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),  # removed once sent
    )


@router.get("/audit/verify", response_model=VerifyReport, tags=["audit"])
def audit_verify(db: Db, user: User = require("auditor", "staff")) -> VerifyReport:
    """The ledger's chain, hashes and head, and every record against its entry."""
    return verify(db)


@router.get("/audit/replay", response_model=list[ReplayResult], tags=["audit"])
def audit_replay(
    db: Db,
    user: User = require("auditor", "staff"),
    rid: Annotated[str | None, Query(alias="round", description="a round's id: replay its decisions")] = None,
    seq: Annotated[int | None, Query(description="one ledger entry's sequence number")] = None,
) -> list[ReplayResult]:
    """Re-evaluate recorded decisions from their recorded inputs under the recorded rule pack: per
    entry ``same``, or exactly what differs."""
    if rid is None and seq is None:
        raise HTTPException(
            UNPROCESSABLE,
            detail={"en": "name a round (?round=ID) or an entry (?seq=N)", "zh": "请指定考核轮次或台账序号"},
        )
    if rid is not None and seq is None and round_detail(db, rid) is None:
        raise not_found(f"no round {rid}", f"没有考核轮次 {rid}")
    return replay(db, seq=seq, round_id=None if seq is not None else rid)


__all__ = ["router"]
