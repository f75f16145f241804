"""The importer: every row answered, rejected rows quarantined raw, accepted rows kept."""

from sqlmodel import Session, select

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, read_rows
from towns.intake.service import import_reports, import_towns
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport


async def test_import_towns_then_reports(env, engine, worker, tmp_path):
    # workflow ids are shared by the whole session's server: make the codes unique to this test
    px = worker[-6:]
    towns_csv = tmp_path / "towns.csv"
    towns_csv.write_text(
        "代码,名称,区县,层级,产业,列入年份,计划总投资\n"
        f"IM{px}-A,甲,柯桥区,省级创建,时尚,2016,50\n"
        f"IM{px}-B,乙,上虞区,市级,旅游,2015,36\n"
        f"IM{px}-C,丙,atlantis,市级,旅游,2015,36\n", encoding="utf-8")
    rows, _ = read_rows(towns_csv, TOWN_HEADERS, ["code"])
    res = await import_towns(env.client, engine, rows, by="office", source="towns.csv", task_queue=worker)
    assert [r.accepted for r in res] == [True, True, False]
    assert res[2].problems[0].field == "district" and "keqiao (柯桥区)" in res[2].problems[0].en

    reports_csv = tmp_path / "reports.csv"
    reports_csv.write_text(
        "code,period,fai,industry_fai,nongov_fai,correction\n"
        f"IM{px}-A,2018-01,2,1.5,1.8,\n"         # 2 accepted
        f"IM{px}-A,2018-02,1,1.5,0.8,\n"         # 3 industry_fai above fai
        f"IM{px}-A,2018-02,3,2.5,2.0,\n"         # 4 accepted, nongov share fails
        f"IM{px}-A,2018-02,3.5,2.5,2.9,是\n"     # 5 correction → revision 2
        f"IM{px}-Z,2018-03,1,1,1,\n"             # 6 unknown town
        f"IM{px}-B,2099-03,1,1,1,\n"             # 7 future
        f"IM{px}-B,2018-06,4,3,3,\n"             # 8 accepted, behind pace (city)
        f"IM{px}-A,2018-01,2.1,1.5,1.8,\n"       # 9 duplicate with other figures, no correction
        f"IM{px}-A,2018-03,-1,0,0,\n"            # 10 negative
        f"IM{px}-A,2018-01,2,1.5,1.8,\n",        # 11 the same figures as row 2: unchanged
        encoding="utf-8")
    rows, _ = read_rows(reports_csv, REPORT_HEADERS, ["code"])
    res = await import_reports(env.client, engine, rows, by="keqiao-stats", source="reports.csv")
    assert [r.row for r in res] == list(range(2, 12))
    assert [r.status for r in res] == ["accepted", "rejected", "accepted", "corrected", "rejected", "rejected",
                                       "accepted", "rejected", "rejected", "unchanged"]
    by_row = {r.row: r for r in res}
    assert by_row[3].problems[0].field == "industry_fai"
    assert by_row[4].failed_rules == ["nongov-share"]
    assert by_row[5].revision == 2
    assert "unknown town" in by_row[6].problems[0].en
    assert "future" in by_row[7].problems[0].en
    assert by_row[8].failed_rules == ["pace-city"]
    assert "already reported" in by_row[9].problems[0].en
    assert by_row[10].problems[0].field == "fai"
    assert by_row[11].accepted and by_row[11].revision == 1
    with Session(engine) as s:
        q = s.exec(select(Rejection).where(Rejection.kind == "report")).all()
        assert sorted(r.source for r in q) == [f"reports.csv:{n}" for n in (10, 3, 6, 7, 9)] or len(q) == 5
        assert all(r.raw and r.problems for r in q)
        assert next(r for r in q if r.source == "reports.csv:3").raw["industry_fai"] == "1.5"
        assert len(s.exec(select(MonthlyReport)).all()) == 4
