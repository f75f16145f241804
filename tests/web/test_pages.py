"""The console's pages as a browser meets them (httpx, no browser): logging in and out, the
redirect to /login, the CSRF token of every form, the towns in Chinese, a reporter's upload,
a staff override (its reason required) and an auditor who is offered nothing that writes."""

import re
import time

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session, select

from tests.web.conftest import PASSWORD
from tests.web.test_api_roles import csv, stored
from towns.models.round import DecisionRow
from towns.queries import round_detail
from towns.web.auth import SESSION_COOKIE, TOKEN_HOURS

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
POST_FORM = re.compile(r'<form method="post" action="([^"]*)"')


async def page_login(http: httpx.AsyncClient, name: str, password: str = PASSWORD, next_: str = "/towns") -> str:
    """Log in through the form; the session's CSRF token (read from a page's logout form)."""
    form = await http.get("/login", params={"next": next_})
    assert form.status_code == 200, form.text
    token = CSRF.search(form.text)
    assert token is not None
    r = await http.post("/login", data={"csrf": token.group(1), "username": name, "password": password, "next": next_})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == next_
    cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower().replace("samesite", "")  # plain http on 127.0.0.1: no Secure
    page = await http.get("/towns")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


async def test_login_logout_and_the_redirect_to_login(web):
    http, _ = web
    r = await http.get("/towns?district=keqiao")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ftowns%3Fdistrict%3Dkeqiao"
    assert (await http.get("/")).status_code == 303

    form = await http.get("/login")
    token = CSRF.search(form.text)
    assert token is not None
    wrong = await http.post("/login", data={"csrf": token.group(1), "username": "staff", "password": "nope"})
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text and "wrong user name or password" in wrong.text
    assert '<form method="post" action="/login"' in wrong.text  # the form again
    assert SESSION_COOKIE not in http.cookies

    csrf = await page_login(http, "staff")
    page = await http.get("/towns")
    assert "staff" in page.text and "市特色办" in page.text
    assert "http://127.0.0.1:8233/namespaces/default/workflows" in page.text
    assert (await http.get("/towns?lang=en")).text.count("Log out") == 1
    assert "退出" not in (await http.get("/towns")).text  # the language is kept in a cookie
    assert "退出" in (await http.get("/towns?lang=zh")).text

    refused = await http.post("/logout")
    assert refused.status_code == 403 and SESSION_COOKIE in http.cookies
    out = await http.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await http.get("/towns")).status_code == 303


class EightHoursAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - TOKEN_HOURS * 3600 - 60


async def test_an_expired_or_forged_session_goes_to_login(web):
    http, _ = web
    old = URLSafeTimedSerializer("test-secret", salt="session", signer=EightHoursAgo).dumps({"u": "staff", "csrf": "x"})
    forged = URLSafeTimedSerializer("other", salt="session").dumps({"u": "staff", "csrf": "x"})
    fresh = URLSafeTimedSerializer("test-secret", salt="session").dumps({"u": "staff", "csrf": "x"})
    for value in (old, forged, "nonsense"):
        http.cookies.set(SESSION_COOKIE, value, domain="towns.test")
        r = await http.get("/rounds")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Frounds", value
    http.cookies.set(SESSION_COOKIE, fresh, domain="towns.test")
    assert (await http.get("/rounds")).status_code == 200


async def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(web, engine):
    http, office = web
    kq = await office.register("CSRF", district="keqiao", listed_year=2016)
    assert (await http.post("/login", data={"username": "staff", "password": PASSWORD})).status_code == 403
    csrf = await page_login(http, "reporter-kq")
    before = stored(engine)
    body = {"code": kq, "period": "2019-03", "fai": "6", "industry_fai": "5", "nongov_fai": "5"}
    for data in (body, {**body, "csrf": "wrong"}):
        r = await http.post("/reports/new", data=data)
        assert r.status_code == 403 and "校验码" in r.text
    r = await http.post("/reports/upload", files=csv(f"{kq},2019-03,6,5,5,0.5"))
    assert r.status_code == 403
    assert stored(engine) == before
    ok = await http.post("/reports/new", data={**body, "csrf": csrf})
    assert ok.status_code == 200, ok.text
    assert "pace-provincial" in ok.text and stored(engine)["monthly_reports"] == before["monthly_reports"] + 1
    bad = await http.post("/reports/new", data={**body, "period": "2019-04", "fai": "-1", "csrf": csrf})
    assert bad.status_code == 422 and "固定资产投资：不能为负数" in bad.text


