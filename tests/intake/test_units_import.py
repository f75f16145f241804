"""Units in headers, end to end: figures recorded in 亿元, a refused row's cells quarantined as sent."""

import pytest
from sqlmodel import Session, select

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, read_rows
from towns.intake.service import import_reports, import_towns
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport
from towns.models.town import Town

pytestmark = pytest.mark.storage  # the database is the point here: both SQLite and PostgreSQL


async def test_a_file_in_wan_yuan_is_recorded_in_yi_yuan_and_kept_as_sent(env, engine, worker, tmp_path):
    code = f"UN{worker[-6:]}"
    towns_csv = tmp_path / "towns.csv"
    towns_csv.write_text(
        f"代码,名称,区县,层级,产业,列入年份,计划总投资（万元）,规划面积（亩）\n{code},甲,柯桥区,省级创建,时尚,2016,500000,4500\n",
        encoding="utf-8",
    )
    rows, _ = read_rows(towns_csv, TOWN_HEADERS, ["code"])
    (registered,) = await import_towns(env.client, engine, rows, by="office", source="towns.csv", task_queue=worker)
    assert registered.accepted, registered.problems
    with Session(engine) as s:
        stored = s.get(Town, code)
        assert stored is not None and (stored.planned_investment, stored.planned_area_km2) == (50.0, 3.0)

    reports_csv = tmp_path / "reports.csv"
    reports_csv.write_text(
        "小镇代码,月份,固定资产投资（万元）,特色产业投资（万元）,非政府投资（万元）,税收收入（万元）\n"
        f"{code},2018-03,123456,100000,110000,4000\n"  # 2: 12.3456 亿元
        f"{code},2018-04,150000,160000,110000,5000\n"  # 3: 特色产业投资 above 固定资产投资
        f"{code},2018-05,4000000,100000,110000,5000\n",  # 4: 400 亿元, beyond the rule pack's limit
        encoding="utf-8",
    )
    rows, warnings = read_rows(reports_csv, REPORT_HEADERS, ["code"])
    assert any("converted from 万元 to 亿元" in w for w in warnings)
    res = await import_reports(env.client, engine, rows, by="keqiao-stats", source="reports.csv")
    assert [r.status for r in res] == ["accepted", "rejected", "rejected"], [r.problems for r in res]
    assert res[1].problems[0].field == "industry_fai" and res[2].problems[0].field == "fai"
    with Session(engine) as s:
        (report,) = s.exec(select(MonthlyReport).where(MonthlyReport.code == code)).all()
        assert (report.fai, report.industry_fai, report.nongov_fai, report.tax) == (12.3456, 10.0, 11.0, 0.4)
        refused = {r.source: r.raw for r in s.exec(select(Rejection).where(Rejection.code == code)).all()}
    assert refused["reports.csv:3"]["特色产业投资（万元）"] == "160000"  # as sent, not 16.0
    assert refused["reports.csv:4"]["固定资产投资（万元）"] == "4000000"
