"""Property: whatever file an office sends, read_rows answers every data row exactly once, or refuses the whole file.

Hypothesis writes whole files — CSV in UTF-8 (with and without BOM), GBK and UTF-16 (with a
BOM, either byte order), separated by commas or tabs; XLSX with one to three sheets, title
rows, merged cells, formulas saved without a value, headers in Chinese and English with
units in all sorts of brackets (万元 converted, ％ on a money column or any of them on an
area column refused), missing and extra columns, blank rows, empty and
header-only files — and keeps its own model of what it wrote. read_rows must then either
raise FileError, exactly when the model says the file as a whole cannot be read, or
return each non-blank data row of each sheet with a header exactly once, in order, with
its true spreadsheet row number, its raw cells as written, and one problem per formula
without a value in a column it needs. Anything else it raises fails the test.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from towns.intake.files import REPORT_HEADERS, TOWN_HEADERS, FileError, read_rows

KINDS = {
    "report": (REPORT_HEADERS, ["code", "period", "fai", "industry_fai", "nongov_fai"]),
    "town": (TOWN_HEADERS, ["code", "name", "district", "tier", "industry"]),
}
UNITS = [
    "",
    "",
    "（亿元）",
    "(亿元)",
    "【亿元】",
    "［亿元］",
    "〔亿元〕",
    "[亿元]",
    "/亿元",
    "：亿元",
    "单位：亿元",
    " （万元） ",
    "（％）",
]
MONEY = {"fai", "industry_fai", "nongov_fai", "tax", "planned_investment", "annual_fai_target"}  # 亿元
AREA = {"planned_area_km2", "core_area_km2"}  # km²: none of UNITS is an area unit
EXTRA = ["备注", "colour", "说明", "联系电话", "序号"]  # columns that mean nothing here
TITLES = ["2018年3月特色小镇统计表", "填报单位：柯桥区发改局", "单位：亿元", "Shaoxing towns, 2018", "（续表）"]
SHEET_NAMES = ["柯桥", "越城", "Sheet", "说明", "Data 2"]
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "utf-16", "utf-16-be"]

# every character is encodable in GBK; no "=" (openpyxl would take the text for a formula)
ALPHABET = list("abcXYZ019 -.,;\t\"'\n小镇柯桥越城上虞诸暨亿元ＳＸ－１２．５\u3000")
TEXT = st.text(alphabet=st.sampled_from(ALPHABET), max_size=8)
SPECIAL = st.sampled_from(["inf", "nan", "1e308", "-0", "１２．５", "SX-A", "2018-03", "3A", "是", " ", "\u3000", ""])
CELL = st.one_of(
    st.none(),
    TEXT,
    SPECIAL,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def header_name(draw, vocabulary: dict[str, list[str]], name: str) -> tuple[str, str]:
    """A header for the field, and the unit it carries."""
    text = draw(st.sampled_from([name] + vocabulary[name]))
    if draw(st.booleans()) and text.isascii():
        text = draw(st.sampled_from([text.upper(), full_width(text)]))
    unit = draw(st.sampled_from(UNITS))
    return text + unit, unit


def refuses(name: str, unit: str) -> bool:
    """Whether the reader must refuse the file for this unit on this field's column."""
    return (name in MONEY and "％" in unit) or (name in AREA and unit.strip() != "")


@dataclass
class Columns:
    headers: list[str | None]
    recognised: bool  # the headers name every required field
    refused: bool = False  # a unit the reader does not know for its column
    converted: dict[str, tuple[str, int]] = field(default_factory=dict)  # header → (field, divisor to 亿元)


@st.composite
def columns(draw, kind: str) -> Columns:
    """Header cells (None: a column without a header), and what the reader must make of them."""
    vocabulary, required = KINDS[kind]
    dropped = draw(st.sets(st.sampled_from(required), max_size=2)) if draw(st.integers(0, 4)) == 0 else set()
    optional = [f for f in vocabulary if f not in required]
    names = [f for f in required if f not in dropped] + sorted(draw(st.sets(st.sampled_from(optional), max_size=3)))
    out = Columns([], not dropped)
    for name in names:
        header, unit = draw(header_name(vocabulary, name))
        out.headers.append(header)
        out.refused = out.refused or refuses(name, unit)
        if name in MONEY and "万元" in unit:
            out.converted[header] = (name, 10_000)
    out.headers += sorted(draw(st.sets(st.sampled_from(EXTRA), max_size=2)))
    if draw(st.integers(0, 5)) == 0:
        out.headers.append(None)
    out.headers = list(draw(st.permutations(out.headers))) or ["备注"]
    return out


def blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


@dataclass
class Sheet:
    """The generator's model of one sheet: own cells as written (a merged range's other cells are None)."""

    name: str | None
    titles: list[list[Any]] = field(default_factory=list)
    header: list[Any] | None = None
    recognised: bool = False
    refuses_unit: bool = False  # a header's unit the reader does not know for its column
    converted: dict[str, tuple[str, int]] = field(default_factory=dict)  # header → (field, divisor)
    data: list[list[Any]] = field(default_factory=list)
    merges: list[tuple[int, int]] = field(default_factory=list)  # data-row index ranges merged in column A
    hidden: bool = False  # read all the same

    @property
    def header_row(self) -> int:
        return len(self.titles) + 1

    def all_rows(self) -> list[list[Any]]:
        return self.titles + ([self.header] if self.header is not None else []) + self.data

    def has_content(self) -> bool:
        return any(not blank(c) for r in self.all_rows() for c in r)

    def source(self, i: int, c: int) -> tuple[int, int]:
        """Data row i, column c (0-based) → the cell that holds its value."""
        for top, bottom in self.merges:
            if c == 0 and top < i <= bottom:
                return top, 0
        return i, c

    def value(self, i: int, c: int) -> Any:
        i, c = self.source(i, c)
        return self.data[i][c] if c < len(self.data[i]) else None


def is_formula(cell: Any) -> bool:
    return isinstance(cell, str) and cell.startswith("=")


@st.composite
def data_rows(draw, width: int, formulas: bool) -> list[list[Any]]:
    cell = st.one_of(CELL, st.just("=C2*2"), st.just("=SUM(C2:E2)")) if formulas else CELL
    row = st.lists(cell, min_size=max(0, width - 1), max_size=width + 1)
    blank_row = st.lists(st.sampled_from([None, "", " ", "\u3000"]), max_size=width)
    return draw(st.lists(st.one_of(row, row, row, blank_row), max_size=8))


@st.composite
def sheet(draw, kind: str, name: str | None, xlsx: bool) -> Sheet:
    s = Sheet(name)
    shape = draw(st.sampled_from(["table", "table", "table", "notes", "empty", "header only"]))
    if shape == "empty":
        return s
    if shape == "notes":  # a sheet of explanations, no header
        s.titles = [[t] for t in draw(st.lists(st.sampled_from([*TITLES, "本表由各区县填报"]), min_size=1, max_size=3))]
        return s
    s.titles = [[t] + [None] * draw(st.integers(0, 3)) for t in draw(st.lists(st.sampled_from(TITLES), max_size=3))]
    cols = draw(columns(kind))
    s.header, s.recognised, s.refuses_unit, s.converted = cols.headers, cols.recognised, cols.refused, cols.converted
    if shape == "table":
        s.data = draw(data_rows(len(s.header), formulas=xlsx))
    if xlsx and len(s.data) >= 2 and draw(st.booleans()):  # a town code merged down over month rows
        top = draw(st.integers(0, len(s.data) - 2))
        bottom = draw(st.integers(top + 1, len(s.data) - 1))
        if s.data[top]:
            s.merges = [(top, bottom)]
            for i in range(top + 1, bottom + 1):
                if s.data[i]:
                    s.data[i][0] = None  # openpyxl empties a merged range's other cells
    return s


@st.composite
def workbook(draw, kind: str) -> list[Sheet]:
    names = draw(st.lists(st.sampled_from(SHEET_NAMES), min_size=1, max_size=3, unique=True))
    sheets = [draw(sheet(kind, n, xlsx=True)) for n in names]
    for s in sheets[1:]:  # a workbook needs one visible sheet
        s.hidden = draw(st.integers(0, 4)) == 0
    return sheets


def text_cell(cell: Any) -> str:
    return "" if cell is None else str(cell)


@st.composite
def csv_file(draw, kind: str) -> Sheet:
    s = draw(sheet(kind, None, xlsx=False))
    s.titles = [[text_cell(c) for c in r] for r in s.titles]
    if s.header is not None:
        s.header = [text_cell(c) for c in s.header]
    s.data = [[text_cell(c) for c in r] for r in s.data]
    if s.data and s.data[0] and draw(st.integers(0, 9)) == 0:
        s.data[0][0] = "x" * 140_000  # beyond csv's default field limit (131072)
    return s


def write_csv(path: Path, s: Sheet, encoding: str, delimiter: str) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    for r in s.all_rows():
        writer.writerow(r)
    text = out.getvalue()
    if encoding == "utf-16-be":
        path.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    else:
        path.write_bytes(text.encode(encoding))  # "utf-16" writes a BOM


