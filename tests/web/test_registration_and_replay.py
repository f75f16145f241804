"""Registering towns in the browser and by the API (staff only; the import's vocabulary and its
bilingual problems), and replaying a finished round's decisions from the audit page and the API."""

import re

from sqlmodel import Session, func, select

from tests.web.conftest import login
from tests.web.test_pages import POST_FORM, page_login
from towns.models.town import Town


def towns_stored(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Town)).one()


def one_town(code: str, **over) -> dict:
    return {
        "code": code,
        "name": "登记测试小镇",
        "district": "柯桥",  # read through the programme's vocabulary, as the import reads it
        "tier": "provincial_creation",
        "industry": "fashion",
        "listed_year": 2016,
        "planned_investment": 50,
        **over,
    }


def towns_csv(*rows: str) -> dict:
    text = "\n".join(["code,name,district,tier,industry,listed_year,planned_investment", *rows]) + "\n"
    return {"file": ("towns.csv", text.encode("utf-8"), "text/csv")}


async def test_staff_registers_a_town_by_the_api(web, engine):
    http, office = web
    code = office.code("REG")
    staff = await login(http, "staff")
    r = await http.post("/api/towns", json=one_town(code), headers=staff)
    assert r.status_code == 201, r.text
    assert r.json()["code"] == code and r.json()["district"] == "keqiao"
    shown = await http.get(f"/api/towns/{code}", headers=staff)
    assert shown.status_code == 200 and shown.json()["district_zh"] == "柯桥区"

    again = await http.post("/api/towns", json=one_town(code), headers=staff)
    assert again.status_code == 201, again.text  # the same values: the same answer
    other = await http.post("/api/towns", json=one_town(code, tier="provincial_cultivation"), headers=staff)
    assert other.status_code == 409, other.text
    assert "already registered" in other.json()["detail"]["en"] and "已登记" in other.json()["detail"]["zh"]


async def test_reporters_and_auditors_cannot_register(web, engine):
    http, office = web
    before = towns_stored(engine)
    for name in ("reporter-kq", "auditor"):
        headers = await login(http, name)
        r = await http.post("/api/towns", json=one_town(office.code(f"NO-{name}")), headers=headers)
        assert r.status_code == 403, (name, r.text)
        up = await http.post(
            "/api/towns/upload",
            files=towns_csv(f"{office.code('NOUP')},x,keqiao,provincial_creation,fashion,2016,50"),
            headers=headers,
        )
        assert up.status_code == 403, (name, up.text)
    assert towns_stored(engine) == before


async def test_a_bad_district_is_named_in_chinese_and_english(web, engine):
    http, office = web
    before = towns_stored(engine)
    staff = await login(http, "staff")
    r = await http.post("/api/towns", json=one_town(office.code("BAD"), district="火星区"), headers=staff)
    assert r.status_code == 422, r.text
    problems = r.json()["problems"]
    district = [p for p in problems if p["field"] == "district"]
    assert district, problems
    assert "火星区" in district[0]["zh"] and "区县" in district[0]["zh"]
    assert "火星区" in district[0]["en"] and "district" in district[0]["en"]
    missing = await http.post("/api/towns", json={"name": "无代码"}, headers=staff)
    assert missing.status_code == 422 and {p["field"] for p in missing.json()["problems"]} >= {"code"}
    assert towns_stored(engine) == before


async def test_staff_registers_by_the_page_form_and_upload(web, engine):
    http, office = web
    csrf = await page_login(http, "staff")
    page = await http.get("/towns")
    assert "登记小镇" in page.text and '<select name="district">' in page.text and "柯桥区" in page.text
    assert set(POST_FORM.findall(page.text)) >= {"/towns", "/towns/upload", "/logout"}

    code = office.code("FORM")
    form = {"csrf": csrf, **{k: str(v) for k, v in one_town(code, district="keqiao").items()}, "state": ""}
    r = await http.post("/towns", data=form)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/towns/{code}"
    town = await http.get(f"/towns/{code}")
    assert town.status_code == 200 and "柯桥区" in town.text

    before = towns_stored(engine)
    bad = await http.post("/towns", data={**form, "code": office.code("FORM2"), "district": "火星区"})
    assert bad.status_code == 422 and "火星区" in bad.text and "区县" in bad.text
    assert towns_stored(engine) == before
    assert (await http.post("/towns", data={**form, "csrf": "wrong"})).status_code == 403

    good, wrong = office.code("UP1"), office.code("UP2")
    up = await http.post(
        "/towns/upload",
        data={"csrf": csrf},
        files=towns_csv(
            f"{good},上传小镇,柯桥区,provincial_creation,fashion,2016,50",
            f"{wrong},上传小镇二,火星区,provincial_creation,fashion,2016,50",
        ),
    )
    assert up.status_code == 200, up.text
    rows = re.findall(r"<tr class=\"(\w+)\">(.*?)</tr>", up.text, re.S)
    assert [status for status, _ in rows] == ["registered", "rejected"]
    assert good in rows[0][1] and "已登记" in rows[0][1]
    assert wrong in rows[1][1] and "火星区" in rows[1][1] and "区县" in rows[1][1]
    assert office.town(good) is not None and office.town(wrong) is None


async def test_a_reporter_is_offered_no_register_form(web, engine):
    http, office = web
    csrf = await page_login(http, "reporter-kq")
    page = await http.get("/towns")
    assert "/towns/upload" not in page.text and POST_FORM.findall(page.text) == ["/logout"]
    before = towns_stored(engine)
    form = {"csrf": csrf, **{k: str(v) for k, v in one_town(office.code("RPT")).items()}}
    assert (await http.post("/towns", data=form)).status_code == 403
    assert towns_stored(engine) == before


async def test_replay_of_a_finished_round_is_the_same(web):
    http, office = web
    code = await office.register("RPL", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    rid = (await office.round("annual", 2018)).id

    for name in ("auditor", "staff"):
        headers = await login(http, name)
        r = await http.get("/api/audit/replay", params={"round": rid}, headers=headers)
        assert r.status_code == 200, r.text
        results = r.json()
        assert results and all(x["same"] and x["differences"] == [] for x in results), results
        assert {"proposal", "decision"} <= {x["kind"] for x in results}
    assert (await http.get("/api/audit/replay", params={"round": "round-nope"}, headers=headers)).status_code == 404

    await page_login(http, "auditor")
    audit = await http.get("/audit")
    assert audit.status_code == 200 and "重放" in audit.text and f'value="{rid}"' in audit.text
    assert POST_FORM.findall(audit.text) == ["/logout"]  # replay only reads
    shown = await http.get("/audit", params={"round": rid})
    assert shown.status_code == 200
    entries = re.findall(r'<tr class="(same|differs)">', shown.text)
    assert entries and set(entries) == {"same"}
    assert "一致" in shown.text and "same" in shown.text


async def test_a_reporter_cannot_replay(web):
    http, office = web
    code = await office.register("RPR", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    rid = (await office.round("annual", 2018)).id
    reporter = await login(http, "reporter-kq")
    assert (await http.get("/api/audit/replay", params={"round": rid}, headers=reporter)).status_code == 403
    await page_login(http, "reporter-kq")
    assert (await http.get("/audit", params={"round": rid})).status_code == 403
