"""Reading submitted files: CSV or XLSX, English or Chinese column headers.

A district office's spreadsheet says 固定资产投资（亿元）; a script says ``fai``. Both map
to the same field. Units in brackets (any kind) or after a slash or colon, spaces and
full-width letters are not part of a header's name. Each row keeps its spreadsheet row number and
its raw cells, so a rejection can name the row and the quarantine can keep exactly what
was sent.

A money or area column's unit is read, not dropped: 固定资产投资（万元） is
converted to the system's 亿元 (÷10000, exactly), 规划面积（亩） to km² (÷1500), and a unit
the reader does not know for the column (美元, or an area on a money column) refuses the
file. Each conversion is said among the warnings (a ``UnitNote``). Counts and levels
take any unit (（个）, （家）) as a label.

Spreadsheets as offices make them: title rows above the header (the header is looked
for in the first rows of each sheet), data on several sheets (every sheet whose header
is found is read), a town code merged down over its month rows (filled into every row),
formulas saved by a tool that does not compute them (the row gets a problem: the value
is not in the file), CSV in UTF-8, GB18030 or UTF-16, separated by commas, tabs or
semicolons. Whatever cannot be read at all is a ``FileError``; a row that can be read
but is wrong is answered later, by the importer, with the raw row kept.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..models.rejection import Problem, field_zh
from ..models.report import MONEY_FIELDS

TOWN_HEADERS = {
    "code": ["代码", "小镇代码", "编号", "小镇编号"],
    "name": ["名称", "小镇名称", "小镇"],
    "district": ["区县", "所在区县", "区、县(市)", "区县(市)", "所属区县", "区域"],
    "tier": ["层级", "类别", "级别", "创建层级"],
    "industry": ["产业", "特色产业", "产业类型", "产业类别"],
    "batch": ["批次", "创建批次"],
    "listed_year": ["列入年份", "创建年份", "列入名单年份"],
    "creation_years": ["创建期", "创建年限", "创建期限"],
    "planned_investment": ["计划总投资", "计划投资", "规划总投资"],
    "annual_fai_target": ["年度投资目标", "年度目标", "年度固定资产投资目标"],
    "planned_area_km2": ["规划面积"],
    "core_area_km2": ["核心区面积", "建设面积", "核心面积"],
    "state": ["状态"],
    "programme": ["考核办法", "规则包", "所属规则包", "pack"],
}
REPORT_HEADERS = {
    "code": ["代码", "小镇代码", "编号", "小镇编号"],
    "period": ["月份", "报告期", "统计期", "统计月份", "期间"],
    "fai": ["固定资产投资", "累计固定资产投资", "固定资产投资累计"],
    "industry_fai": ["特色产业投资", "累计特色产业投资"],
    "nongov_fai": ["非政府投资", "累计非政府投资"],
    "tax": ["税收", "税收收入", "累计税收收入"],
    "new_enterprises": ["新入驻企业", "新增企业", "新入驻企业数"],
    "high_tech_enterprises": ["高新技术企业", "高新技术企业数"],
    "high_end_talents": ["高端人才", "高端人才数"],
    "tourists_10k": ["游客", "游客接待", "游客接待量"],
    "scenic_level": ["景区等级", "景区"],
    "correction": ["更正", "是否更正"],
    "submitted_by": ["填报人", "报送人", "填报单位"],
}
IGNORED = {"名称", "小镇名称", "name", "备注", "note", "notes"}  # extra columns a report sheet often carries

HEADER_SEARCH_ROWS = 20  # the header is looked for in the first rows of each sheet (titles may come first)
CSV_FIELD_LIMIT = 16 * 1024 * 1024  # a longer cell is refused by the contracts' length limits, not by the reader
CSV_DELIMITERS = ",\t;"

_EDGE_SPACE = re.compile(r"^[\s\ufeff\u200b\u200c\u200d\u2060]+|[\s\ufeff\u200b\u200c\u200d\u2060]+$")
_ANY_SPACE = re.compile(r"[\s\ufeff\u200b\u200c\u200d\u2060]+")
# after NFKC, （）［］＜＞ are ()[]<>; 【】〔〕〖〗《》 have no compatibility form
_UNIT_IN_BRACKETS = re.compile(r"[(\[【〔〖<《][^)\]】〕〗>》]*[)\]】〕〗>》]")
_UNIT_AFTER = re.compile(r"(?:单位)?[:/].*$")  # 固定资产投资/亿元, 固定资产投资：亿元, 固定资产投资 单位：亿元
_UNIT_LABEL = re.compile(r"^\s*(?:单位)?\s*[:/]?")  # what comes before the unit itself: 单位：, /
_UNIT_SEPARATORS = re.compile(r"[,、;]")  # （1-3月累计，万元）
# words in a header's brackets that say what the figure is, not its unit: （累计）, （1-3月累计）
_NOT_A_UNIT = re.compile(r"^(?:\d+(?:[-~–—至]\d+)?月)?(?:年初至今|累计|合计|当年|本年|年度|全年)*$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # as the contracts read 1,234.5


class FileError(ValueError):
    """The whole file cannot be read (not a row problem). In English and Chinese."""

    def __init__(self, en: str, zh: str = ""):
        super().__init__(en, zh)
        self.en = en
        self.zh = zh

    def __str__(self) -> str:
        return f"{self.en} / {self.zh}" if self.zh else self.en


@dataclass
class Row:
    number: int  # spreadsheet row number (the first row of the sheet = 1, whether it is the header or a title)
    raw: dict[str, Any]  # as sent, original headers (a formula the file holds no value for: its text)
    values: dict[str, Any]  # by field name, blanks dropped, text NFKC-normalised and stripped, units converted
    sheet: str | None = None  # the sheet's name, when more than one sheet of the workbook was read
    problems: list[Problem] = field(default_factory=list)  # what the reader already knows is wrong

    @property
    def where(self) -> str:
        """How a message names the row: ``月报!12`` when several sheets were read, else ``12``."""
        return f"{self.sheet}!{self.number}" if self.sheet is not None else str(self.number)


@dataclass
class _Sheet:
    """A sheet's own cells, as read: ``rows[0]`` is spreadsheet row 1. A CSV file is one sheet without a name."""

    name: str | None
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → text: no value in the file
    hidden: bool = False

    def has_content(self) -> bool:
        return bool(self.formulas) or any(not _blank_row(r) for r in self.rows)

    def first_content(self) -> tuple[int, list[Any]] | None:
        return next(((i + 1, r) for i, r in enumerate(self.rows) if not _blank_row(r)), None)

    def label(self) -> str:
        return f"sheet '{self.name}'" if self.name is not None else "the file"


