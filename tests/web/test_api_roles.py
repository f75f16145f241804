"""The API by role, as its users meet it: who may write what (and that a refused write stores
nothing and reaches no workflow), an upload's answer per row, the 422s and 404s in both
languages, a round started and approved by staff, and the login's guards."""

import asyncio
import json
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session, func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from tests.web.conftest import PASSWORD, login
from towns.models.finding import FindingRow
from towns.models.ledger import LedgerEntry
from towns.models.rejection import Problem, Rejection, problems_from
from towns.models.report import MonthlyReport, ReportSubmission
from towns.models.round import DecisionRow, RoundRow
from towns.models.user import User
from towns.models.workflows import round_id, workflow_id
from towns.web import accounts
from towns.web.accounts import authenticate, disable_user, wait_after
from towns.web.auth import TOKEN_HOURS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STORED = (MonthlyReport, FindingRow, Rejection, RoundRow, DecisionRow, LedgerEntry)


def stored(engine) -> dict[str, int]:
    """The rows of every table a write can add to."""
    with Session(engine) as s:
        return {t.__tablename__: s.exec(select(func.count()).select_from(t)).one() for t in STORED}


async def updates_of(client: Client, wid: str) -> int:
    """The Updates and signals a workflow has taken (its history's events of them)."""
    kinds = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    }
    history = await client.get_workflow_handle(wid).fetch_history()
    return sum(e.event_type in kinds for e in history.events)


async def exists(client: Client, wid: str) -> bool:
    try:
        await client.get_workflow_handle(wid).describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND, exc
        return False
    return True


async def until_proposed(http: httpx.AsyncClient, rid: str, headers: dict[str, str]) -> dict:
    """Poll the round until its proposals are ready (short awaits, bounded: 20 s at most)."""
    for _ in range(400):
        r = await http.get(f"/api/rounds/{rid}", headers=headers)
        assert r.status_code == 200, r.text  # known from the moment it is started
        if r.json()["state"] == "proposed":
            return r.json()
        await asyncio.sleep(0.05)
    pytest.fail(f"{rid} never reached 'proposed'")


def bilingual(detail: dict) -> None:
    assert set(detail) == {"en", "zh"} and detail["en"] and re.search(r"[\u4e00-\u9fff]", detail["zh"]), detail


def csv(*rows: str) -> dict:
    text = "\n".join(["code,period,fai,industry_fai,nongov_fai,tax", *rows]) + "\n"
    return {"file": ("reports.csv", text.encode("utf-8"), "text/csv")}


# ---------------------------------------------------------------- 1. the role matrix

WHO = {
    "reporter-own": "reporter-kq",  # keqiao: the town's district
    "reporter-other": "reporter-zj",  # zhuji
    "staff": "staff",
    "auditor": "auditor",
    "anonymous": None,
}
ALLOWED = {"reports": 201, "upload": 200, "rounds": 201, "approve": 200}
MAY = {
    "reports": {"reporter-own"},
    "upload": {"reporter-own"},
    "rounds": {"staff"},
    "approve": {"staff"},
}
# the year of the round a role tries to start (its id must not exist afterwards when refused)
START_YEAR = {"reporter-own": 2011, "reporter-other": 2012, "staff": 2017, "auditor": 2013, "anonymous": 2014}


def expected(endpoint: str, who: str) -> int:
    if endpoint in MAY and who in MAY[endpoint]:
        return ALLOWED[endpoint]
    return 401 if who == "anonymous" else 403


MATRIX = [
    pytest.param(endpoint, who, expected(endpoint, who), id=f"{endpoint}-{who}-{expected(endpoint, who)}")
    for endpoint in ALLOWED
    for who in WHO
]


