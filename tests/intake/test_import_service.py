"""The importer: every row answered, rejected rows quarantined raw, accepted rows kept."""

import pytest
from sqlmodel import Session, select

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, read_rows
from towns.intake.service import import_reports, import_towns
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport

pytestmark = pytest.mark.storage  # the database is the point here: both SQLite and PostgreSQL


async def test_import_towns_then_reports(env, engine, worker, tmp_path):
    # workflow ids are shared by the whole session's server: make the codes unique to this test
    px = worker[-6:]
    towns_csv = tmp_path / "towns.csv"
    towns_csv.write_text(
        "代码,名称,区县,层级,产业,列入年份,计划总投资\n"
        f"IM{px}-A,甲,柯桥区,省级创建,时尚,2016,50\n"
        f"IM{px}-B,乙,上虞区,市级,旅游,2015,36\n"
        f"IM{px}-C,丙,atlantis,市级,旅游,2015,36\n",
        encoding="utf-8",
    )
    rows, _ = read_rows(towns_csv, TOWN_HEADERS, ["code"])
    res = await import_towns(env.client, engine, rows, by="office", source="towns.csv", task_queue=worker)
    assert [r.accepted for r in res] == [True, True, False]
    assert res[2].problems[0].field == "district" and "keqiao (柯桥区)" in res[2].problems[0].en

    reports_csv = tmp_path / "reports.csv"
    reports_csv.write_text(
        "code,period,fai,industry_fai,nongov_fai,correction\n"
        f"IM{px}-A,2018-01,2,1.5,1.8,\n"  # 2 accepted
        f"IM{px}-A,2018-02,1,1.5,0.8,\n"  # 3 industry_fai above fai
        f"IM{px}-A,2018-02,3,2.5,2.0,\n"  # 4 accepted, nongov share fails
        f"IM{px}-A,2018-02,3.5,2.5,2.9,是\n"  # 5 correction → revision 2
        f"IM{px}-Z,2018-03,1,1,1,\n"  # 6 unknown town
        f"IM{px}-B,2099-03,1,1,1,\n"  # 7 future
        f"IM{px}-B,2018-06,4,3,3,\n"  # 8 accepted, behind pace (city)
        f"IM{px}-A,2018-01,2.1,1.5,1.8,\n"  # 9 duplicate with other figures, no correction
        f"IM{px}-A,2018-03,-1,0,0,\n"  # 10 negative
        f"IM{px}-A,2018-01,2,1.5,1.8,\n",  # 11 the same figures as row 2: unchanged
        encoding="utf-8",
    )
    rows, _ = read_rows(reports_csv, REPORT_HEADERS, ["code"])
    res = await import_reports(env.client, engine, rows, by="keqiao-stats", source="reports.csv")
    assert [r.row for r in res] == list(range(2, 12))
    assert [r.status for r in res] == [
        "accepted",
        "rejected",
        "accepted",
        "corrected",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
        "unchanged",
    ]
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


