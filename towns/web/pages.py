"""The console's pages: server-rendered (Jinja2), Chinese by default, English with ``?lang=en``.

A page reads the signed session cookie (``towns_session``: the user and a CSRF token); without
a valid one it redirects (303) to ``/login?next=…``. Every POST form carries the session's CSRF
token in a hidden field ``csrf`` and is refused (403) without it; the login form, before any
session, uses a double-submit cookie (``towns_login_csrf``). Writes call the JSON API's own
functions (``towns.web.api``), so the role checks, the district check and "a refused write
stores nothing" are the API's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi import UploadFile as FastUpload
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from ..audit.export import history_xlsx
from ..audit.replay import replay
from ..audit.verify import verify
from ..bulletin import render_html
from ..bulletin.compute import project
from ..models.finding import FindingRow
from ..models.report import MonthlyReport
from ..models.round import GRADES_BY_KIND, Grade, RoundKind, TownRecord
from ..models.town import Town
from ..models.user import ROLE_ZH, User
from ..models.vocab import TownState
from ..models.workflows import workflow_id
from ..queries import all_status, get_town, history, round_detail, round_list, town_status
from ..rules import annual
from ..rules.library import load_programme
from ..rules.monthly import annual_target, exact
from .accounts import authenticate, get_user
from .api import (
    ApprovalIn,
    OverrideIn,
    ReportIn,
    ReportOut,
    RoundIn,
    RoundStarted,
    TownIn,
    _bulletin,
    approve_round,
    register,
    start_round,
    submit_report,
    upload_reports,
    upload_towns,
    xlsx_response,
)
from .auth import SESSION_COOKIE, TOKEN_HOURS, Signer, require

HERE = Path(__file__).parent
TEMPORAL_UI = "http://127.0.0.1:8233"
LANG_COOKIE = "towns_lang"
LOGIN_CSRF_COOKIE = "towns_login_csrf"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- sessions, language, errors


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class PageError(Exception):
    """A page's refusal: its status and a message in both languages."""

    def __init__(self, status: int, en: str, zh: str):
        self.status, self.en, self.zh = status, en, zh


@dataclass(frozen=True)
class Who:
    user: User
    csrf: str


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return "en" if lang == "en" else "zh"


def _next_of(request: Request) -> str:
    path = request.url.path
    query = str(request.url.query)
    return path + (f"?{query}" if query else "")


def who(request: Request) -> Who:
    """The logged-in user of the session cookie, else ``LoginRequired`` (a 303 to /login)."""
    signer: Signer = request.app.state.signer
    cookie = request.cookies.get(SESSION_COOKIE)
    data = signer.read(cookie, "session") if cookie else None
    user = get_user(request.app.state.engine, data["u"]) if data else None
    if data is None or user is None or user.disabled or not data.get("csrf"):
        raise LoginRequired(_next_of(request))
    return Who(user, data["csrf"])


async def posted(request: Request) -> tuple[Who, Any]:
    """The user and the form of a POST, refused (403) unless it carries the session's CSRF token."""
    me = who(request)
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not secrets.compare_digest(token, me.csrf):
        raise PageError(
            403,
            "the form's security token is missing or wrong: reload the page",
            "表单校验码缺失或错误，请刷新页面后重试",
        )
    return me, form


def role_check(user: User, *roles: str) -> None:
    """The API's own role check (``auth.require``), as a page's refusal."""
    try:
        require(*roles).dependency(user)
    except HTTPException as exc:
        raise _page_error(exc) from None


def temporal_link(request: Request, wid: str) -> str:
    base = str(getattr(request.app.state, "temporal_ui", TEMPORAL_UI)).rstrip("/")
    return f"{base}/namespaces/default/workflows/{quote(wid, safe='')}"