@pytest.mark.parametrize(("endpoint", "who", "status"), MATRIX)
async def test_every_role_on_every_write(web, env, engine, endpoint, who, status):
    http, office = web
    kq = await office.register("KQ", district="keqiao", listed_year=2016)
    rid = None
    if endpoint == "approve":
        await office.december(kq, 2018, fai=5)
        _, rid = await office.start("annual", 2018)
    if endpoint == "rounds":
        rid = round_id(START_YEAR[who], "annual")
    headers = await login(http, WHO[who]) if WHO[who] else {}
    before, town_before = stored(engine), await office.query(kq)
    events_before = await updates_of(env.client, workflow_id(kq))
    round_events = await updates_of(env.client, rid) if endpoint == "approve" else 0

    if endpoint == "reports":
        body = {"code": kq, "period": "2019-03", "fai": 6, "industry_fai": 5, "nongov_fai": 5, "tax": 0.5}
        r = await http.post("/api/reports", json=body, headers=headers)
    elif endpoint == "upload":
        r = await http.post("/api/reports/upload", files=csv(f"{kq},2019-03,6,5,5,0.5"), headers=headers)
    elif endpoint == "rounds":
        r = await http.post("/api/rounds", json={"kind": "annual", "year": START_YEAR[who]}, headers=headers)
    else:
        r = await http.post(f"/api/rounds/{rid}/approve", json={"overrides": {}}, headers=headers)
    assert r.status_code == status, r.text

    if status in (401, 403):
        bilingual(r.json()["detail"])
        if status == 401:
            assert r.headers["www-authenticate"] == "Bearer"
        assert stored(engine) == before  # nothing stored: no report, finding, rejection, round, decision, entry
        town_after = await office.query(kq)
        assert (town_after.periods_reported, town_after.last_period) == (
            town_before.periods_reported,
            town_before.last_period,
        )
        assert await updates_of(env.client, workflow_id(kq)) == events_before  # no workflow event
        if endpoint == "rounds":
            assert not await exists(env.client, rid)
        if endpoint == "approve":
            assert await updates_of(env.client, rid) == round_events
            detail = (await http.get(f"/api/rounds/{rid}", headers=await login(http, "auditor"))).json()
            assert (detail["state"], detail["approved_by"]) == ("proposed", None)
        return

    after = stored(engine)
    if endpoint == "reports":
        assert r.json()["status"] == "accepted" and r.json()["revision"] == 1
        assert after["monthly_reports"] == before["monthly_reports"] + 1
        assert (await office.query(kq)).last_period == "2019-03"
    elif endpoint == "upload":
        assert (r.json()["accepted"], r.json()["rejected"]) == (1, 0)
        assert after["monthly_reports"] == before["monthly_reports"] + 1
    elif endpoint == "rounds":
        # answered once the round is recorded: still evaluating, or proposed already on a fast worker
        assert r.json()["id"] == rid and r.json()["state"] in ("evaluating", "proposed")
        detail = await until_proposed(http, rid, headers)
        assert detail["started_by"] == "staff" and [t["code"] for t in detail["towns"]] == [kq]
    else:
        assert r.json()["state"] == "applied" and r.json()["approved_by"] == "staff"
        assert after["decisions"] == before["decisions"] + 1


# ---------------------------------------------------------------- 2. uploads


