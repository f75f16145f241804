"""A town or a person named like a formula is text in the bulletin workbook, never a formula."""

from __future__ import annotations

import zipfile
from datetime import date

from openpyxl import load_workbook
from sqlmodel import Session

from towns.bulletin import compute_bulletin, read_back, write_xlsx
from towns.models.town import Town

NASTY = {
    "SX-A": "=cmd|' /C calc'!A0",
    "SX-B": '=HYPERLINK("http://x","y")',
    "SX-C": "+1+2",
    "SX-D": "@SUM(1+1)*cmd|' /C calc'!A0",
    "SX-E": "-2+3",
}


def no_formulas(path) -> None:
    """No cell of any sheet is a formula, neither as openpyxl reads it nor in the file's XML."""
    wb = load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets
        for name in sheets:
            xml = z.read(name).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml, name


def text_cells(path, text: str) -> list:
    wb = load_workbook(path)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == text]


def test_town_names_that_look_like_formulas_stay_text(city, tmp_path):
    with Session(city) as s:
        for code, name in NASTY.items():
            t = s.get(Town, code)
            t.name = name
            s.add(t)
        s.commit()
    b = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 15), synthetic_note="=1+1 \t@note")
    path = write_xlsx(b, tmp_path / "bulletin.xlsx")
    no_formulas(path)
    for name in NASTY.values():
        cells = text_cells(path, name)
        # the towns sheet at least; SX-A and SX-B are also early warnings, SX-A, D and E missing reports
        assert cells, name
        for c in cells:
            assert c.data_type == "s" and c.quotePrefix is True, (c.parent.title, c.coordinate)
    (note,) = text_cells(path, "=1+1 \t@note")
    assert note.data_type == "s" and note.quotePrefix is True
    # numbers are still numbers, and ordinary text has no quote prefix
    back = read_back(path)
    assert [(t["code"], t["name"], t["completion"]) for t in back["towns"]] == [
        (t.code, t.name, t.completion) for t in b.towns
    ]
    wb = load_workbook(path)
    ws = wb["小镇 Towns"]
    assert ws["A2"].data_type == "n" and ws["A1"].quotePrefix is False


def test_text_is_kept_exactly(tmp_path):
    """A leading tab (which intake now refuses in names, but a writer must never turn into a formula)."""
    from openpyxl import Workbook

    from towns.spreadsheet import write_cell

    wb = Workbook()
    write_cell(wb.active, 1, 1, "\t=1+1")
    path = tmp_path / "b.xlsx"
    wb.save(path)
    (cell,) = text_cells(path, "\t=1+1")
    assert cell.data_type == "s" and cell.quotePrefix is True
    no_formulas(path)