def render(
    request: Request, name: str, me: Who | None, status: int = 200, workflow: str | None = None, **ctx: Any
) -> HTMLResponse:
    lang = lang_of(request)

    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    other = "zh" if lang == "en" else "en"
    params = dict(request.query_params)
    params["lang"] = other
    context = {
        "me": me.user if me else None,
        "csrf": me.csrf if me else "",
        "role_zh": ROLE_ZH.get(me.user.role, me.user.role) if me else "",
        "lang": lang,
        "t": t,
        "switch_url": f"{request.url.path}?{urlencode(params)}",
        "switch_label": "English" if other == "en" else "中文",
        "temporal_url": temporal_link(request, workflow) if workflow else None,
        "temporal_base": str(getattr(request.app.state, "temporal_ui", TEMPORAL_UI)).rstrip("/"),
        **ctx,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _message(detail: Any) -> tuple[str, str]:
    if isinstance(detail, dict) and "en" in detail:
        return str(detail["en"]), str(detail.get("zh", detail["en"]))
    return str(detail), str(detail)


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error handling to ``app``."""
    if not hasattr(app.state, "temporal_ui"):
        app.state.temporal_ui = TEMPORAL_UI
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(f"/login?{urlencode({'next': exc.next_url})}", status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        me = None
        with contextlib.suppress(LoginRequired):
            me = who(request)
        return render(request, "error.html", me, status=exc.status, en=exc.en, zh=exc.zh)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)


# ---------------------------------------------------------------- login


def _safe_next(raw: str | None) -> str:
    return raw if raw and raw.startswith("/") and not raw.startswith("//") else "/towns"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/towns") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request))
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" and request.url.hostname not in ("127.0.0.1", "localhost")


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    token, cookie = form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not isinstance(token, str) or not cookie or not secrets.compare_digest(token, cookie):
        raise PageError(
            403, "the login form's security token is missing or wrong: reload it", "登录表单校验码错误，请刷新页面"
        )
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or ""))
    result = await asyncio.to_thread(authenticate, request.app.state.engine, name, password)
    if result.user is None:
        if result.wait:
            error = (
                f"登录失败次数过多，请 {result.wait:.0f} 秒后再试",
                f"too many failed logins: wait {result.wait:.0f} s",
            )
        else:
            error = ("用户名或密码错误", "wrong user name or password")
        return render(request, "login.html", None, status=401, next=next_url, login_csrf=cookie, error=error)
    csrf = secrets.token_urlsafe(24)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        request.app.state.signer.session(result.user.name, csrf),
        max_age=TOKEN_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await posted(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse("/towns", status_code=303)


# ---------------------------------------------------------------- towns


def _pace_factor(engine: Engine, programme: str, year: int) -> Fraction:
    pack = load_programme(engine, programme, date(year, 12, 31))
    return exact(pack.value("pace_factor")) if pack.has("pace_factor") else Fraction(1)


def _open_overdue(engine: Engine) -> dict[str, list[str]]:
    """Per town, the months found overdue (report-overdue) that still have no report."""
    with Session(engine) as s:
        overdue = s.exec(select(FindingRow.code, FindingRow.period).where(FindingRow.rule == "report-overdue")).all()
        reported = set(s.exec(select(MonthlyReport.code, MonthlyReport.period)).all())
    out: dict[str, list[str]] = {}
    for code, period in overdue:
        if (code, period) not in reported:
            out.setdefault(code, [])
            if period not in out[code]:
                out[code].append(period)
    return out


def _pace(engine: Engine, fai: float | None, period: str | None, target: float, programme: str) -> dict[str, Any]:
    if fai is None or period is None:
        return {"fai": None, "pace": None, "ahead": None}
    year, month = int(period[:4]), int(period[5:7])
    pace = exact(target) * month / 12 * _pace_factor(engine, programme, year)
    return {"fai": fai, "pace": round(float(pace), 2), "ahead": exact(fai) >= pace}


TOWN_FIELDS = [
    ("code", "小镇代码", "code"),
    ("name", "小镇名称", "name"),
    ("district", "区县", "district"),
    ("tier", "层级", "tier"),
    ("industry", "特色产业", "industry"),
    ("state", "状态", "state"),
    ("listed_year", "列入年份", "listed year"),
    ("creation_years", "创建期（年）", "creation years"),
    ("batch", "批次", "batch"),
    ("planned_investment", "计划总投资（亿元）", "planned investment (亿元)"),
    ("annual_fai_target", "年度投资目标（亿元）", "annual FAI target (亿元)"),
    ("planned_area_km2", "规划面积（平方公里）", "planned area (km²)"),
    ("core_area_km2", "核心区面积（平方公里）", "core area (km²)"),
]
REGISTER_PROGRAMME = "sx2018"


def _choices(engine: Engine) -> dict[str, list[tuple[str, str]]]:
    """The select boxes of the register form: the default programme's vocabulary, in Chinese."""
    pack = load_programme(engine, REGISTER_PROGRAMME)
    return {
        "district": [(d.id, d.zh) for d in pack.districts],
        "tier": [(t.id, t.zh) for t in pack.tiers],
        "industry": [(i.id, i.zh) for i in pack.industries],
        "state": [(st.value, st.zh) for st in TownState],
    }


@router.get("/towns", response_class=HTMLResponse)
async def towns_page(request: Request, district: str = "", tier: str = "", state: str = "") -> Response:
    return await _towns_page(request, who(request), district=district, tier=tier, state=state)


async def _towns_page(
    request: Request,
    me: Who,
    status: int = 200,
    district: str = "",
    tier: str = "",
    state: str = "",
    **ctx: Any,
) -> HTMLResponse:
    engine: Engine = request.app.state.engine

    def read() -> tuple[list[Any], dict[str, list[str]], dict[str, str]]:
        statuses = all_status(engine)
        with Session(engine) as s:
            programmes = {t.code: t.programme for t in s.exec(select(Town)).all()}
        return statuses, _open_overdue(engine), programmes

    statuses, overdue, programmes = await asyncio.to_thread(read)
    options = {
        "district": sorted({(s.district, s.district_zh) for s in statuses}),
        "tier": sorted({(s.tier, s.tier_zh) for s in statuses}),
        "state": sorted({(s.state.value, s.state_zh) for s in statuses}),
    }
    rows = []
    for s in statuses:
        if (district and s.district != district) or (tier and s.tier != tier) or (state and s.state.value != state):
            continue
        fai = s.last_report.fai if s.last_report else None
        pace = _pace(engine, fai, s.last_period, s.annual_fai_target, programmes.get(s.code, "sx2018"))
        rows.append({"s": s, "pace": pace, "overdue": overdue.get(s.code, []), "grade": _grade(s.last_grade)})
    chosen = {"district": district, "tier": tier, "state": state}
    choices = await asyncio.to_thread(_choices, engine) if me.user.role == "staff" else {}
    ctx.setdefault("values", {})
    ctx.setdefault("problems", [])
    ctx.setdefault("upload_problems", [])
    ctx.setdefault("error", None)
    return render(
        request,
        "towns.html",
        me,
        status=status,
        rows=rows,
        options=options,
        chosen=chosen,
        town_fields=TOWN_FIELDS,
        choices=choices,
        **ctx,
    )


@router.post("/towns", response_class=HTMLResponse)
async def towns_post(request: Request) -> Response:
    me, form = await posted(request)
    role_check(me.user, "staff")
    values = {k: str(form.get(k) or "").strip() for k, _, _ in TOWN_FIELDS}
    body = TownIn(**{k: v for k, v in values.items() if v != ""})
    try:
        out = await register(request, body, request.app.state.engine, request.app.state.client, me.user)
    except HTTPException as exc:
        if exc.status_code == 409:
            en, zh = _message(exc.detail)
            return await _towns_page(request, me, status=409, values=values, error=(zh, en))
        raise _page_error(exc) from None
    if isinstance(out, Response):
        return await _towns_page(request, me, status=422, values=values, problems=_problems(out))
    return RedirectResponse(f"/towns/{quote(out.code, safe='')}", status_code=303)


@router.post("/towns/upload", response_class=HTMLResponse)
async def towns_upload(request: Request) -> Response:
    me, form = await posted(request)
    role_check(me.user, "staff")
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _towns_page(
            request, me, status=422, upload_problems=[{"field": "file", "en": "choose a file", "zh": "请选择文件"}]
        )
    try:
        out = await upload_towns(
            request, request.app.state.engine, request.app.state.client, cast(FastUpload, file), me.user
        )
    except HTTPException as exc:
        raise _page_error(exc) from None
    if isinstance(out, Response):
        return await _towns_page(request, me, status=422, upload_problems=_problems(out))
    return render(request, "towns_upload_result.html", me, out=out)


def _grade(g: Any) -> str:
    if g is None:
        return ""
    try:
        return str(Grade.parse(str(getattr(g, "value", g))).zh)
    except ValueError:
        return str(g)


class Outlook(BaseModel):
    """What it takes: the latest year's figures against the pace line and the target."""

    year: int
    month: int
    fai: float
    target: float
    pace_factor: float
    pace_now: float
    to_pace: float
    to_target: float
    projected_fai: float
    projected_grade: str | None
    projected_grade_zh: str | None
    points: list[tuple[int, float]]


def _outlook(engine: Engine, town: Town) -> Outlook | None:
    with Session(engine) as s:
        reports = s.exec(
            select(MonthlyReport).where(MonthlyReport.code == town.code).order_by(col(MonthlyReport.period))
        ).all()
    latest: dict[str, MonthlyReport] = {}
    for r in reports:
        if r.period not in latest or r.revision > latest[r.period].revision:
            latest[r.period] = r
    if not latest:
        return None
    last_period = max(latest)
    year, month = int(last_period[:4]), int(last_period[5:7])
    pack = load_programme(engine, town.programme, date(year, 12, 31))
    target = annual_target(town.profile(), pack).value
    factor = exact(pack.value("pace_factor")) if pack.has("pace_factor") else Fraction(1)
    now = latest[last_period]
    fai = exact(now.fai)
    pace_now = target * month / 12 * factor
    december = {year: project(now.figures(), month)}
    if (before := latest.get(f"{year - 1}-12")) is not None:
        december[year - 1] = before.figures()
    record = TownRecord(
        profile=town.profile(),
        warnings=town.warnings,
        last_grade=town.last_grade,
        acceptance_failures=town.acceptance_failures,
        december=december,
        latest=december[year],
    )
    grade: str | None = None
    try:
        ctx = annual.annual_context([record], year, pack, None)
        grade = annual.evaluate_annual_town(record, year, pack, ctx).proposed_grade
    except (ValueError, KeyError):  # a pack without an annual assessment
        grade = None
    points = [(int(p[5:7]), float(r.fai)) for p, r in sorted(latest.items()) if p.startswith(f"{year}-")]
    return Outlook(
        year=year,
        month=month,
        fai=float(fai),
        target=round(float(target), 4),
        pace_factor=float(factor),
        pace_now=round(float(pace_now), 2),
        to_pace=round(float(max(Fraction(0), pace_now - fai)), 2),
        to_target=round(float(max(Fraction(0), target - fai)), 2),
        projected_fai=round(float(fai * 12 / month), 2),
        projected_grade=grade,
        projected_grade_zh=_grade(grade) if grade else None,
        points=points,
    )


def chart_svg(o: Outlook) -> dict[str, Any]:
    """The coordinates of the chart: YTD FAI by month against the target's straight line."""
    w, h, left, bottom, top = 480, 240, 50, 30, 15
    top_value = max([o.target, *[v for _, v in o.points]]) * 1.1 or 1.0

    def x(m: float) -> float:
        return round(left + (m / 12) * (w - left - 10), 1)

    def y(v: float) -> float:
        return round(h - bottom - (v / top_value) * (h - bottom - top), 1)

    return {
        "w": w,
        "h": h,
        "target_line": f"{x(0)},{y(0)} {x(12)},{y(o.target)}",
        "pace_line": f"{x(0)},{y(0)} {x(12)},{y(o.target * o.pace_factor)}",
        "fai_line": " ".join(f"{x(m)},{y(v)}" for m, v in [(0, 0.0), *o.points]),
        "dots": [(x(m), y(v), m, v) for m, v in o.points],
        "months": [(x(m), m) for m in range(1, 13)],
        "ticks": [(y(top_value * k / 4), round(top_value * k / 4, 1)) for k in range(5)],
        "x0": x(0),
        "x12": x(12),
        "base": y(0),
    }


@router.get("/towns/{code}", response_class=HTMLResponse)
async def town_page(request: Request, code: str) -> Response:
    me = who(request)
    engine: Engine = request.app.state.engine
    town = await asyncio.to_thread(get_town, engine, code)
    if town is None:
        raise PageError(404, f"no town {code}", f"没有小镇 {code}")
    status = await asyncio.to_thread(town_status, engine, town)
    events = (await asyncio.to_thread(history, engine, code)).events
    outlook = await asyncio.to_thread(_outlook, engine, town)
    return render(
        request,
        "town.html",
        me,
        workflow=workflow_id(code),
        s=status,
        events=events,
        o=outlook,
        chart=chart_svg(outlook) if outlook and outlook.points else None,
        grade=_grade(status.last_grade),
    )


# ---------------------------------------------------------------- reports


REPORT_FIELDS = [
    ("period", "月份（YYYY-MM）", "month (YYYY-MM)"),
    ("fai", "固定资产投资（亿元，累计）", "fixed-asset investment (亿元, YTD)"),
    ("industry_fai", "特色产业投资（亿元，累计）", "characteristic-industry investment (YTD)"),
    ("nongov_fai", "非政府投资（亿元，累计）", "non-government investment (YTD)"),
    ("tax", "税收收入（亿元，累计）", "tax revenue (YTD)"),
    ("new_enterprises", "新入驻企业", "new enterprises"),
    ("high_tech_enterprises", "高新技术企业", "high-tech enterprises"),
    ("high_end_talents", "高端人才", "high-end talents"),
    ("tourists_10k", "游客接待（万人次）", "tourist visits (10k)"),
    ("scenic_level", "景区等级（0–5）", "scenic level (0–5)"),
]


def _own_towns(engine: Engine, user: User) -> list[Town]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Town)
                .where(Town.district == user.district, Town.programme == user.programme)
                .order_by(col(Town.code))
            ).all()
        )