async def test_an_upload_answers_each_row_as_the_command_line_does(web, env, engine):
    http, office = web
    kq = await office.register("UP", district="keqiao", listed_year=2016)
    me = await login(http, "reporter-kq")
    before = stored(engine)
    r = await http.post(
        "/api/reports/upload",
        files=csv(f"{kq},2019-03,6,5,5,0.5", f"{kq},2019-04,-1,5,5,0.5", f"{kq},2019-05,7,8,5,0.5"),
        headers=me,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["file"], out["accepted"], out["rejected"]) == ("reports.csv", 1, 2)
    good, negative, above = out["rows"]
    assert (good["row"], good["status"], good["accepted"], good["revision"]) == (2, "accepted", True, 1)
    assert negative["status"] == "rejected" and not negative["accepted"] and negative["period"] == "2019-04"
    assert negative["problems"] == [
        {"field": "fai", "en": "cannot be negative (got -1.0)", "zh": "固定资产投资：不能为负数（填写为 -1.0）"}
    ]
    assert [p["field"] for p in above["problems"]] == ["industry_fai"]
    assert "8.0 is above fai 7.0" in above["problems"][0]["en"]
    assert "8.0 大于固定资产投资 7.0" in above["problems"][0]["zh"]

    # the messages the command line prints (`towns import reports`: field: en (zh)) for the same cells
    for row, cells in ((negative, {"fai": "-1"}), (above, {"fai": "7", "industry_fai": "8"})):
        values = {"code": kq, "period": row["period"], "fai": "6", "industry_fai": "5", "nongov_fai": "5", **cells}
        with pytest.raises(ValueError) as exc:
            ReportSubmission.model_validate(values)
        cli = [p.text() for p in problems_from(exc.value)]  # type: ignore[arg-type]
        assert [Problem.model_validate(p).text() for p in row["problems"]] == cli

    after = stored(engine)
    assert after["monthly_reports"] == before["monthly_reports"] + 1
    assert after["rejections"] == before["rejections"] + 2  # the refused rows, kept raw in the quarantine
    with Session(engine) as s:
        kept = s.exec(select(Rejection).where(Rejection.code == kq).order_by(Rejection.id)).all()  # type: ignore[arg-type]
    assert [k.problems for k in kept] == [negative["problems"], above["problems"]]
    assert {k.submitted_by for k in kept} == {"reporter-kq"} and kept[0].raw["fai"] == "-1"
    assert (await office.query(kq)).last_period == "2019-03"


async def test_an_upload_with_a_row_of_another_district_stores_nothing(web, env, engine):
    http, office = web
    kq = await office.register("OWN", district="keqiao", listed_year=2016)
    zj = await office.register("THEIRS", district="zhuji", listed_year=2016)
    me = await login(http, "reporter-kq")
    before = stored(engine)
    events = {c: await updates_of(env.client, workflow_id(c)) for c in (kq, zj)}
    r = await http.post(
        "/api/reports/upload", files=csv(f"{kq},2019-03,6,5,5,0.5", f"{zj},2019-03,6,5,5,0.5"), headers=me
    )
    assert r.status_code == 403, r.text
    assert zj in r.json()["detail"]["en"] and zj in r.json()["detail"]["zh"] and kq not in r.json()["detail"]["en"]
    assert "nothing was stored" in r.json()["detail"]["en"]
    assert stored(engine) == before
    assert {c: await updates_of(env.client, workflow_id(c)) for c in (kq, zj)} == events
    assert (await office.query(kq)).periods_reported == 0


async def test_an_upload_that_is_not_a_table_is_422(web):
    http, _ = web
    me = await login(http, "reporter-kq")
    r = await http.post("/api/reports/upload", files={"file": ("r.csv", b"just some words\n", "text/csv")}, headers=me)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    assert problem["field"] == "file" and problem["en"] and problem["zh"]
    staff = await login(http, "staff")  # the role is checked first: staff never uploads, readable or not
    refused = await http.post(
        "/api/reports/upload", files={"file": ("r.csv", b"just some words\n", "text/csv")}, headers=staff
    )
    assert refused.status_code == 403, refused.text


# ---------------------------------------------------------------- 3. 422 and 404