# ---------------------------------------------------------------- text


def _strip(text: str) -> str:
    """Strip spaces of every kind: full-width (U+3000), non-breaking, zero-width, a stray BOM."""
    return _EDGE_SPACE.sub("", text)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and _strip(cell) == "")


def _blank_row(cells: list[Any]) -> bool:
    return all(_blank(c) for c in cells)


def _clean(cell: Any) -> Any:
    """A cell's value for the contracts: text NFKC-normalised (１２．５ → 12.5, ＳＸ－Ａ → SX-A) and stripped."""
    return _strip(unicodedata.normalize("NFKC", cell)) if isinstance(cell, str) else cell


def _norm(header: Any) -> str:
    h = unicodedata.normalize("NFKC", str(header))
    h = _UNIT_IN_BRACKETS.sub("", h)
    h = _UNIT_AFTER.sub("", h)
    return _ANY_SPACE.sub("", h).lower()


def _preview(cells: list[Any], limit: int = 8) -> list[str]:
    shown = [str(c) if len(str(c)) <= 40 else str(c)[:40] + "…" for c in cells if not _blank(c)]
    return shown[:limit] + (["…"] if len(shown) > limit else [])


def _span(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → '1–3, 5'."""
    parts = []
    for _, run in itertools.groupby(enumerate(numbers), lambda p: p[1] - p[0]):
        found = [n for _, n in run]
        parts.append(str(found[0]) if len(found) == 1 else f"{found[0]}–{found[-1]}")
    return ", ".join(parts)


# ---------------------------------------------------------------- headers


def _lookup(vocabulary: dict[str, list[str]]) -> dict[str, str]:
    lookup = {}
    for name, names in vocabulary.items():
        lookup[_norm(name)] = name
        for n in names:
            lookup[_norm(n)] = name
    return lookup


def _column_fields(headers: list[Any], lookup: dict[str, str]) -> list[str | None]:
    """The field of each column (None: no header, or a header that means nothing here)."""
    fields: list[str | None] = []
    for h in headers:
        name = None if _blank(h) else lookup.get(_norm(h))
        if name is not None and name in fields:
            raise FileError(
                f"two columns mean '{name}': check the headers {_preview(headers, 30)}",
                f"有两列都表示“{name}”：请检查表头 {_preview(headers, 30)}",
            )
        fields.append(name)
    return fields


def header_map(headers: list[str], vocabulary: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """Original header → field name, and the headers that mean nothing here."""
    lookup = _lookup(vocabulary)
    ignored = {_norm(i) for i in IGNORED}
    mapping, unknown = {}, []
    for h, name in zip(headers, _column_fields(headers, lookup), strict=True):
        if name is not None:
            mapping[h] = name
        elif not _blank(h) and _norm(h) not in ignored:
            unknown.append(str(h))
    return mapping, unknown


def _is_header(cells: list[Any], lookup: dict[str, str], required: list[str]) -> bool:
    fields = {lookup.get(_norm(c)) for c in cells if not _blank(c)} - {None}
    return bool(fields) and all(f in fields for f in required)


def _find_header(rows: list[list[Any]], lookup: dict[str, str], required: list[str]) -> int | None:
    """Index of the header row: the first of the first rows whose cells name every required field."""
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _is_header(cells, lookup, required):
            return i
    return None


# ---------------------------------------------------------------- units


@dataclass(frozen=True)
class _Measure:
    """What a money or area column is counted in: the system's unit and the units a header may name.

    ``units``: a unit as shown → how many of it make one of the system's unit (10000 万元 make 1 亿元).
    """

    en: str
    zh: str
    target: str
    units: dict[str, int]

    def lookup(self, token: str) -> str | None:
        """The unit a header's token names (km², ㎢, KM2 and km2 are one), or None."""
        key = _unit_key(token)
        return next((u for u in self.units if _unit_key(u) == key), None)

    def accepted(self, separator: str = ", ") -> str:
        return separator.join(self.units)


def _unit_key(text: str) -> str:
    return _ANY_SPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


MONEY = _Measure("money", "金额", "亿元", {"亿元": 1, "亿": 1, "万元": 10_000, "万": 10_000, "元": 100_000_000})
AREA = _Measure(
    "area",
    "面积",
    "km²",
    {"km²": 1, "平方公里": 1, "平方千米": 1, "亩": 1500, "公顷": 100, "ha": 100, "m²": 1_000_000, "平方米": 1_000_000},
)
# every money field (亿元) and area field (km²) of the contracts, reports' and towns'
MEASURES: dict[str, _Measure] = {
    **dict.fromkeys((*MONEY_FIELDS, "planned_investment", "annual_fai_target"), MONEY),
    "planned_area_km2": AREA,
    "core_area_km2": AREA,
}
_EXACT = Context(prec=40)  # more digits than a float holds: the quotient is exact, or rounded once, by float()


class UnitNote(str):
    """A warning that says a column's figures were converted to the system's unit.

    A plain string among the reader's warnings (printed like them); its own type lets the
    import's summary list the conversions again.
    """


@dataclass(frozen=True)
class _Conversion:
    """A column whose header names a unit other than the system's: each figure is divided by ``divisor``."""

    header: str
    unit: str
    target: str
    divisor: int

    def note(self, prefix: tuple[str, str]) -> UnitNote:
        en, zh = prefix
        return UnitNote(
            f"{en}{self.header}: converted from {self.unit} to {self.target} (÷{self.divisor}) / "
            f"{zh}{self.header}：已由{self.unit}换算为{self.target}（÷{self.divisor}）"
        )

    def apply(self, value: Any) -> Any:
        """The figure in the system's unit, exactly: the cell's number as written (Decimal), divided.

        A cell that is not a finite number as written (or whose quotient no float holds) is
        left as it is, for the contract to refuse in its own words: a figure that is not a
        number is not a figure in any unit.
        """
        exact = _decimal(value)
        converted = None if exact is None else float(_EXACT.divide(exact, Decimal(self.divisor)))
        return converted if converted is not None and math.isfinite(converted) else value


def _decimal(value: Any) -> Decimal | None:
    """A cell as the exact number written in it: 123456, '１２３，４５６', '1,234.5', or a float's shortest form."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = _ANY_SPACE.sub("", unicodedata.normalize("NFKC", value)) if isinstance(value, str) else repr(value)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return None
    return exact if exact.is_finite() else None


def _header_units(header: Any) -> list[str]:
    """The units a header names: in its brackets, or after a slash or colon (单位：万元); not 累计, 1-3月."""
    h = unicodedata.normalize("NFKC", str(header))
    parts = [m.group(0)[1:-1] for m in _UNIT_IN_BRACKETS.finditer(h)]
    after = _UNIT_AFTER.search(_UNIT_IN_BRACKETS.sub("", h))
    if after:
        parts.append(after.group(0))
    tokens = []
    for part in parts:
        found = (_strip(_UNIT_LABEL.sub("", t)) for t in _UNIT_SEPARATORS.split(part))
        tokens += [t for t in found if not _NOT_A_UNIT.match(_ANY_SPACE.sub("", t))]
    return tokens


def _unit_error(where: tuple[str, str], header: str, name: str, measure: _Measure, en: str, zh: str) -> FileError:
    file_en, file_zh = where
    return FileError(
        f"{file_en}column '{header}' ({name}, {measure.en} in {measure.target}): {en}; "
        f"write one of {measure.accepted()} in its header, or no unit for {measure.target}",
        f"{file_zh}“{header}”列（{field_zh(name)}，{measure.zh}，以{measure.target}计）：{zh}；"
        f"表头中请写明 {measure.accepted('、')} 之一，不写单位即按{measure.target}",
    )


def _conversion(header: Any, name: str | None, where: tuple[str, str]) -> _Conversion | None:
    """How a column's figures become the system's unit (None: they are in it already, or carry no unit).

    Raises FileError when the header names a unit the column cannot be in: better the
    whole file refused up front than 1000 rows refused one by one, or read in the wrong unit.
    """
    if name is None or name not in MEASURES or _blank(header):
        return None
    measure = MEASURES[name]
    shown = _strip(str(header))
    tokens = _header_units(header)
    for t in tokens:
        if measure.lookup(t) is None:
            raise _unit_error(
                where,
                shown,
                name,
                measure,
                f"the unit '{t}' is not a {measure.en} unit the reader knows",
                f"无法识别单位“{t}”",
            )
    units = {u: measure.units[u] for u in (measure.lookup(t) for t in tokens) if u is not None}
    if len(set(units.values())) > 1:
        raise _unit_error(
            where,
            shown,
            name,
            measure,
            f"more than one unit ({', '.join(units)})",
            f"单位不止一个（{'、'.join(units)}）",
        )
    unit, divisor = next(iter(units.items()), (measure.target, 1))
    return _Conversion(shown, unit, measure.target, divisor) if divisor != 1 else None


# ---------------------------------------------------------------- CSV


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise FileError(
            f"{name} is an XLSX (zip) file with a text file's name: rename it to .xlsx",
            f"{name} 实为 XLSX 文件：请将扩展名改为 .xlsx",
        )
    text = _text(data)
    if text is None:
        raise FileError(
            f"{name}: not UTF-8, UTF-16 (with a byte-order mark) or GB18030 text",
            f"{name}：文件编码无法识别（应为 UTF-8、带 BOM 的 UTF-16 或 GB18030/GBK）；请另存为 CSV UTF-8",
        )
    if "\x00" in text:
        raise FileError(
            f"{name} holds NUL characters: not a text file, or UTF-16 without a byte-order mark",
            f"{name} 含有空字符：不是文本文件，或是不带 BOM 的 UTF-16；请另存为 CSV UTF-8",
        )
    return text


def _text(data: bytes) -> str | None:
    """UTF-16 when a byte-order mark says so (Excel's "Unicode text"), else UTF-8 (BOM or not), else GB18030."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _try(data, "utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        return _try(data, "utf-8-sig") or _try(data, "gb18030")
    utf8 = _try(data, "utf-8")
    if utf8 is None:
        return _try(data, "gb18030")
    return _gbk_read_as_utf8(utf8, data) or utf8


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef" or ch >= "\U00020000"


def _gbk_read_as_utf8(utf8: str, data: bytes) -> str | None:
    """The GB18030 reading of bytes that are valid UTF-8 only by accident, else None.

    A GBK file whose only Chinese is, say, 小 or 越 is also valid UTF-8 (С, Խ). When the
    UTF-8 reading has no Chinese but letters of scripts no office uses (IPA, Greek,
    Cyrillic, Armenian, Hebrew, Arabic: U+0250–U+07FF) and the GB18030 reading is all
    Chinese, the file is GBK. Accented Latin (café) stays UTF-8.
    """
    odd = [ch for ch in utf8 if not ch.isascii()]
    if not odd or any(_is_cjk(ch) for ch in odd) or not any("\u0250" <= ch <= "\u07ff" for ch in odd):
        return None
    gb = _try(data, "gb18030")
    return gb if gb is not None and all(_is_cjk(ch) for ch in gb if not ch.isascii()) else None


def _sniff(text: str) -> str:
    sample = "".join(itertools.islice(io.StringIO(text, newline=""), 50))[:65536]
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _parse_csv(text: str, delimiter: str, name: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(itertools.islice(reader, limit))
    except csv.Error as exc:
        raise FileError(
            f"{name}: line {reader.line_num} cannot be read: {exc}", f"{name}：第 {reader.line_num} 行无法读取（{exc}）"
        ) from None


def _csv_sheet(path: Path, finds_header: Callable[[list[list[Any]]], bool]) -> _Sheet:
    """The file as one sheet. The sniffed delimiter first; if no header shows with it, the others."""
    text = _decode(path.read_bytes(), path.name)
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    sniffed = _sniff(text)
    delimiter = sniffed
    if not finds_header(_parse_csv(text, sniffed, path.name, HEADER_SEARCH_ROWS)):
        for other in CSV_DELIMITERS.replace(sniffed, ""):
            try:
                if finds_header(_parse_csv(text, other, path.name, HEADER_SEARCH_ROWS)):
                    delimiter = other
                    break
            except FileError:
                continue
    return _Sheet(None, _parse_csv(text, delimiter, path.name))


# ---------------------------------------------------------------- XLSX


def _xlsx_sheets(path: Path) -> list[_Sheet]:
    """Every worksheet's values, merged ranges and formulas without a value.

    Not read-only: openpyxl exposes merged ranges only on a fully loaded workbook.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds
        raise FileError(
            f"{path.name} is not a readable XLSX file: {exc}", f"{path.name} 不是可读取的 XLSX 文件（{exc}）"
        ) from None
    formulas = _formulas_without_values(path)
    sheets = []
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        merged = [(m.min_row, m.min_col, m.max_row, m.max_col) for m in ws.merged_cells.ranges]
        missing = {rc: text for rc, text in formulas.get(ws.title, {}).items() if _at(rows, *rc) is None}
        sheets.append(_Sheet(ws.title, rows, merged, missing, hidden=ws.sheet_state != "visible"))
    wb.close()
    return sheets


def _at(rows: list[list[Any]], r: int, c: int) -> Any:
    return rows[r - 1][c - 1] if r <= len(rows) and c <= len(rows[r - 1]) else None


def _formulas_without_values(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet → (row, col) → formula text, for formula cells whose result the file does not hold.

    A tool that does not compute formulas (openpyxl, for one) saves them with an empty
    result, and a values-only read gives None: the figure would silently vanish. Excel
    saves an empty result too when the formula's result is the empty text (=IF(..,"",..)),
    but marks that cell as text; such cells are not reported.
    """
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception:  # the values load succeeded; without formulas there is nothing to report
        return {}
    out: dict[str, dict[tuple[int, int], str]] = {}
    try:
        for ws in wb.worksheets:
            ws.reset_dimensions()  # a file's stated dimensions may be wrong; read every cell
            texts = {
                (c.row, c.column): _formula_text(c.value)
                for row in ws.iter_rows()
                for c in row
                if getattr(c, "data_type", None) == "f"
            }
            if texts:
                computed = _formula_cells_with_results(wb, ws)
                out[ws.title] = {rc: t for rc, t in texts.items() if rc not in computed}
    finally:
        wb.close()
    return out


def _formula_text(value: Any) -> str:
    text = value if isinstance(value, str) else (getattr(value, "text", None) or str(value))
    return text if text.startswith("=") else "=" + text


def _formula_cells_with_results(wb: Any, ws: Any) -> set[tuple[int, int]]:
    """Formula cells of the sheet's XML that hold a result: a non-empty <v>, or an empty one of type text."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import coordinate_to_tuple

    found: set[tuple[int, int]] = set()
    try:
        src = wb._archive.open(ws._worksheet_path)  # openpyxl keeps the archive open in read-only mode
    except (AttributeError, KeyError):
        return found
    with src:
        row_no, col_no = 0, 0
        for event, el in iterparse(src, events=("start", "end")):
            tag = el.tag.rsplit("}", 1)[-1]
            if event == "start":
                if tag == "row":
                    row_no, col_no = int(el.get("r", row_no + 1)), 0
                continue
            if tag == "c":
                ref = el.get("r")
                r, c = coordinate_to_tuple(ref) if ref else (row_no, col_no + 1)
                col_no = c
                v = el.find("{*}v")
                if el.find("{*}f") is not None and v is not None and (v.text or el.get("t") == "str"):
                    found.add((r, c))
            elif tag == "row":
                el.clear()
    return found


def _sheets(path: Path, finds_header: Callable[[list[list[Any]]], bool]) -> list[_Sheet]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_sheets(path)
    if suffix in (".csv", ".txt", ""):
        return [_csv_sheet(path, finds_header)]
    raise FileError(f"{path.name}: use a .csv or .xlsx file", f"{path.name}：请使用 .csv 或 .xlsx 文件")


# ---------------------------------------------------------------- rows


def _merged_sources(sheet: _Sheet, header_row: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Each cell of a merged range below the header → the range's top-left cell, which holds the value.

    A town code merged down over its twelve month rows belongs to every one of them.
    Ranges that start at or above the header (titles) are not carried into the data.
    """
    sources = {}
    for r0, c0, r1, c1 in sheet.merged:
        if r0 <= header_row:
            continue
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    sources[(r, c)] = (r0, c0)
    return sources


def _raw_keys(headers: list[Any]) -> list[str | None]:
    """The raw row's key for each column: its header; a repeated header gets its column number too."""
    keys: list[str | None] = []
    for i, h in enumerate(headers):
        key = None if _blank(h) else str(h)
        if key is not None and key in keys:
            key = f"{key} (column {i + 1})"
        keys.append(key)
    return keys


def _formula_problem(name: str, header: str, text: str) -> Problem:
    return Problem(
        field=name,
        en=f"column {header} holds a formula ({text}) whose value the file does not contain; "
        "open the file in Excel and save it, or paste the values",
        zh=f"“{header}”列为公式（{text}），文件中没有计算结果；请用 Excel 打开并保存，或粘贴为数值",
    )


@dataclass
class _Layout:
    """What the header row says about a sheet's columns."""

    headers: list[Any]
    keys: list[str | None]
    fields: list[str | None]
    conversions: list[_Conversion | None]  # of each column: its figures into the system's unit


def _row(sheet: _Sheet, number: int, layout: _Layout, sources: dict, formula_rows: set[int]) -> tuple[Row | None, bool]:
    """One spreadsheet row as a Row (None when blank), and whether it has values in columns without a header."""
    own = sheet.rows[number - 1]
    if _blank_row(own) and number not in formula_rows:
        return None, False  # blank line, not a row (cells that are only copies of a merged range included)
    formulas = sheet.formulas
    width = max(len(own), len(layout.headers))
    raw: dict[str, Any] = {}
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    stray = False
    for c in range(1, width + 1):
        source = sources.get((number, c), (number, c))
        value = _at(sheet.rows, *source)
        formula = formulas.get(source)
        key = layout.keys[c - 1] if c <= len(layout.keys) else None
        name = layout.fields[c - 1] if c <= len(layout.fields) else None
        conversion = layout.conversions[c - 1] if c <= len(layout.conversions) else None
        if key is None:  # values in columns without a header are kept with the raw row, and reported
            if source != (number, c) or (_blank(value) and formula is None):
                continue
            key = f"(column {c})"
            stray = True
        raw[key] = formula if formula is not None else value  # as sent: never the converted figure
        if formula is not None and name is not None:  # a value the row needs is missing (a note's is kept raw)
            problems.append(_formula_problem(name, _strip(key), formula))
        elif name is not None and not _blank(value):
            values[name] = _clean(value) if conversion is None else conversion.apply(_clean(value))
    return Row(number=number, raw=raw, values=values, problems=problems), stray


@dataclass
class _Found:
    sheet: _Sheet
    header_index: int  # 0-based: the header is spreadsheet row header_index + 1


def _layout(headers: list[Any], lookup: dict[str, str], where: tuple[str, str]) -> _Layout:
    fields = _column_fields(headers, lookup)
    conversions = [_conversion(h, f, where) for h, f in zip(headers, fields, strict=True)]
    return _Layout(headers, _raw_keys(headers), fields, conversions)


def _read_sheet(found: _Found, layout: _Layout, several: bool, prefix: tuple[str, str]) -> tuple[list[Row], list[str]]:
    sheet, at = found.sheet, found.header_index
    sources = _merged_sources(sheet, at + 1)
    formula_rows = {r for r, _ in sheet.formulas}
    rows, stray = [], []
    for number in range(at + 2, len(sheet.rows) + 1):
        row, has_stray = _row(sheet, number, layout, sources, formula_rows)
        if row is None:
            continue
        row.sheet = sheet.name if several else None
        rows.append(row)
        if has_stray:
            stray.append(number)
    return rows, _sheet_warnings(found, layout, stray, rows, prefix)


def _sheet_warnings(
    found: _Found, layout: _Layout, stray: list[int], rows: list[Row], prefix: tuple[str, str]
) -> list[str]:
    """In English / Chinese; ``prefix`` names the sheet when the workbook has several."""
    sheet, at = found.sheet, found.header_index
    en, zh = prefix
    warnings: list[str] = [c.note(prefix) for c in layout.conversions if c is not None]
    titles = [i + 1 for i, r in enumerate(sheet.rows[:at]) if not _blank_row(r)]
    if titles:
        what = "row {} above the header was" if len(titles) == 1 else "rows {} above the header were"
        first = _preview(sheet.rows[titles[0] - 1], 3)
        warnings.append(
            f"{en}{what.format(_span(titles))} skipped as titles ({first}) / "
            f"{zh}表头（第 {at + 1} 行）以上的第 {_span(titles)} 行视为标题，未读取"
        )
    ignored = {_norm(i) for i in IGNORED}
    unknown = [
        str(h)
        for h, f in zip(layout.headers, layout.fields, strict=True)
        if f is None and not _blank(h) and _norm(h) not in ignored
    ]
    if unknown:
        warnings.append(f"{en}ignored column(s) {unknown}: not a known field / {zh}未使用的列 {unknown}：不是已知字段")
    if stray:
        rows_text = _span(sorted(set(stray))[:10]) + (" …" if len(set(stray)) > 10 else "")
        warnings.append(
            f"{en}row(s) {rows_text} have values in columns without a header: not used, "
            f"kept with the raw row; add a header if they matter / "
            f"{zh}第 {rows_text} 行在无表头的列中有数值：未使用，已随原始行保存；如需使用请补充表头"
        )
    if sheet.hidden and rows:
        warnings.append(f"{en}the sheet is hidden; its rows were read too / {zh}该工作表为隐藏工作表，其数据也已读取")
    return warnings


def _not_read_warning(sheet: _Sheet, required: list[str]) -> str:
    number, cells = sheet.first_content() or (1, [])
    return (
        f"{sheet.label()} was not read: no header row with {required} in its first {HEADER_SEARCH_ROWS} rows; "
        f"its first row ({number}) is {_preview(cells)} / 工作表“{sheet.name}”未读取：前 {HEADER_SEARCH_ROWS} "
        f"行中没有包含所需列的表头；其第一行（第 {number} 行）为 {_preview(cells)}"
    )


def _missing_columns(
    path: Path, sheets: list[_Sheet], lookup: dict[str, str], vocabulary: dict[str, list[str]], required: list[str]
) -> FileError:
    """No sheet has a header: name what is missing from the row that comes closest to one."""
    best: tuple[int, _Sheet, int] | None = None  # (required fields named, sheet, row number)
    for sheet in sheets:
        for i, cells in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            named = len({lookup.get(_norm(c)) for c in cells if not _blank(c)} & set(required))
            if not _blank_row(cells) and (best is None or named > best[0]):
                best = (named, sheet, i + 1)
    _, sheet, number = best or (0, sheets[0], 1)  # no row with a value (only formulas without one): say row 1
    cells = sheet.rows[number - 1] if sheet.rows else []
    present = {lookup.get(_norm(c)) for c in cells if not _blank(c)}
    missing = [f for f in required if f not in present] or required
    hints = ", ".join(f"{f} ({'/'.join(vocabulary.get(f, [])[:2])})" for f in missing)
    hints_zh = "、".join(f"{(vocabulary.get(f) or [f])[0]}（{f}）" for f in missing)
    where = f" (row {number}" + (f" of sheet '{sheet.name}')" if sheet.name is not None and len(sheets) > 1 else ")")
    headers = [str(h) for h in cells if not _blank(h)]
    return FileError(
        f"{path.name}: missing column(s) {hints}; the header row{where} has {headers} "
        f"(the header is looked for in the first {HEADER_SEARCH_ROWS} rows of each sheet)",
        f"{path.name}：缺少列 {hints_zh}；表头行（第 {number} 行）为 {headers}（在每张工作表的前 {HEADER_SEARCH_ROWS} 行中查找表头）",
    )


def _in_file(path: Path, prefix: tuple[str, str]) -> tuple[str, str]:
    """How a file error names where it is: the file, and the sheet when the workbook has several."""
    return f"{path.name}: {prefix[0]}", f"{path.name}：{prefix[1]}"


def read_rows(path: str | Path, vocabulary: dict[str, list[str]], required: list[str]) -> tuple[list[Row], list[str]]:
    """The file's data rows, and warnings (units converted, columns ignored, title rows skipped, sheets not read).

    Raises FileError when the file as a whole cannot be read: unknown type or encoding,
    no header with the required columns on any sheet, a unit the reader does not know
    for a money or area column, or no data rows at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path} does not exist", f"文件 {path} 不存在")
    lookup = _lookup(vocabulary)
    sheets = _sheets(path, lambda rows: _find_header(rows, lookup, required) is not None)
    content = [s for s in sheets if s.has_content()]
    if not content:
        raise FileError(f"{path.name} is empty", f"{path.name} 是空文件")
    found = [_Found(s, at) for s in content if (at := _find_header(s.rows, lookup, required)) is not None]
    if not found:
        raise _missing_columns(path, content, lookup, vocabulary, required)
    several = len(found) > 1
    prefixes = {id(s): (f"{s.label()}: ", f"工作表“{s.name}”：") if len(content) > 1 else ("", "") for s in content}
    layouts = {  # every sheet's headers first: a unit the reader does not know refuses the file before any row
        id(f.sheet): _layout(f.sheet.rows[f.header_index], lookup, _in_file(path, prefixes[id(f.sheet)])) for f in found
    }
    rows, warnings = [], []
    for s in content:
        f = next((f for f in found if f.sheet is s), None)
        if f is None:
            warnings.append(_not_read_warning(s, required))
            continue
        sheet_rows, sheet_warnings = _read_sheet(f, layouts[id(s)], several, prefixes[id(s)])
        rows += sheet_rows
        warnings += sheet_warnings
    if not rows:
        raise FileError(f"{path.name} has a header row but no data rows", f"{path.name} 只有表头，没有数据行")
    return rows, warnings