async def _report_form(request: Request, me: Who, status: int = 200, **ctx: Any) -> HTMLResponse:
    towns = await asyncio.to_thread(_own_towns, request.app.state.engine, me.user)
    ctx.setdefault("values", {})
    return render(request, "report_new.html", me, status=status, towns=towns, fields=REPORT_FIELDS, **ctx)


@router.get("/reports/new", response_class=HTMLResponse)
async def report_new(request: Request) -> Response:
    me = who(request)
    role_check(me.user, "reporter")
    return await _report_form(request, me)


def _page_error(exc: HTTPException) -> PageError:
    en, zh = _message(exc.detail)
    return PageError(exc.status_code, en, zh)


@router.post("/reports/new", response_class=HTMLResponse)
async def report_post(request: Request) -> Response:
    me, form = await posted(request)
    role_check(me.user, "reporter")
    values = {k: str(form.get(k) or "").strip() for k in ["code", *(f for f, _, _ in REPORT_FIELDS)]}
    body = ReportIn(**{k: v for k, v in values.items() if v != ""}, correction=form.get("correction") == "on")
    try:
        out = await submit_report(body, request.app.state.engine, request.app.state.client, me.user)
    except HTTPException as exc:
        raise _page_error(exc) from None
    if isinstance(out, ReportOut):
        return render(request, "report_result.html", me, workflow=workflow_id(out.code), out=out)
    problems = _problems(out)
    return await _report_form(request, me, status=422, values=values, problems=problems)