async def test_a_bad_report_is_422_with_the_problem_of_each_field(web, env, engine):
    http, office = web
    kq = await office.register("BAD", district="keqiao", listed_year=2016)
    me = await login(http, "reporter-kq")
    good = {"code": kq, "period": "2019-03", "fai": 6, "industry_fai": 5, "nongov_fai": 5}
    before = stored(engine)

    missing = await http.post("/api/reports", json={k: v for k, v in good.items() if k != "fai"}, headers=me)
    assert missing.status_code == 422, missing.text
    assert missing.json()["problems"] == [
        {"field": "fai", "en": "is required but the cell is empty", "zh": "固定资产投资：为必填项，单元格为空"}
    ]

    words = await http.post("/api/reports", json={**good, "fai": "abc", "tax": "lots"}, headers=me)
    assert words.status_code == 422, words.text
    assert {p["field"]: (p["en"], p["zh"]) for p in words.json()["problems"]} == {
        "fai": ("'abc' is not a number", "固定资产投资：“abc”不是数字"),
        "tax": ("'lots' is not a number", "税收收入：“lots”不是数字"),
    }

    later = await http.post("/api/reports", json={**good, "period": "2999-01"}, headers=me)
    assert later.status_code == 422, later.text
    (problem,) = later.json()["problems"]
    assert problem["field"] == "period" and "2999-01 is in the future" in problem["en"] and "尚未到来" in problem["zh"]

    not_a_month = await http.post("/api/reports", json={**good, "period": "March"}, headers=me)
    assert not_a_month.status_code == 422
    assert [p["field"] for p in not_a_month.json()["problems"]] == ["period"]
    assert "月份" in not_a_month.json()["problems"][0]["zh"]

    unknown = await http.post("/api/reports", json={**good, "code": "NO-SUCH-TOWN"}, headers=me)
    assert unknown.status_code == 422, unknown.text
    (problem,) = unknown.json()["problems"]
    assert problem["field"] == "code" and "NO-SUCH-TOWN" in problem["en"] and "NO-SUCH-TOWN" in problem["zh"]

    assert stored(engine) == before  # a refused report leaves no report, no finding, no entry
    assert (await office.query(kq)).periods_reported == 0


async def test_unknown_rounds_and_quarters_are_404_with_a_message(web):
    http, _ = web
    staff, auditor = await login(http, "staff"), await login(http, "auditor")
    for r in (
        await http.get("/api/rounds/round-1999-annual", headers=auditor),
        await http.post("/api/rounds/round-1999-annual/approve", json={}, headers=staff),
    ):
        assert r.status_code == 404, r.text
        bilingual(r.json()["detail"])
        assert "round-1999-annual" in r.json()["detail"]["en"] and "round-1999-annual" in r.json()["detail"]["zh"]
    for quarter in ("2018Q5", "spring", "2018-13"):
        for path in (f"/api/bulletins/{quarter}", f"/api/bulletins/{quarter}/xlsx"):
            r = await http.get(path, headers=auditor)
            assert r.status_code == 404, (path, r.text)
            bilingual(r.json()["detail"])
            assert "not a quarter" in r.json()["detail"]["en"] and quarter in r.json()["detail"]["zh"]
    nobody = await http.get("/api/bulletins/2030Q1", headers=auditor)  # no town was on a list then
    assert nobody.status_code == 404, nobody.text
    assert "2030Q1" in nobody.json()["detail"]["en"] and "2030年" in nobody.json()["detail"]["zh"]
    no_pack = await http.get("/api/bulletins/2018Q2?pack=no-such-pack", headers=auditor)
    assert no_pack.status_code == 404, no_pack.text
    assert "no-such-pack" in no_pack.json()["detail"]["en"]
    no_town = await http.get("/api/towns/NO-SUCH-TOWN/history", headers=auditor)
    assert no_town.status_code == 404 and "NO-SUCH-TOWN" in no_town.json()["detail"]["zh"]


# ---------------------------------------------------------------- 4. a round: started, proposed, approved