async def test_two_files_for_the_same_town_and_months_never_interleave(env, engine, worker, tmp_path):
    """Imported at the same moment: one file's months are taken, the other's are refused (or, marked as
    corrections, become the next revision of every month) — never six months from each."""
    import asyncio

    px = worker[-6:]
    code = f"CC{px}"
    towns_csv = tmp_path / "towns.csv"
    towns_csv.write_text(
        f"code,name,district,tier,industry,listed_year\n{code},甲,keqiao,provincial_creation,fashion,2016\n",
        encoding="utf-8",
    )
    rows, _ = read_rows(towns_csv, TOWN_HEADERS, ["code"])
    await import_towns(env.client, engine, rows, by="office", source="towns.csv", task_queue=worker)

    def file(name: str, scale: float, correction: str = ""):
        path = tmp_path / name
        path.write_text(
            "code,period,fai,industry_fai,nongov_fai,correction\n"
            + "".join(
                f"{code},2018-{m:02d},{scale * m},{scale * m * 0.8},{scale * m * 0.9},{correction}\n"
                for m in range(1, 7)
            ),
            encoding="utf-8",
        )
        return read_rows(path, REPORT_HEADERS, ["code"])[0]

    a, b = file("a.csv", 1.0), file("b.csv", 1.1)
    ra, rb = await asyncio.gather(
        import_reports(env.client, engine, a, by="a", source="a.csv"),
        import_reports(env.client, engine, b, by="b", source="b.csv"),
    )
    outcomes = {tuple(r.status for r in ra), tuple(r.status for r in rb)}
    assert outcomes == {("accepted",) * 6, ("rejected",) * 6}
    loser = ra if ra[0].status == "rejected" else rb
    assert all("already reported" in r.problems[0].en for r in loser)
    with Session(engine) as s:
        stored = s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all()
    assert len(stored) == 6 and len({r.source.split(":")[0] for r in stored}) == 1  # one file's months

    # the same race with corrections: every month gets the next revision, in one file's order
    c, d = file("c.csv", 1.2, "是"), file("d.csv", 1.3, "是")
    rc, rd = await asyncio.gather(
        import_reports(env.client, engine, c, by="c", source="c.csv"),
        import_reports(env.client, engine, d, by="d", source="d.csv"),
    )
    assert {r.revision for r in rc} | {r.revision for r in rd} == {2, 3}, [
        (r.status, r.problems) for r in rc + rd if not r.accepted
    ]
    assert len({r.revision for r in rc}) == 1 and len({r.revision for r in rd}) == 1
    with Session(engine) as s:
        latest = {}
        for r in s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all():
            if r.revision > latest.get(r.period, (0, ""))[0]:
                latest[r.period] = (r.revision, r.source.split(":")[0])
    assert len({src for _, src in latest.values()}) == 1  # the latest revision of every month from one file


async def test_a_file_correcting_a_whole_year_upwards_is_judged_as_a_whole(env, engine, worker, tmp_path):
    """Its January is compared with the February it also corrects, not with the old February."""
    px = worker[-6:]
    code = f"UP{px}"
    (tmp_path / "t.csv").write_text(
        f"code,name,district,tier,industry,listed_year\n{code},甲,keqiao,provincial_creation,fashion,2016\n",
        encoding="utf-8",
    )
    await import_towns(
        env.client,
        engine,
        read_rows(tmp_path / "t.csv", TOWN_HEADERS, ["code"])[0],
        by="office",
        source="t.csv",
        task_queue=worker,
    )

    def year(scale: float, correction: str = ""):
        path = tmp_path / f"y{scale}.csv"
        path.write_text(
            "code,period,fai,industry_fai,nongov_fai,correction\n"
            + "".join(
                f"{code},2018-{m:02d},{scale * m:.2f},{scale * m * 0.8:.2f},{scale * m * 0.9:.2f},{correction}\n"
                for m in range(1, 7)
            ),
            encoding="utf-8",
        )
        return read_rows(path, REPORT_HEADERS, ["code"])[0]

    first = await import_reports(env.client, engine, year(1.0), by="a", source="a.csv")
    assert [r.status for r in first] == ["accepted"] * 6
    corrected = await import_reports(env.client, engine, year(1.5, "是"), by="a", source="b.csv")
    assert [(r.status, r.revision) for r in corrected] == [("corrected", 2)] * 6
    # a correction that would leave the year falling is still refused: March above the April it keeps
    path = tmp_path / "bad.csv"
    path.write_text(f"code,period,fai,industry_fai,nongov_fai,correction\n{code},2018-03,9,7,8,是\n", encoding="utf-8")
    (bad,) = await import_reports(
        env.client, engine, read_rows(path, REPORT_HEADERS, ["code"])[0], by="a", source="bad.csv"
    )
    assert bad.status == "rejected" and "later month 2018-04" in bad.problems[0].en
