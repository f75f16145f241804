"""An upload larger than the limit is refused whole, saying how to fix it, and nothing is stored."""

from sqlmodel import Session, func, select

from tests.web.conftest import login
from towns.models.report import MonthlyReport
from towns.web import api


async def test_an_oversized_upload_is_refused_with_a_reason(web, engine, monkeypatch):
    http, office = web
    code = await office.register("BIG", district="keqiao", listed_year=2016)
    monkeypatch.setattr(api, "MAX_UPLOAD", 100)
    rows = "code,period,fai,industry_fai,nongov_fai\n" + "".join(
        f"{code},2019-{m:02d},1,0.8,0.9\n" for m in range(1, 8)
    )
    me = await login(http, "reporter-kq")
    r = await http.post("/api/reports/upload", files={"file": ("big.csv", rows.encode(), "text/csv")}, headers=me)
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert "larger than" in problem["en"] and "拆分" in problem["zh"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(MonthlyReport).where(MonthlyReport.code == code)).one() == 0