async def test_staff_starts_a_round_and_approves_it_with_a_reasoned_override(web, env, engine):
    http, office = web
    a = await office.register("A", district="keqiao", listed_year=2016)
    b = await office.register("B", district="zhuji", listed_year=2016)
    for code, fai in ((a, 9), (b, 4)):
        await office.december(code, 2017, fai=fai - 1, tax=1.0)
        await office.december(code, 2018, fai=fai, tax=1.1)
    staff, auditor = await login(http, "staff"), await login(http, "auditor")
    started = await http.post(
        "/api/rounds", json={"kind": "annual", "year": 2018, "city_tax_growth": 0.08}, headers=staff
    )
    assert started.status_code == 201, started.text
    rid = started.json()["id"]
    assert rid == "round-2018-annual"
    again = await http.post("/api/rounds", json={"kind": "annual", "year": 2018}, headers=staff)
    assert again.status_code == 409 and rid in again.json()["detail"]["en"]

    detail = await until_proposed(http, rid, auditor)
    assert detail["started_by"] == "staff" and detail["city_tax_growth"] == 0.08
    proposed = {t["code"]: t["proposed_grade"] for t in detail["towns"]}
    assert set(proposed) == {a, b}
    other = "excellent" if proposed[b] != "excellent" else "good"
    events = await updates_of(env.client, rid)
    before = stored(engine)

    no_reason = await http.post(f"/api/rounds/{rid}/approve", json={"overrides": {b: {"grade": other}}}, headers=staff)
    assert no_reason.status_code == 422, no_reason.text
    blank = await http.post(
        f"/api/rounds/{rid}/approve", json={"overrides": {b: {"grade": other, "reason": "  "}}}, headers=staff
    )
    assert blank.status_code == 409, blank.text
    assert "has no reason" in blank.json()["detail"]["en"] and blank.json()["detail"]["zh"]
    bad_grade = await http.post(
        f"/api/rounds/{rid}/approve", json={"overrides": {b: {"grade": "named", "reason": "x"}}}, headers=staff
    )
    assert bad_grade.status_code == 409 and "not a grade of a annual round" in bad_grade.json()["detail"]["en"]
    by_auditor = await http.post(
        f"/api/rounds/{rid}/approve", json={"overrides": {b: {"grade": other, "reason": "督查核实"}}}, headers=auditor
    )
    assert by_auditor.status_code == 403
    assert stored(engine) == before and await updates_of(env.client, rid) == events  # nothing decided
    assert (await http.get(f"/api/rounds/{rid}", headers=auditor)).json()["state"] == "proposed"

    reason = "现场核查：特色产业投资已到位"
    ok = await http.post(
        f"/api/rounds/{rid}/approve",
        json={"overrides": {b: {"grade": other, "reason": reason}}, "note": "市特色办审定"},
        headers=staff,
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["state"], ok.json()["approved_by"]) == ("applied", "staff")

    with Session(engine) as s:
        decisions = {d.code: d for d in s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).all()}
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.round_id == rid)).all()
    assert {c: (d.by, d.final_grade) for c, d in decisions.items()} == {
        a: ("staff", proposed[a]),
        b: ("staff", other),
    }
    assert decisions[b].reason == reason and decisions[b].proposed_grade == proposed[b]
    by_kind: dict[str, list[dict]] = {}
    for e in entries:
        by_kind.setdefault(e.kind, []).append(json.loads(e.body))
    assert set(by_kind) >= {"approval", "override", "decision"}
    for kind in ("approval", "override", "decision"):
        assert {d["actor"] for d in by_kind[kind]} == {"staff"}, kind  # the role: test below
    (override,) = by_kind["override"]
    assert (override["code"], override["outcome"], override["reason"]) == (b, other, reason)

    shown = (await http.get(f"/api/rounds/{rid}", headers=auditor)).json()
    assert shown["state"] == "applied" and shown["approved_by"] == "staff"
    assert {t["code"]: (t["final_grade"], t["by"]) for t in shown["towns"]} == {
        a: (proposed[a], "staff"),
        b: (other, "staff"),
    }
    twice = await http.post(f"/api/rounds/{rid}/approve", json={}, headers=staff)
    assert twice.status_code == 409, twice.text  # its workflow is over: not a 500
    bilingual(twice.json()["detail"])
    assert "approved already" in twice.json()["detail"]["en"]
    assert (await http.get("/api/audit/verify", headers=auditor)).json()["ok"] is True


