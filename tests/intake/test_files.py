"""Reading CSV and XLSX with English or Chinese headers."""

import pytest
from openpyxl import Workbook

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, FileError, read_rows
from towns.models.report import ReportSubmission

REQ = ["code", "period", "fai", "industry_fai", "nongov_fai"]


def test_chinese_headers_with_units(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "小镇代码,月份,固定资产投资（亿元）,特色产业投资(亿元),非政府投资,税收收入,是否更正,备注\n"
        "SX-A,2018-03,3.5,2.5,2.9,0.4,否,ok\n\n",
        encoding="utf-8-sig",
    )
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
    with pytest.raises(FileError, match=r"csv or \.xlsx"):
        read_rows(f, REPORT_HEADERS, REQ)


def test_values_without_a_header_are_reported_and_kept_raw(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("code,period,fai,industry_fai,nongov_fai\nSX-A,2018-01,1,1,1,oops\n")
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].raw["(column 6)"] == "oops"
    assert any("row(s) 2 have values in columns without a header" in w for w in warnings)


# ---------------------------------------------------------------- defects found in review
# Each test below failed before the fix it names.

R_HEAD = ["小镇代码", "月份", "固定资产投资（亿元）", "特色产业投资", "非政府投资"]


def _xlsx(path, *sheets, titles=None):
    """A workbook with one sheet per (name, rows) pair, written by openpyxl (which computes no formulas)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_a_very_long_csv_cell_is_read_not_a_crash(tmp_path):
    # 1: _csv.Error "field larger than field limit (131072)" escaped read_rows
    f = tmp_path / "r.csv"
    f.write_text(
        f"code,period,fai,industry_fai,nongov_fai,submitted_by\nSX-A,2018-01,1,1,1,{'x' * 200_000}\n", encoding="utf-8"
    )
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert len(rows) == 1 and len(rows[0].raw["submitted_by"]) == 200_000


def test_a_cell_beyond_any_limit_is_a_file_error_naming_the_line(tmp_path, monkeypatch):
    import towns.intake.files as files

    monkeypatch.setattr(files, "CSV_FIELD_LIMIT", 1000)
    old = __import__("csv").field_size_limit(1000)
    try:
        f = tmp_path / "r.csv"
        f.write_text(f"code,period,fai,industry_fai,nongov_fai\nSX-A,2018-01,1,1,1\nSX-A,2018-02,1,1,{'9' * 2000}\n")
        with pytest.raises(FileError, match="line 3") as e:
            read_rows(f, REPORT_HEADERS, REQ)
        assert e.value.zh
    finally:
        __import__("csv").field_size_limit(old)


@pytest.mark.parametrize("body", ["", "\n\n", ",,,,\n  ,　,,,\n"])
def test_a_header_without_data_rows_is_a_file_error(tmp_path, body):
    # 2: this returned no rows and the CLI exited 0 as if all was imported
    f = tmp_path / "r.csv"
    f.write_text("code,period,fai,industry_fai,nongov_fai\n" + body)
    with pytest.raises(FileError, match="header row but no data rows") as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert "没有数据行" in e.value.zh and "没有数据行" in str(e.value)


def test_header_only_xlsx_is_a_file_error(tmp_path):
    f = _xlsx(tmp_path / "r.xlsx", ("Sheet", [R_HEAD]))
    with pytest.raises(FileError, match="no data rows"):
        read_rows(f, REPORT_HEADERS, REQ)


def test_title_rows_above_the_header_are_skipped_and_said(tmp_path):
    # 3: a title row above the header made the file "miss" every column
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "2018年3月特色小镇统计表"
    ws.merge_cells("A1:E1")
    ws["A2"] = "填报单位：柯桥区发改局"
    for r in (R_HEAD, ["SX-A", "2018-03", 3.5, 2.5, 2.9]):
        ws.append(r)
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [r.number for r in rows] == [4] and rows[0].values["fai"] == 3.5
    assert any("rows 1–2 above the header were skipped as titles" in w for w in warnings)


def test_title_row_in_a_csv(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text(
        "2018年3月特色小镇统计表,,,,\n" + ",".join(R_HEAD) + "\nSX-A,2018-03,3.5,2.5,2.9\n", encoding="utf-8-sig"
    )
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [r.number for r in rows] == [3]
    assert any("row 1 above the header" in w for w in warnings)


def test_the_header_is_looked_for_in_the_first_20_rows_only(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("title\n" * 20 + "code,period,fai,industry_fai,nongov_fai\nSX-A,2018-01,1,1,1\n")
    with pytest.raises(FileError, match="missing column") as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert "缺少" in e.value.zh


def test_every_sheet_with_a_header_is_read(tmp_path):
    # 4: only the first sheet was read; data on the others was silently not imported
    f = _xlsx(
        tmp_path / "r.xlsx",
        ("柯桥", [R_HEAD, ["SX-A", "2018-03", 1, 1, 1], ["SX-A", "2018-04", 2, 1, 1]]),
        ("说明", [["本表由各区县填报"], ["单位：亿元"]]),
        ("越城", [["2018年越城区"], R_HEAD, ["SX-B", "2018-03", 1, 1, 1]]),
        ("空", []),
    )
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [(r.sheet, r.number, r.values["code"]) for r in rows] == [
        ("柯桥", 2, "SX-A"),
        ("柯桥", 3, "SX-A"),
        ("越城", 3, "SX-B"),
    ]
    assert [r.where for r in rows] == ["柯桥!2", "柯桥!3", "越城!3"]
    assert any("说明" in w and "本表由各区县填报" in w for w in warnings)
    assert not any("'空'" in w for w in warnings)


def test_data_on_the_second_sheet_only(tmp_path):
    f = _xlsx(tmp_path / "r.xlsx", ("封面", [["2018年3月"]]), ("数据", [R_HEAD, ["SX-A", "2018-03", 1, 1, 1]]))
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [(r.number, r.where) for r in rows] == [(2, "2")]  # one sheet read: the row number says where
    assert any("封面" in w for w in warnings)


def test_no_sheet_with_a_header_names_the_missing_columns(tmp_path):
    f = _xlsx(tmp_path / "r.xlsx", ("a", [["小镇代码", "月份"], ["SX-A", "2018-03"]]), ("b", [["x"]]))
    with pytest.raises(FileError, match=r"fai \(固定资产投资"):
        read_rows(f, REPORT_HEADERS, REQ)


def test_a_code_merged_down_over_month_rows_is_in_every_row(tmp_path):
    # 5: only the first month row had the code; the others were rejected for a missing code
    wb = Workbook()
    ws = wb.active
    ws.append(R_HEAD)
    for m in range(1, 13):
        ws.append(["SX-A" if m == 1 else None, f"2018-{m:02d}", m, 1, 1])
    ws.merge_cells("A2:A13")
    ws.append([None, None, None, None, None])
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert [r.values.get("code") for r in rows] == ["SX-A"] * 12
    assert [r.number for r in rows] == list(range(2, 14)) and not warnings


def test_merged_cells_alone_do_not_make_a_row(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(R_HEAD)
    ws.append(["SX-A", "2018-01", 1, 1, 1])
    ws.append([None] * 5)  # the code's merged range runs over a month not yet filled in
    ws.merge_cells("A2:A3")
    f = tmp_path / "r.xlsx"
    wb.save(f)
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert [r.number for r in rows] == [2]


def test_a_formula_without_its_value_is_a_problem_on_the_row(tmp_path):
    # 6: the value silently disappeared (data_only reads None) and the row lost its figure
    f = _xlsx(tmp_path / "r.xlsx", ("Sheet", [[*R_HEAD, "税收收入"], ["SX-A", "2018-03", 3, "=C2*0.5", 1, "=C2/10"]]))
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    row = rows[0]
    assert row.raw["特色产业投资"] == "=C2*0.5" and row.raw["税收收入"] == "=C2/10"
    assert "industry_fai" not in row.values and "tax" not in row.values
    assert [p.field for p in row.problems] == ["industry_fai", "tax"]
    p = row.problems[0]
    assert "holds a formula (=C2*0.5)" in p.en and "open the file in Excel and save it" in p.en
    assert "“特色产业投资”列为公式（=C2*0.5）" in p.zh


def test_a_formula_with_its_cached_value_is_read_as_the_value(tmp_path):
    import zipfile

    f = _xlsx(
        tmp_path / "r.xlsx", ("Sheet", [[*R_HEAD, "备注"], ["SX-A", "2018-03", 3, "=C2*0.5", 1, '=IF(C2>5,"x","")']])
    )
    # what Excel writes: the result next to the formula, an empty <v></v> of type str for ""
    g = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(f) as src, zipfile.ZipFile(g, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = (
                    data.decode()
                    .replace("<f>C2*0.5</f><v />", "<f>C2*0.5</f><v>1.5</v>")
                    .replace('<c r="F2"><f>', '<c r="F2" t="str"><f>')
                    .replace("&quot;)</f><v />", "&quot;)</f><v></v>")
                    .encode()
                )
            dst.writestr(item, data)
    rows, _ = read_rows(g, REPORT_HEADERS, REQ)
    assert rows[0].values["industry_fai"] == 1.5 and not rows[0].problems


def test_a_formula_in_an_unmapped_column_is_kept_raw_and_refuses_nothing(tmp_path):
    f = _xlsx(tmp_path / "r.xlsx", ("Sheet", [[*R_HEAD, "备注"], ["SX-A", "2018-03", 3, 1, 1, "=A2"]]))
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].problems == [] and rows[0].raw["备注"] == "=A2"


@pytest.mark.parametrize(
    "unit",
    [
        "【亿元】",
        "［亿元］",
        "〔亿元〕",
        "[亿元]",
        "(亿元)",
        "（亿元）",
        "/亿元",
        "：亿元",
        "单位：亿元",
        "（单位：亿元）",
        " （ 亿元 ）",
    ],
)
def test_units_in_any_brackets_or_after_a_slash_or_colon(tmp_path, unit):
    # 7: 固定资产投资【亿元】 was an unknown column and the file "missed" fai
    f = tmp_path / "r.csv"
    f.write_text(
        f"代码,月份,固定资产投资{unit},特色产业投资{unit},非政府投资{unit}\nSX-A,2018-03,3,2,1\n", encoding="utf-8"
    )
    rows, warnings = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].values["fai"] == "3" and not warnings


def test_full_width_header_letters(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("ｃｏｄｅ,ＰＥＲＩＯＤ,ｆａｉ,industry_fai,nongov_fai\nSX-A,2018-03,3,2,1\n", encoding="utf-8")
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].values["code"] == "SX-A"


def test_full_width_values_are_normalised_and_raw_is_kept(tmp_path):
    # 8: １２．５ and ＳＸ－ＺＪ－ＷＹ failed the contracts
    f = tmp_path / "r.csv"
    f.write_text(
        "代码,月份,固定资产投资,特色产业投资,非政府投资,填报人\n"
        "\u3000ＳＸ－ＺＪ－ＷＹ\xa0,２０１８－０３,１２．５,２,１, 张三　\n",
        encoding="utf-8",
    )
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    v = rows[0].values
    assert (v["code"], v["period"], v["fai"], v["submitted_by"]) == ("SX-ZJ-WY", "2018-03", "12.5", "张三")
    assert rows[0].raw["代码"] == "\u3000ＳＸ－ＺＪ－ＷＹ\xa0"
    sub = ReportSubmission.model_validate(v)
    assert (sub.code, sub.fai) == ("SX-ZJ-WY", 12.5)


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_excel_unicode_text_utf16_with_tabs(tmp_path, encoding, bom):
    # 9: Excel's "Unicode text" export (UTF-16LE with a BOM, TAB-separated) was "not UTF-8 or GB18030"
    f = tmp_path / "r.txt"
    text = "\t".join(R_HEAD) + "\r\nSX-A\t2018-03\t3,5\t2\t1\r\n"
    f.write_bytes(bom + text.encode(encoding))
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].values == {"code": "SX-A", "period": "2018-03", "fai": "3,5", "industry_fai": "2", "nongov_fai": "1"}


def test_semicolon_separated(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("code;period;fai;industry_fai;nongov_fai\nSX-A;2018-03;3;2;1\n")
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].values["nongov_fai"] == "1"


def test_text_in_no_known_encoding_is_a_file_error(tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes(b"code,period\n\x80\xff\xfe\x00\x81")
    with pytest.raises(FileError) as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert e.value.en and e.value.zh


def test_file_error_carries_both_languages():
    # 10
    e = FileError("r.csv is empty", "文件为空")
    assert (e.en, e.zh, str(e)) == ("r.csv is empty", "文件为空", "r.csv is empty / 文件为空")
    assert str(FileError("only english")) == "only english"


def test_every_file_error_has_a_chinese_text(tmp_path):
    cases = {"missing.csv": None, "r.pdf": "x", "empty.csv": "", "bad.xlsx": "not a zip"}
    for name, content in cases.items():
        f = tmp_path / name
        if content is not None:
            f.write_text(content)
        with pytest.raises(FileError) as e:
            read_rows(f, REPORT_HEADERS, REQ)
        assert e.value.zh, name


def test_two_columns_with_one_meaning(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("代码,月份,固定资产投资,固定资产投资（亿元）,特色产业投资,非政府投资\nSX-A,2018-03,3,3,2,1\n")
    with pytest.raises(FileError, match="two columns mean 'fai'") as e:
        read_rows(f, REPORT_HEADERS, REQ)
    assert e.value.zh


def test_two_unknown_columns_with_one_header_are_both_kept_raw(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("code,period,fai,industry_fai,nongov_fai,备注,备注\nSX-A,2018-03,3,2,1,a,b\n")
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert sorted(v for k, v in rows[0].raw.items() if k.startswith("备注")) == ["a", "b"]


def test_gbk_that_happens_to_be_valid_utf8_is_read_as_gbk(tmp_path):
    # found while probing the property test's blind spots: 小 and 越 in GBK are valid UTF-8 (С, Խ),
    # so an English-header GBK file holding only such characters was read as Cyrillic/Armenian
    f = tmp_path / "r.csv"
    f.write_bytes("code,period,fai,industry_fai,nongov_fai,submitted_by\nSX-A,2018-03,1,1,1,小越\n".encode("gbk"))
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].raw["submitted_by"] == "小越"


def test_utf8_with_accented_latin_stays_utf8(tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes("code,period,fai,industry_fai,nongov_fai,submitted_by\nSX-A,2018-03,1,1,1,café Lü\n".encode())
    rows, _ = read_rows(f, REPORT_HEADERS, REQ)
    assert rows[0].raw["submitted_by"] == "café Lü"


def test_a_sheet_of_formulas_without_values_and_no_header(tmp_path):
    # found in review: the missing-columns message looked for a row with a value and crashed (TypeError)
    wb = Workbook()
    wb.active["B3"] = "=A1+1"
    f = tmp_path / "r.xlsx"
    wb.save(f)
    with pytest.raises(FileError, match="missing column"):
        read_rows(f, REPORT_HEADERS, REQ)
