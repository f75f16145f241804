"""Reading CSV and XLSX with English or Chinese headers."""

import pytest
from openpyxl import Workbook

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, FileError, read_rows
from towns.models.report import ReportSubmission

REQ = ["code", "period", "fai", "industry_fai", "nongov_fai"]


def test_chinese_headers_with_units(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("小镇代码,月份,固定资产投资（亿元）,特色产业投资(亿元),非政府投资,税收收入,是否更正,备注\n"
                 "SX-A,2018-03,3.5,2.5,2.9,0.4,否,ok\n\n", encoding="utf-8-sig")
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert len(rows) == 1 and rows[0].number == 2 and not warnings
    sub = ReportSubmission.model_validate(rows[0].values)
    assert (sub.code, sub.period, sub.fai, sub.correction) == ("SX-A", "2018-03", 3.5, False)
    assert rows[0].raw["固定资产投资（亿元）"] == "3.5"  # the raw row keeps the original headers


def test_gb18030_csv_from_excel(tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes("代码,月份,固定资产投资,特色产业投资,非政府投资\nSX-A,2018/3,1,1,1\n".encode("gb18030"))
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert ReportSubmission.model_validate(rows[0].values).period == "2018-03"


def test_xlsx_with_numbers_and_a_date_cell(tmp_path):
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "period", "fai", "industry_fai", "nongov_fai", "scenic_level"])
    ws.append(["SX-A", datetime(2018, 4, 1), 4, 3.2, 3.5, "3A"])
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    sub = ReportSubmission.model_validate(rows[0].values)
    assert (sub.period, sub.fai, sub.scenic_level) == ("2018-04", 4.0, 3)


def test_missing_column_names_it_with_its_chinese_name(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("code,period,fai,industry_fai\nSX-A,2018-01,1,1\n")
    with pytest.raises(FileError, match=r"nongov_fai \(非政府投资"):
        read_rows(f, REPORT_HEADERS, REQ)


def test_unknown_columns_are_reported_not_silently_used(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("code,name,district,tier,industry,colour\nA1,x,keqiao,city,fashion,red\n")
    rows, warnings = read_rows(f, TOWN_HEADERS, ["code"])
    assert "colour" in warnings[0] and "colour" not in rows[0].values


def test_wrong_file_type(tmp_path):
    f = tmp_path / "r.pdf"
    f.write_text("x")
    with pytest.raises(FileError, match="csv or .xlsx"):
        read_rows(f, REPORT_HEADERS, REQ)


def test_values_without_a_header_are_reported_and_kept_raw(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("code,period,fai,industry_fai,nongov_fai\nSX-A,2018-01,1,1,1,oops\n")
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].raw["(column 6)"] == "oops"
    assert any("row(s) 2 have values in columns without a header" in w for w in warnings)
