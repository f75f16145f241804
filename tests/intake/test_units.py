"""Units in headers: 固定资产投资（万元） is read in 亿元, 规划面积（亩） in km², an unknown unit refuses the file.

Before this, the reader dropped whatever a header's brackets held: 123456 万元 was taken as
123456 亿元 and 1500 亩 as 1500 km².
"""

import json

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.factories import town
from towns.intake.files import MEASURES, REPORT_HEADERS, TOWN_HEADERS, FileError, UnitNote, read_rows
from towns.intake.service import RowResult
from towns.models.report import Figures, ReportSubmission
from towns.models.town import TownProfile
from towns.rules.library import load_pack
from towns.rules.report_checks import check_report
from towns.rules.vocabulary import PackVocabulary

REQ = ["code", "period", "fai", "industry_fai", "nongov_fai"]
TOWN_REQ = ["code", "name", "district", "tier", "industry"]


def csv(tmp_path, text, name="r.csv"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def report_csv(tmp_path, unit="（万元）", fai="123456"):
    return csv(
        tmp_path,
        f"小镇代码,月份,固定资产投资{unit},特色产业投资{unit},非政府投资{unit},税收收入{unit}\n"
        f"SX-A,2018-03,{fai},100000,110000,4000\n",
    )


# ---------------------------------------------------------------- money


def test_wan_yuan_is_read_as_yi_yuan_exactly(tmp_path):
    rows, warnings = read_rows(report_csv(tmp_path), REPORT_HEADERS, REQ)
    v = rows[0].values
    assert (v["fai"], v["industry_fai"], v["nongov_fai"], v["tax"]) == (12.3456, 10.0, 11.0, 0.4)
    sub = ReportSubmission.model_validate(v)
    assert (sub.fai, sub.tax) == (12.3456, 0.4)
    assert rows[0].raw["固定资产投资（万元）"] == "123456"  # the raw row keeps the cell as sent
    assert (
        "固定资产投资（万元）: converted from 万元 to 亿元 (÷10000) / 固定资产投资（万元）：已由万元换算为亿元（÷10000）"
        in warnings
    )
    assert len([w for w in warnings if isinstance(w, UnitNote)]) == 4  # one note per converted column


@pytest.mark.parametrize(
    "header,cell,expected",
    [
        ("固定资产投资(万元)", "0.1", 0.00001),
        ("固定资产投资（万）", '"123,456.7"', 12.34567),
        ("固定资产投资 单位：万元", "１２３４５６", 12.3456),
        ("固定资产投资/元", "1234567890", 12.3456789),
        ("固定资产投资（1-3月累计，万元）", "123456", 12.3456),
        ("固定资产投资（亿元）", "12.3456", "12.3456"),  # already in 亿元: untouched
        ("固定资产投资（亿）", "12.3456", "12.3456"),
        ("固定资产投资（累计）", "12.3456", "12.3456"),  # an annotation, not a unit
    ],
)
def test_money_units(tmp_path, header, cell, expected):
    f = csv(tmp_path, f"代码,月份,{header},特色产业投资,非政府投资\nSX-A,2018-03,{cell},0,0\n")
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].values["fai"] == expected


def test_figures_in_different_units_are_compared_in_one(tmp_path):
    # 特色产业投资 5 亿元 is below 固定资产投资 123456 万元 (12.3456 亿元); read as 亿元 it was far above it
    f = csv(tmp_path, "代码,月份,固定资产投资（万元）,特色产业投资（亿元）,非政府投资\nSX-A,2018-03,123456,5,4\n")
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert ReportSubmission.model_validate(rows[0].values).industry_fai == 5.0


def test_converted_figures_meet_the_same_checks(tmp_path):
    limits = {"current_period": "2018-12", "max_fai_ytd": 300, "max_tax_ytd": 100}
    ok, _ = read_rows(report_csv(tmp_path, fai="123456"), REPORT_HEADERS, REQ)
    sub = ReportSubmission.model_validate(ok[0].values | {"code": "SX-T1"})
    assert check_report(sub, town(), {}, **limits) == []
    big, _ = read_rows(report_csv(tmp_path, fai="4000000"), REPORT_HEADERS, REQ)  # 400 亿元: implausible
    sub = ReportSubmission.model_validate(big[0].values | {"code": "SX-T1"})
    assert [p.field for p in check_report(sub, town(), {}, **limits)] == ["fai"]
    huge, _ = read_rows(report_csv(tmp_path, fai="2" + "0" * 10), REPORT_HEADERS, REQ)  # 2 000 000 亿元
    with pytest.raises(ValueError, match="fai"):  # beyond what the contract stores at all
        ReportSubmission.model_validate(huge[0].values)


@pytest.mark.parametrize("cell", ["abc", "inf", "-", "1e400000"])
def test_a_cell_that_is_not_a_number_is_left_for_the_contract(tmp_path, cell):
    rows, _ = read_rows(report_csv(tmp_path, fai=cell), REPORT_HEADERS, REQ)
    assert rows[0].values["fai"] == cell and rows[0].raw["固定资产投资（万元）"] == cell
    with pytest.raises(ValueError, match="fai"):
        ReportSubmission.model_validate(rows[0].values)