def _problems(response: Response) -> list[dict[str, str]]:
    data = json.loads(bytes(response.body))
    return list(data.get("problems", []))


@router.post("/reports/upload", response_class=HTMLResponse)
async def report_upload(request: Request) -> Response:
    me, form = await posted(request)
    role_check(me.user, "reporter")
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _report_form(
            request, me, status=422, upload_problems=[{"field": "file", "en": "choose a file", "zh": "请选择文件"}]
        )
    try:
        out = await upload_reports(request.app.state.engine, request.app.state.client, cast(FastUpload, file), me.user)
    except HTTPException as exc:
        raise _page_error(exc) from None
    if isinstance(out, Response):
        return await _report_form(request, me, status=422, upload_problems=_problems(out))
    return render(request, "upload_result.html", me, out=out)


# ---------------------------------------------------------------- rounds


@router.get("/rounds", response_class=HTMLResponse)
async def rounds_page(request: Request) -> Response:
    me = who(request)
    rounds = await asyncio.to_thread(round_list, request.app.state.engine)
    return render(request, "rounds.html", me, rounds=rounds, kinds=list(RoundKind), error=None)


@router.post("/rounds", response_class=HTMLResponse)
async def rounds_post(request: Request) -> Response:
    me, form = await posted(request)
    role_check(me.user, "staff")
    growth = str(form.get("city_tax_growth") or "").strip()
    try:
        body = RoundIn.model_validate(
            {"kind": form.get("kind"), "year": form.get("year"), "city_tax_growth": growth or None}
        )
    except ValidationError:
        rounds = await asyncio.to_thread(round_list, request.app.state.engine)
        error = ("轮次类型、年份或税收增速填写有误", "the kind, the year or the tax growth is not valid")
        return render(request, "rounds.html", me, status=422, rounds=rounds, kinds=list(RoundKind), error=error)
    try:
        out = await start_round(request, body, request.app.state.engine, request.app.state.client, me.user)
    except HTTPException as exc:
        raise _page_error(exc) from None
    if isinstance(out, RoundStarted):
        return RedirectResponse(f"/rounds/{out.id}", status_code=303)
    problems = _problems(out)
    rounds = await asyncio.to_thread(round_list, request.app.state.engine)
    error = (problems[0]["zh"], problems[0]["en"]) if problems else ("未能启动", "not started")
    return render(request, "rounds.html", me, status=422, rounds=rounds, kinds=list(RoundKind), error=error)