async def test_the_ledger_names_the_approver_s_role(web, engine):
    http, office = web
    code = await office.register("ROLE", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    _, rid = await office.start("annual", 2018)
    staff = await login(http, "staff")
    ok = await http.post(
        f"/api/rounds/{rid}/approve", json={"overrides": {code: {"grade": "warning", "reason": "核查"}}}, headers=staff
    )
    assert ok.status_code == 200, ok.text
    with Session(engine) as s:
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.round_id == rid)).all()
    written = [
        (e.kind, e.actor, json.loads(e.body)["actor_role"])
        for e in entries
        if e.kind in ("approval", "override", "decision")
    ]
    assert {kind for kind, _, _ in written} == {"approval", "override", "decision"}
    assert {(actor, role) for _, actor, role in written} == {("staff", "staff")}


async def test_a_round_of_an_unknown_programme_is_refused_before_it_starts(web, env):
    http, _ = web
    staff = await login(http, "staff")
    r = await http.post("/api/rounds", json={"kind": "annual", "year": 2015, "pack": "no-such-pack"}, headers=staff)
    assert r.status_code == 422, r.text
    assert "no-such-pack" in r.json()["problems"][0]["en"]
    assert not await exists(env.client, round_id(2015, "annual", "no-such-pack"))
    wrong_kind = await http.post("/api/rounds", json={"kind": "yearly", "year": 2015}, headers=staff)
    assert wrong_kind.status_code == 422


# ---------------------------------------------------------------- 5. logging in


def test_each_failure_after_the_free_ones_doubles_the_wait_up_to_five_minutes():
    assert [wait_after(n) for n in range(3)] == [timedelta(0)] * 3
    assert [wait_after(n).total_seconds() for n in range(3, 8)] == [2, 4, 8, 16, 32]
    assert wait_after(20) == wait_after(1000) == timedelta(minutes=5)


def test_authenticate_counts_failures_and_waits_on_the_given_clock(engine):
    accounts.add_user(engine, "clerk", "auditor", PASSWORD, by="tester")
    t0 = datetime(2018, 6, 1, 8, 0, tzinfo=UTC)
    for n in range(3):  # the free failures: no wait between them
        assert authenticate(engine, "clerk", "wrong", now=t0 + timedelta(seconds=n)) == accounts.Login(None)
    waiting = authenticate(engine, "clerk", PASSWORD, now=t0 + timedelta(seconds=3))
    assert waiting.user is None and waiting.wait == pytest.approx(1.0)  # 2 s after the third failure, even right
    assert authenticate(engine, "clerk", "wrong", now=t0 + timedelta(seconds=5)).wait == 0  # tried once more: fails
    assert authenticate(engine, "clerk", PASSWORD, now=t0 + timedelta(seconds=8)).wait == pytest.approx(1.0)
    ok = authenticate(engine, "clerk", PASSWORD, now=t0 + timedelta(seconds=9))
    assert ok.user is not None and ok.user.name == "clerk"
    with Session(engine) as s:
        user = s.get(User, "clerk")
        assert user is not None and (user.failed_logins, user.last_failed_at) == (0, None)
    assert authenticate(engine, "nobody", PASSWORD, now=t0) == accounts.Login(None)