def test_a_negative_figure_is_still_refused(tmp_path):
    rows, _ = read_rows(report_csv(tmp_path, fai="-5"), REPORT_HEADERS, REQ)
    assert rows[0].values["fai"] == -0.0005
    with pytest.raises(ValueError, match="fai"):
        ReportSubmission.model_validate(rows[0].values)


# ---------------------------------------------------------------- towns: money and areas


def test_town_areas_and_money_in_other_units(tmp_path):
    f = csv(
        tmp_path,
        "代码,名称,区县,层级,产业,列入年份,计划总投资(万元),年度投资目标（亿元）,规划面积（亩）,核心区面积（公顷）\n"
        "SX-A,甲,柯桥区,省级创建,时尚,2016,500000,15,4500,150\n",
    )
    rows, warnings = read_rows(f, TOWN_HEADERS, TOWN_REQ)
    profile = TownProfile.model_validate(rows[0].values, context={"vocabulary": PackVocabulary(load_pack())})
    assert (profile.planned_investment, profile.annual_fai_target) == (50.0, 15.0)
    assert (profile.planned_area_km2, profile.core_area_km2) == (3.0, 1.5)
    assert rows[0].raw["规划面积（亩）"] == "4500"
    assert any(w.startswith("规划面积（亩）: converted from 亩 to km² (÷1500)") for w in warnings)
    assert any("核心区面积（公顷）：已由公顷换算为km²（÷100）" in w for w in warnings)
    assert not any("年度投资目标" in w for w in warnings)  # already in 亿元: nothing to say


@pytest.mark.parametrize(
    "unit,cell,km2",
    [
        ("（亩）", "100", 1 / 15),
        ("（ha）", "250", 2.5),
        ("（m²）", "2500000", 2.5),
        ("（平方米）", "500000", 0.5),
        ("（km²）", "2.5", "2.5"),
        ("（㎢）", "2.5", "2.5"),
        ("（平方公里）", "2.5", "2.5"),
        ("（平方千米）", "2.5", "2.5"),
    ],
)
def test_area_units(tmp_path, unit, cell, km2):
    f = csv(tmp_path, f"code,name,district,tier,industry,规划面积{unit}\nSX-A,甲,keqiao,city,fashion,{cell}\n")
    rows, _ = read_rows(f, TOWN_HEADERS, TOWN_REQ)
    assert rows[0].values["planned_area_km2"] == km2


def test_counts_and_levels_take_their_units_as_labels(tmp_path):
    f = csv(
        tmp_path,
        "代码,月份,固定资产投资,特色产业投资,非政府投资,新入驻企业（家）,高新技术企业（个）,高端人才（人）,"
        "游客接待（万人次）,景区等级（A级）\n"
        "SX-A,2018-03,3,2,1,5,2,7,12.5,3A\n",
    )
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    sub = ReportSubmission.model_validate(rows[0].values)
    assert (sub.new_enterprises, sub.high_tech_enterprises, sub.high_end_talents) == (5, 2, 7)
    assert (sub.tourists_10k, sub.scenic_level) == (12.5, 3)
    assert warnings == []


def test_every_money_and_area_field_of_the_contracts_is_converted():
    for model in (Figures, TownProfile):
        for name, info in model.model_fields.items():
            description = info.description or ""
            if "亿元" in description:
                assert MEASURES[name].target == "亿元", name
            elif "km²" in description:
                assert MEASURES[name].target == "km²", name
            else:
                assert name not in MEASURES, name


# ---------------------------------------------------------------- refused


@pytest.mark.parametrize(
    "header,unit",
    [
        ("固定资产投资（美元）", "美元"),
        ("固定资产投资（亩）", "亩"),  # an area on a money column
        ("固定资产投资（%）", "%"),
        ("fai [USD]", "USD"),
    ],
)
def test_an_unknown_money_unit_refuses_the_file_naming_the_column(tmp_path, header, unit):
    f = csv(tmp_path, f"代码,月份,{header},特色产业投资,非政府投资\nSX-A,2018-03,1,1,1\nSX-A,2018-04,2,2,2\n")
    with pytest.raises(FileError) as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert f"r.csv: column '{header}'" in e.value.en and f"'{unit}'" in e.value.en
    assert "亿元, 亿, 万元, 万, 元" in e.value.en
    assert f"“{header}”列" in e.value.zh and f"无法识别单位“{unit}”" in e.value.zh and "万元" in e.value.zh


def test_a_money_unit_on_an_area_column_is_refused(tmp_path):
    f = csv(tmp_path, "code,name,district,tier,industry,规划面积（万元）\nSX-A,甲,keqiao,city,fashion,3\n")
    with pytest.raises(FileError, match=r"column '规划面积（万元）' \(planned_area_km2, area in km²\)") as e:
        read_rows(f, TOWN_HEADERS, TOWN_REQ)
    assert "亩" in e.value.en and "规划面积" in e.value.zh


