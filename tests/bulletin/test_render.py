"""The bulletin rendered: a self-contained HTML page and an XLSX workbook holding the JSON's numbers."""

from __future__ import annotations

import re
from datetime import date

import pytest
from openpyxl import load_workbook

from towns.bulletin import SHEET_NAMES, compute_bulletin, read_back, render_html, write_xlsx
from towns.rules.library import load_pack


@pytest.fixture
def bulletin(city):
    return compute_bulletin(
        city,
        "2018Q2",
        load_pack("sx2018"),
        issued_on=date(2018, 7, 15),
        synthetic_note="演示数据为合成数据 synthetic demo data",
    )


def test_html_is_self_contained_with_three_charts(bulletin):
    page = render_html(bulletin)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>绍兴市特色小镇 2018年第二季度通报 — Shaoxing characteristic towns, bulletin 2018Q2</title>" in page
    assert page.count("<svg") == 3 and page.count("</svg>") == 3
    for town in bulletin.towns:
        assert town.code in page and town.name in page
    for clause in ("SX2018-G1", "SX2018-G2", "SX2018-G4", "SX2018-G6", "SX2018-S3", "SX2018-T4"):
        assert clause in page
    assert "落后进度" in page and "synthetic demo data" in page
    # nothing fetched from elsewhere: no scripts, stylesheets, images or fonts
    assert "<script" not in page and "<link" not in page and "<img" not in page and "@import" not in page
    assert not re.search(r"(src|href)\s*=", page)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    # behind-schedule towns are drawn in the other colour, and the pace line is there
    assert page.count('fill="#d9480f"') >= 2 + 1  # SX-A, SX-D, and the legend
    assert "40.0%" in page


def test_html_escapes_text(bulletin):
    bulletin.towns[0].name = '<script>alert("x")</script>&'
    page = render_html(bulletin)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in page


def test_xlsx_holds_the_json_numbers(bulletin, tmp_path):
    path = write_xlsx(bulletin, tmp_path / "bulletin-2018Q2.xlsx")
    data = bulletin.model_dump(mode="json")
    wb = load_workbook(path)
    assert wb.sheetnames == ["城市 City", "小镇 Towns", "区县 Districts", "预警 Early warnings", "缺报 Missing reports"]

    ws = wb[SHEET_NAMES["towns"]]
    header = [c.value for c in ws[1]]
    assert "完成率 completion" in header and "排名 rank" in header and "落后进度 behind schedule" in header
    col = {h: i for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    assert [r[col["代码 code"]].value for r in rows] == [t["code"] for t in data["towns"]]
    for r, t in zip(rows, data["towns"], strict=True):
        comp = r[col["完成率 completion"]]
        assert isinstance(comp.value, (int, float)) and not isinstance(comp.value, bool)  # a number, not text
        assert comp.value == t["completion"] and comp.number_format == "0.00%"
        assert r[col["排名 rank"]].value == t["rank"] and isinstance(r[col["排名 rank"]].value, int)
        assert r[col["类别内排名 tier rank"]].value == t["tier_rank"]
        assert r[col["落后进度 behind schedule"]].value is t["behind_schedule"]
        assert r[col["累计固定资产投资 YTD FAI (亿元)"]].value == t["fai"]
    ws = wb[SHEET_NAMES["districts"]]
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    got = {
        r[col["区县代码 district code"]].value: (
            r[col["累计投资 total FAI (亿元)"]].value,
            r[col["任务 quota (亿元)"]].value,
            r[col["完成率 completion"]].value,
        )
        for r in ws.iter_rows(min_row=2)
    }
    assert got == {d["district"]: (d["total"], d["quota"], d["completion"]) for d in data["districts"]}
    assert got["keqiao"] == (8.8, 80, 0.11)

    ws = wb[SHEET_NAMES["city"]]
    by_label = {r[0].value: r for r in ws.iter_rows() if r[0].value}
    row = by_label["全市固定资产投资 city FAI (亿元)"]
    assert (row[1].value, row[2].value, row[3].value, row[4].value) == (23.8, 300, 0.0793, "SX2018-G1")
    row = by_label["全市特色产业投资 city industry FAI (亿元)"]
    assert (row[1].value, row[2].value, row[4].value) == (19.4, 180, "SX2018-G2")
    row = by_label["省级小镇非政府投资占比 provincial non-gov share"]
    assert (row[1].value, row[2].value) == (0.8613, 0.8) and row[1].number_format == "0.00%"

    back = read_back(path)
    for key in (
        "total_fai",
        "fai_target",
        "fai_completion",
        "total_industry_fai",
        "industry_fai_target",
        "industry_fai_completion",
        "provincial_nongov_share",
        "nongov_share_min",
        "monthly_cumulative",
    ):
        assert back["city"][key] == data["city"][key], key
    assert [(t["code"], t["rank"], t["tier_rank"], t["completion"], t["behind_schedule"]) for t in back["towns"]] == [
        (t["code"], t["rank"], t["tier_rank"], t["completion"], t["behind_schedule"]) for t in data["towns"]
    ]
    assert [(w["code"], w["projected_grade"], w["projected_fai"]) for w in back["early_warnings"]] == [
        ("SX-A", "demoted", 9.6),
        ("SX-B", "warning", 8),
    ]
    assert [(m["code"], m["period"], m["status"], m["received_at"]) for m in back["missing_reports"]] == [
        (m["code"], m["period"], m["status"], m["received_at"]) for m in data["missing_reports"]
    ]
    assert back["city"]["meta"]["quarter"] == "2018Q2"