def write_xlsx(path: Path, sheets: list[Sheet]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.name)
        ws.sheet_state = "hidden" if s.hidden else "visible"
        for r in s.all_rows():
            ws.append(r)
        if s.titles and len(s.titles[0]) > 1:  # a title merged across the top
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(s.titles[0]))
        for top, bottom in s.merges:
            first = s.header_row + 1
            ws.merge_cells(start_row=first + top, start_column=1, end_row=first + bottom, end_column=1)
    wb.save(path)


def expected_rows(sheets: list[Sheet]) -> list[tuple[Sheet, int]] | None:
    """(sheet, data-row index) of every row read_rows must return; None when it must raise FileError."""
    if not any(s.has_content() for s in sheets):
        return None
    read = [s for s in sheets if s.recognised and s.has_content()]
    if any(s.refuses_unit for s in read):
        return None
    rows = [(s, i) for s in read for i, r in enumerate(s.data) if not all(blank(c) for c in r)]
    return rows or None


def as_written(number: float) -> float:
    """A number as openpyxl stores it: 16 significant digits (so 1.7976931348623155e308 is read back as inf)."""
    return float(f"{float(number):.16g}")


def check(rows, sheets: list[Sheet], expected: list[tuple[Sheet, int]], xlsx: bool) -> None:
    several = len({id(s) for s in sheets if s.recognised and s.has_content()}) > 1
    assert [(r.sheet, r.number) for r in rows] == [
        (s.name if several else None, s.header_row + 1 + i) for s, i in expected
    ]
    for row, (s, i) in zip(rows, expected, strict=True):
        width = max(len(s.data[i]), len(s.header))
        formulas = [
            c
            for c in range(width)
            if is_formula(s.value(i, c))  # only in columns the row needs
            and c < len(s.header)
            and s.header[c] is not None
            and s.header[c] not in EXTRA
        ]
        assert len(row.problems) == len(formulas), (row, s.data[i])
        for c, key in enumerate(s.header):  # the raw row keeps what was sent
            v = s.value(i, c)
            if key and not blank(v):
                got = row.raw[key]
                if xlsx and isinstance(v, (int, float)) and not isinstance(v, bool):
                    assert got == as_written(v), (key, row.raw, v)
                else:
                    assert got == v, (key, row.raw, v)
                if key in s.converted:
                    check_converted(row, key, *s.converted[key])


def check_converted(row, key: str, name: str, divisor: int) -> None:
    """A figure in a 万元 column is read in 亿元 (the raw row keeps what was sent)."""
    raw = row.raw[key]
    if is_formula(raw) or isinstance(raw, bool):
        return
    try:
        sent = float(raw)
    except ValueError:
        return  # not a number as Python reads it: left for the contract to refuse (or read, as 1,234)
    if math.isfinite(sent):
        assert math.isclose(row.values[name], sent / divisor, rel_tol=1e-12, abs_tol=1e-300), (key, raw, row.values)


def refused(path: Path, kind: str) -> None:
    """The model says the file as a whole cannot be read: read_rows must say so, in both languages."""
    try:
        read_rows(path, *KINDS[kind])
    except FileError as e:
        assert e.en and e.zh
        return
    raise AssertionError("expected a FileError")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(kind=st.sampled_from(sorted(KINDS)), data=st.data())
def test_xlsx_every_row_once_or_file_error(kind, data):
    sheets = data.draw(workbook(kind))
    _, required = KINDS[kind]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.xlsx"
        write_xlsx(path, sheets)
        expected = expected_rows(sheets)
        if expected is None:
            refused(path, kind)
            return
        rows, warnings = read_rows(path, KINDS[kind][0], required)
        check(rows, sheets, expected, xlsx=True)
        for s in sheets:
            if s.has_content() and not s.recognised:
                assert any(f"'{s.name}'" in w for w in warnings), (s.name, warnings)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    kind=st.sampled_from(sorted(KINDS)),
    encoding=st.sampled_from(ENCODINGS),
    delimiter=st.sampled_from([",", "\t"]),
    data=st.data(),
)
def test_csv_every_row_once_or_file_error(kind, encoding, delimiter, data):
    s = data.draw(csv_file(kind))
    _, required = KINDS[kind]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.csv"
        write_csv(path, s, encoding, delimiter)
        expected = expected_rows([s])
        if expected is None:
            refused(path, kind)
            return
        rows, _ = read_rows(path, KINDS[kind][0], required)
        check(rows, [s], expected, xlsx=False)