def test_two_units_in_one_header_are_refused(tmp_path):
    f = csv(tmp_path, "代码,月份,固定资产投资（万元）（亿元）,特色产业投资,非政府投资\nSX-A,2018-03,1,1,1\n")
    with pytest.raises(FileError, match=r"more than one unit \(万元, 亿元\)"):
        read_rows(f, REPORT_HEADERS, REQ)


# ---------------------------------------------------------------- XLSX


def test_xlsx_numbers_in_wan_yuan(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "月报"
    ws.append(["2018年3月特色小镇统计表"])
    ws.append(
        ["小镇代码", "月份", "固定资产投资（万元）", "特色产业投资（万元）", "非政府投资（万元）", "税收收入（万元）"]
    )
    ws.append(["SX-A", "2018-03", 123456, 100000.5, 110000, 0.1])
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    v = rows[0].values
    assert (v["fai"], v["industry_fai"], v["nongov_fai"], v["tax"]) == (12.3456, 10.00005, 11.0, 0.00001)
    assert rows[0].raw["固定资产投资（万元）"] == 123456
    assert sum(isinstance(w, UnitNote) for w in warnings) == 4


def test_xlsx_unknown_unit_on_a_second_sheet_names_the_sheet(tmp_path):
    wb = Workbook()
    wb.active.title = "柯桥"
    wb.active.append(["代码", "月份", "固定资产投资（万元）", "特色产业投资", "非政府投资"])
    wb.active.append(["SX-A", "2018-03", 30000, 2, 1])
    ws = wb.create_sheet("越城")
    ws.append(["代码", "月份", "固定资产投资（美元）", "特色产业投资", "非政府投资"])
    ws.append(["SX-B", "2018-03", 3, 2, 1])
    f = tmp_path / "r.xlsx"
    wb.save(f)
    with pytest.raises(FileError) as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert "sheet '越城'" in e.value.en and "工作表“越城”" in e.value.zh and "美元" in e.value.en


def test_xlsx_conversion_notes_name_the_sheet(tmp_path):
    wb = Workbook()
    wb.active.title = "柯桥"
    for ws, unit, fai in ((wb.active, "（万元）", 30000), (wb.create_sheet("越城"), "（亿元）", 3)):
        ws.append(["代码", "月份", f"固定资产投资{unit}", "特色产业投资", "非政府投资"])
        ws.append(["SX-A", "2018-03", fai, 2, 1])
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [r.values["fai"] for r in rows] == [3.0, 3]
    assert [w for w in warnings if isinstance(w, UnitNote)] == [
        (
            "sheet '柯桥': 固定资产投资（万元）: converted from 万元 to 亿元 (÷10000) / "
            "工作表“柯桥”：固定资产投资（万元）：已由万元换算为亿元（÷10000）"
        )
    ]


# ---------------------------------------------------------------- what the user sees


@pytest.fixture
def offline_import(monkeypatch):
    """`towns import reports` without a server: every row answered 'accepted' as it was read."""
    import towns.cli.imports as imports

    seen = []

    async def fake_import(client, engine, rows, *, by, source, progress):
        seen.extend(rows)
        results = [RowResult(row=r.number, code=r.values.get("code"), accepted=True, status="accepted") for r in rows]
        for r in results:
            progress(r)
        return results

    async def nothing(*args, **kwargs):
        return None

    monkeypatch.setattr(imports, "settings", lambda: None)
    monkeypatch.setattr(imports, "require_server", lambda s: type("S", (), {"task_queue": "q"})())
    monkeypatch.setattr(imports, "client_for", nothing)
    monkeypatch.setattr(imports, "ensure_worker", nothing)
    monkeypatch.setattr(imports, "engine", lambda s: None)
    monkeypatch.setattr(imports, "import_reports", fake_import)
    return imports.app, seen


NOTE_EN = "固定资产投资（万元）: converted from 万元 to 亿元 (÷10000)"
NOTE_ZH = "已由万元换算为亿元（÷10000）"


def test_the_import_summary_states_the_conversion(tmp_path, offline_import):
    app, seen = offline_import
    result = CliRunner().invoke(app, ["reports", str(report_csv(tmp_path)), "--by", "tester"])
    assert result.exit_code == 0, result.output
    summary = result.output[result.output.index("1 accepted") :]  # the lines after the rows
    assert NOTE_EN in summary and NOTE_ZH in summary
    assert seen[0].values["fai"] == 12.3456 and seen[0].raw["固定资产投资（万元）"] == "123456"


def test_the_json_result_lists_the_conversions(tmp_path, offline_import):
    app, _ = offline_import
    result = CliRunner().invoke(app, ["reports", str(report_csv(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert len(out["conversions"]) == 4 and out["conversions"][0].startswith(NOTE_EN)
    assert out["warnings"] == [] and out["accepted"] == 1


def test_an_unknown_unit_is_refused_before_anything_is_sent(tmp_path, offline_import):
    app, seen = offline_import
    result = CliRunner().invoke(app, ["reports", str(report_csv(tmp_path, unit="（美元）"))])
    assert result.exit_code == 2 and not seen
    assert "固定资产投资（美元）" in result.output and "美元" in result.output