async def test_the_towns_page_lists_the_towns_in_chinese_and_filters(web):
    http, office = web
    kq = await office.register("KQT", district="keqiao", listed_year=2016)
    zj = await office.register("ZJT", district="zhuji", listed_year=2016)
    await page_login(http, "auditor")
    page = await http.get("/towns")
    assert page.status_code == 200
    for text in (kq, zj, "测试小镇", "柯桥区", "诸暨市", "省级创建", "创建中", "督查"):
        assert text in page.text, text
    only = await http.get("/towns", params={"district": "zhuji"})
    assert zj in only.text and kq not in only.text
    town = await http.get(f"/towns/{kq}")
    assert town.status_code == 200 and f"/namespaces/default/workflows/town-{kq}" in town.text
    missing = await http.get("/towns/NO-SUCH-TOWN")
    assert missing.status_code == 404 and "没有小镇 NO-SUCH-TOWN" in missing.text


async def test_a_reporter_s_upload_answers_each_row(web, engine):
    http, office = web
    kq = await office.register("UPL", district="keqiao", listed_year=2016)
    csrf = await page_login(http, "reporter-kq")
    form = await http.get("/reports/new")
    assert form.status_code == 200 and f'value="{kq}"' in form.text
    data = {"csrf": csrf}
    r = await http.post("/reports/upload", data=data, files=csv(f"{kq},2019-03,6,5,5,0.5", f"{kq},2019-04,-1,5,5,0.5"))
    assert r.status_code == 200, r.text
    rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", r.text, re.S)
    assert [status for status, _ in rows] == ["accepted", "rejected"]
    assert "已接收" in rows[0][1] and "2019-03" in rows[0][1]
    assert "固定资产投资：不能为负数（填写为 -1.0）" in rows[1][1] and "cannot be negative" in rows[1][1]

    await http.post("/logout", data={"csrf": csrf})
    staff = await page_login(http, "staff")
    assert (await http.get("/reports/new")).status_code == 403
    before = stored(engine)
    refused = await http.post("/reports/upload", data={"csrf": staff}, files=csv(f"{kq},2019-05,7,5,5,0.5"))
    assert refused.status_code == 403 and stored(engine) == before


async def test_staff_override_needs_a_reason_and_shows_on_the_town_page(web, engine):
    http, office = web
    code = await office.register("OVR", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    _, rid = await office.start("annual", 2018)
    csrf = await page_login(http, "staff")
    page = await http.get(f"/rounds/{rid}")
    assert page.status_code == 200 and f'action="/rounds/{rid}/approve"' in page.text
    assert f"/namespaces/default/workflows/{rid}" in page.text
    detail = round_detail(engine, rid)
    assert detail is not None
    proposed = detail.towns[0].proposed_grade
    other, other_zh = ("excellent", "优秀") if proposed != "excellent" else ("good", "良好")
    before = stored(engine)

    no_reason = await http.post(f"/rounds/{rid}/approve", data={"csrf": csrf, f"grade:{code}": other})
    assert no_reason.status_code == 422
    assert "改定等级须填写理由" in no_reason.text and "needs a reason" in no_reason.text
    assert stored(engine) == before

    reason = "现场核查：投资未到位"
    ok = await http.post(
        f"/rounds/{rid}/approve", data={"csrf": csrf, f"grade:{code}": other, f"reason:{code}": reason}
    )
    assert ok.status_code == 303, ok.text
    with Session(engine) as s:
        decision = s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).one()
    assert (decision.final_grade, decision.reason, decision.by) == (other, reason, "staff")
    town = await http.get(f"/towns/{code}")
    assert reason in town.text and other_zh in town.text and "staff" in town.text
    assert "完成全年目标还需投资" in town.text and '<svg class="chart"' in town.text
    heading = re.search(r"预计等级\s*<strong>([^<]+)</strong>", town.text)
    assert heading is not None and heading.group(1).strip() != "—"
    shown = await http.get(f"/rounds/{rid}")
    assert f'action="/rounds/{rid}/approve"' not in shown.text  # decided: nothing left to approve


async def test_an_auditor_is_offered_no_form_that_writes(web):
    http, office = web
    code = await office.register("AUD", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    _, rid = await office.start("annual", 2018)
    await page_login(http, "auditor")
    for path in ("/towns", f"/towns/{code}", "/rounds", f"/rounds/{rid}", "/audit", "/bulletins/2018Q4"):
        r = await http.get(path)
        assert r.status_code == 200, (path, r.text)
        assert POST_FORM.findall(r.text) == ["/logout"], path
    audit = await http.get("/audit")
    assert f"/audit/towns/{code}/history.xlsx" in audit.text
    sheet = await http.get(f"/audit/towns/{code}/history.xlsx")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    assert (await http.get("/api/bulletins/2018Q4/xlsx")).status_code == 200  # the cookie serves the API too
    assert (await http.get("/bulletins/2018Q4/html")).status_code == 200
    assert (await http.get("/reports/new")).status_code == 403