async def _round_page(request: Request, me: Who, rid: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    d = await asyncio.to_thread(round_detail, request.app.state.engine, rid)
    if d is None:
        raise PageError(404, f"no round {rid}", f"没有考核轮次 {rid}")
    grades = [(g.value, g.zh) for g in Grade if g in GRADES_BY_KIND[cast(RoundKind, RoundKind.parse(d.kind))]]
    ctx.setdefault("error", None)
    ctx.setdefault("values", {})
    return render(request, "round.html", me, status=status, workflow=rid, d=d, grades=grades, **ctx)


@router.get("/rounds/{rid}", response_class=HTMLResponse)
async def round_page(request: Request, rid: str) -> Response:
    return await _round_page(request, who(request), rid)


@router.post("/rounds/{rid}/approve", response_class=HTMLResponse)
async def round_approve(request: Request, rid: str) -> Response:
    me, form = await posted(request)
    role_check(me.user, "staff")
    d = await asyncio.to_thread(round_detail, request.app.state.engine, rid)
    if d is None:
        raise PageError(404, f"no round {rid}", f"没有考核轮次 {rid}")
    overrides: dict[str, OverrideIn] = {}
    missing = []
    values: dict[str, str] = {}
    for t in d.towns:
        grade = str(form.get(f"grade:{t.code}") or "").strip()
        reason = str(form.get(f"reason:{t.code}") or "").strip()
        values[f"grade:{t.code}"], values[f"reason:{t.code}"] = grade, reason
        if not grade or grade == t.proposed_grade.value:
            continue
        if not reason:
            missing.append(t.code)
            continue
        overrides[t.code] = OverrideIn(grade=grade, reason=reason)
    if missing:
        error = (
            f"改定等级须填写理由：{'、'.join(missing)}，未作任何保存",
            f"an override needs a reason: {', '.join(missing)}; nothing was stored",
        )
        return await _round_page(request, me, rid, status=422, error=error, values=values)
    body = ApprovalIn(overrides=overrides, note=str(form.get("note") or ""))
    try:
        await approve_round(rid, body, request.app.state.engine, request.app.state.client, me.user)
    except HTTPException as exc:
        en, zh = _message(exc.detail)
        if exc.status_code == 409:
            return await _round_page(request, me, rid, status=409, error=(zh + "：" + en, en), values=values)
        raise PageError(exc.status_code, en, zh) from None
    return RedirectResponse(f"/rounds/{rid}", status_code=303)


# ---------------------------------------------------------------- bulletins and audit


def _bulletin_or_404(engine: Engine, quarter: str, pack: str) -> Any:
    try:
        return _bulletin(engine, quarter, pack)
    except HTTPException as exc:
        raise _page_error(exc) from None


@router.get("/bulletins/{quarter}", response_class=HTMLResponse)
async def bulletin_page(request: Request, quarter: str, pack: str = "sx2018") -> Response:
    me = who(request)
    b = await asyncio.to_thread(_bulletin_or_404, request.app.state.engine, quarter, pack)
    return render(request, "bulletin.html", me, b=b, pack=pack)


@router.get("/bulletins/{quarter}/html", response_class=HTMLResponse)
async def bulletin_html(request: Request, quarter: str, pack: str = "sx2018") -> Response:
    who(request)
    b = await asyncio.to_thread(_bulletin_or_404, request.app.state.engine, quarter, pack)
    return HTMLResponse(render_html(b))


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> Response:
    me = who(request)
    role_check(me.user, "auditor", "staff")
    engine: Engine = request.app.state.engine
    report = await asyncio.to_thread(verify, engine)
    statuses = await asyncio.to_thread(all_status, engine)
    rounds = await asyncio.to_thread(round_list, engine)
    chosen = request.query_params.get("round") or ""
    results = None
    if chosen:
        if await asyncio.to_thread(round_detail, engine, chosen) is None:
            raise PageError(404, f"no round {chosen}", f"没有考核轮次 {chosen}")
        results = await asyncio.to_thread(lambda: replay(engine, round_id=chosen))
    return render(
        request, "audit.html", me, report=report, towns=statuses, rounds=rounds, chosen=chosen, results=results
    )


@router.get("/audit/towns/{code}/history.xlsx")
async def audit_history_xlsx(request: Request, code: str) -> Response:
    me = who(request)
    role_check(me.user, "auditor", "staff")
    engine: Engine = request.app.state.engine
    if await asyncio.to_thread(get_town, engine, code) is None:
        raise PageError(404, f"no town {code}", f"没有小镇 {code}")
    h = await asyncio.to_thread(history, engine, code)
    return await asyncio.to_thread(xlsx_response, f"history-{code}.xlsx", lambda path: history_xlsx(h, path))


__all__ = ["install", "router"]
