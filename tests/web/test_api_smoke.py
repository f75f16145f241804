"""The API as a reporter, staff and an auditor use it: one pass through each role's work."""

import json

from sqlmodel import Session, func, select

from tests.web.conftest import login
from towns.models.ledger import LedgerEntry
from towns.models.report import MonthlyReport


async def test_a_reporter_writes_for_its_district_only(web, engine):
    http, office = web
    kq = await office.register("KQ", district="keqiao", listed_year=2016)
    zj = await office.register("ZJ", district="zhuji", listed_year=2016)
    me = await login(http, "reporter-kq")
    body = {"code": kq, "period": "2018-06", "fai": 7.5, "industry_fai": 6, "nongov_fai": 6.5, "tax": 0.5}
    ok = await http.post("/api/reports", json=body, headers=me)
    assert ok.status_code == 201, ok.text
    assert {f["rule"] for f in ok.json()["findings"]} >= {"pace-provincial", "nongov-share"}
    with Session(engine) as s:
        entry = s.exec(select(LedgerEntry).where(LedgerEntry.code == kq, LedgerEntry.kind == "findings")).one()
        assert (entry.actor, json.loads(entry.body)["actor_role"]) == ("reporter-kq", "reporter")
        reports, entries = (
            s.exec(select(func.count()).select_from(MonthlyReport)).one(),
            s.exec(select(func.count()).select_from(LedgerEntry)).one(),
        )
    other = await http.post("/api/reports", json={**body, "code": zj}, headers=me)
    assert other.status_code == 403 and "not in your district" in other.json()["detail"]["en"]
    with Session(engine) as s:  # nothing stored
        assert s.exec(select(func.count()).select_from(MonthlyReport)).one() == reports
        assert s.exec(select(func.count()).select_from(LedgerEntry)).one() == entries
    bad = await http.post("/api/reports", json={**body, "fai": -1}, headers=me)
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "fai"
    assert (await http.get(f"/api/towns/{kq}", headers=me)).json()["code"] == kq
    assert (await http.get("/api/towns/NOPE", headers=me)).status_code == 404
    assert (await http.get("/api/towns")).status_code == 401


async def test_staff_starts_and_approves_an_auditor_only_reads(web):
    http, office = web
    code = await office.register("RND", district="keqiao", listed_year=2016)
    await office.december(code, 2018, fai=5)
    auditor, staff = await login(http, "auditor"), await login(http, "staff")
    refused = await http.post("/api/rounds", json={"kind": "annual", "year": 2018}, headers=auditor)
    assert refused.status_code == 403
    assert (await http.get("/api/audit/verify", headers=auditor)).json()["ok"] is True
    assert (await http.get("/api/audit/verify", headers=staff)).status_code == 200
    wrong = await http.post("/api/auth/token", data={"username": "staff", "password": "nope"})
    assert wrong.status_code == 401