class FrozenClock(datetime):
    """``datetime`` with a ``now`` that stands still (set ``at``)."""

    at = datetime(2018, 6, 1, 8, 0, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.at if tz is None else cls.at.astimezone(tz)


async def test_a_wrong_password_is_401_and_repeated_failures_429(web, engine, monkeypatch):
    http, _ = web
    monkeypatch.setattr(accounts, "datetime", FrozenClock)
    for _ in range(3):
        r = await http.post("/api/auth/token", data={"username": "staff", "password": "not it"})
        assert r.status_code == 401 and r.json()["detail"] == {
            "en": "wrong user name or password",
            "zh": "用户名或密码错误",
        }
    slowed = await http.post("/api/auth/token", data={"username": "staff", "password": PASSWORD})
    assert slowed.status_code == 429, slowed.text
    assert slowed.headers["retry-after"] == "3"  # 2 s, rounded up
    assert "wait 2 s" in slowed.json()["detail"]["en"] and "2 秒" in slowed.json()["detail"]["zh"]
    unknown = await http.post("/api/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401  # an unknown name says no more than a wrong password
    monkeypatch.setattr(FrozenClock, "at", FrozenClock.at + timedelta(seconds=2))
    assert (await http.post("/api/auth/token", data={"username": "staff", "password": PASSWORD})).status_code == 200
    # many failures: the longest wait is five minutes
    with Session(engine) as s:
        user = s.get(User, "auditor")
        assert user is not None
        user.failed_logins, user.last_failed_at = 30, FrozenClock.at
        s.add(user)
        s.commit()
    capped = await http.post("/api/auth/token", data={"username": "auditor", "password": PASSWORD})
    assert capped.status_code == 429 and capped.headers["retry-after"] == "301"


async def test_a_disabled_user_s_token_stops_working_at_once(web, engine):
    http, _ = web
    me = await login(http, "reporter-zj")
    assert (await http.get("/api/towns", headers=me)).status_code == 200
    disable_user(engine, "reporter-zj", by="tester")
    r = await http.get("/api/towns", headers=me)
    assert r.status_code == 401 and r.json()["detail"]["zh"] == "该账号已停用或不存在"
    again = await http.post("/api/auth/token", data={"username": "reporter-zj", "password": PASSWORD})
    assert again.status_code == 401


class EightHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - TOKEN_HOURS * 3600 - 60


async def test_an_expired_or_forged_token_is_401(web):
    http, _ = web
    old = URLSafeTimedSerializer("test-secret", salt="api-token", signer=EightHoursAgo).dumps({"u": "staff"})
    fresh = URLSafeTimedSerializer("test-secret", salt="api-token").dumps({"u": "staff"})
    forged = URLSafeTimedSerializer("another secret", salt="api-token").dumps({"u": "staff"})
    assert (await http.get("/api/towns", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200
    for token in (old, forged, "nonsense"):
        r = await http.get("/api/towns", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert "expired" in r.json()["detail"]["en"]


async def test_the_auditor_reads_verifies_and_exports(web, engine, tmp_path, monkeypatch):
    http, office = web
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    code = await office.register("AUD", district="keqiao", listed_year=2016)
    kq = await login(http, "reporter-kq")
    body = {"code": code, "period": "2018-06", "fai": 7.5, "industry_fai": 6, "nongov_fai": 6.5, "tax": 0.5}
    assert (await http.post("/api/reports", json=body, headers=kq)).status_code == 201
    auditor = await login(http, "auditor")
    before = stored(engine)

    verified = await http.get("/api/audit/verify", headers=auditor)
    assert verified.status_code == 200 and verified.json()["ok"] is True
    assert (await http.get("/api/audit/verify", headers=kq)).status_code == 403
    assert (await http.get("/api/audit/verify")).status_code == 401

    bulletin = await http.get("/api/bulletins/2018Q2", headers=auditor)
    assert bulletin.status_code == 200, bulletin.text
    assert bulletin.json()["quarter"] == "2018Q2" and bulletin.json()["draft"] is True
    assert code in {t["code"] for t in bulletin.json()["towns"]}
    sheet = await http.get("/api/bulletins/2018Q2/xlsx", headers=auditor)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == XLSX
    assert "bulletin-2018Q2.xlsx" in sheet.headers["content-disposition"]
    assert sheet.content[:2] == b"PK"  # a zip: the xlsx container
    assert list((tmp_path / "tmp").iterdir()) == []  # the file made for the answer is gone once sent
    history = await http.get(f"/api/towns/{code}/history", headers=auditor)
    assert history.status_code == 200
    assert stored(engine) == before  # the auditor's reads change nothing
