"""The bulletin as an XLSX workbook: one sheet per section, Chinese headers with English,
numbers stored as numbers (completion and shares as numbers formatted as percent).

``read_back(path)`` reads a workbook written here into the JSON's shape (the sections'
fields by name), so that a file can be checked against the bulletin it came from.

Every cell is written through ``towns.spreadsheet.write_cell``: a town or a person named
``=…`` is text in the file, never a formula.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..spreadsheet import write_cell
from .compute import (
    CITY_LABELS,
    FIELD_LABELS,
    SHEET_NAMES,
    STATUS_LABELS,
    Bulletin,
    DistrictProgress,
    EarlyWarning,
    MissingReport,
    Reason,
    TownFindingOut,
    TownProgress,
)

MONEY = "#,##0.00"
PERCENT = "0.00%"
INTEGER = "0"
TEXT = "@"

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="EDF2F7")
BEHIND_FILL = PatternFill("solid", fgColor="FFF5F5")


def _findings_text(items: Iterable[TownFindingOut | Reason]) -> str:
    return "\n".join(
        f"{getattr(f, 'period', '')} {f.clause} {f.rule}: {f.reason_zh} / {f.reason_en}".strip() for f in items
    )


# (key, header, number format, value from the row object)
Column = tuple[str, str, str | None, Callable[[Any], Any]]

# a row object of one of the tables
Row = TownProgress | DistrictProgress | EarlyWarning | MissingReport

# what a cell is given: text, a number, a flag or nothing
CellValue = str | int | float | bool | None


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda o: getattr(o, name)


TOWN_COLUMNS: list[Column] = [
    ("rank", FIELD_LABELS["rank"], INTEGER, _attr("rank")),
    ("tier_rank", FIELD_LABELS["tier_rank"], INTEGER, _attr("tier_rank")),
    ("code", FIELD_LABELS["code"], TEXT, _attr("code")),
    ("name", FIELD_LABELS["name"], TEXT, _attr("name")),
    ("district_zh", FIELD_LABELS["district"], TEXT, _attr("district_zh")),
    ("district", "区县代码 district code", TEXT, _attr("district")),
    ("tier_zh", FIELD_LABELS["tier"], TEXT, _attr("tier_zh")),
    ("tier", "类别代码 tier code", TEXT, _attr("tier")),
    ("fai", FIELD_LABELS["fai"], MONEY, _attr("fai")),
    ("industry_fai", FIELD_LABELS["industry_fai"], MONEY, _attr("industry_fai")),
    ("nongov_fai", FIELD_LABELS["nongov_fai"], MONEY, _attr("nongov_fai")),
    ("annual_target", FIELD_LABELS["annual_target"], MONEY, _attr("annual_target")),
    ("completion", FIELD_LABELS["completion"], PERCENT, _attr("completion")),
    ("behind_schedule", FIELD_LABELS["behind_schedule"], None, _attr("behind_schedule")),
    ("findings", FIELD_LABELS["findings"], TEXT, lambda t: _findings_text(t.findings)),
]

DISTRICT_COLUMNS: list[Column] = [
    ("district_zh", FIELD_LABELS["district"], TEXT, _attr("district_zh")),
    ("district", "区县代码 district code", TEXT, _attr("district")),
    ("towns", FIELD_LABELS["towns"], TEXT, lambda d: "、".join(d.towns)),
    ("total", FIELD_LABELS["total"], MONEY, _attr("total")),
    ("quota", FIELD_LABELS["quota"], MONEY, _attr("quota")),
    ("completion", FIELD_LABELS["completion"], PERCENT, _attr("completion")),
    ("elapsed_share", FIELD_LABELS["elapsed_share"], PERCENT, _attr("elapsed_share")),
]

WARNING_COLUMNS: list[Column] = [
    ("code", FIELD_LABELS["code"], TEXT, _attr("code")),
    ("name", FIELD_LABELS["name"], TEXT, _attr("name")),
    ("tier_zh", FIELD_LABELS["tier"], TEXT, _attr("tier_zh")),
    ("tier", "类别代码 tier code", TEXT, _attr("tier")),
    ("projected_grade_zh", FIELD_LABELS["projected_grade"], TEXT, _attr("projected_grade_zh")),
    ("projected_grade", "预计等级代码 projected grade code", TEXT, _attr("projected_grade")),
    ("projected_score", FIELD_LABELS["projected_score"], "0.00", _attr("projected_score")),
    ("fai", FIELD_LABELS["fai"], MONEY, _attr("fai")),
    ("projected_fai", FIELD_LABELS["projected_fai"], MONEY, _attr("projected_fai")),
    ("annual_target", FIELD_LABELS["annual_target"], MONEY, _attr("annual_target")),
    ("warnings_before", FIELD_LABELS["warnings_before"], INTEGER, _attr("warnings_before")),
    (
        "reasons",
        FIELD_LABELS["reasons"],
        TEXT,
        lambda w: "\n".join([f"{w.basis_zh} / {w.basis_en}"] + [_findings_text([r]) for r in w.reasons]),
    ),
]

MISSING_COLUMNS: list[Column] = [
    ("code", FIELD_LABELS["code"], TEXT, _attr("code")),
    ("name", FIELD_LABELS["name"], TEXT, _attr("name")),
    ("period", FIELD_LABELS["period"], TEXT, _attr("period")),
    ("due", FIELD_LABELS["due"], TEXT, _attr("due")),
    ("status_label", FIELD_LABELS["status"], TEXT, lambda m: STATUS_LABELS.get(m.status, m.status)),
    ("status", "状态代码 status code", TEXT, _attr("status")),
    ("received_at", FIELD_LABELS["received_at"], TEXT, _attr("received_at")),
]

TABLES: dict[str, list[Column]] = {
    "towns": TOWN_COLUMNS,
    "districts": DISTRICT_COLUMNS,
    "early_warnings": WARNING_COLUMNS,
    "missing_reports": MISSING_COLUMNS,
}

META_LABELS = {
    "quarter": "季度 quarter",
    "issued_on": "发布日期 issued on",
    "as_of": "数据截至 as of (北京时间 Beijing time)",
    "status": "状态 status",
    "period": "数据期 period (YTD to)",
    "elapsed_share": "时序进度 elapsed share",
    "pace_factor": "进度系数 pace factor",
    "pack": "规则包 rule pack",
    "synthetic_note": "说明 note",
}
MONTHLY_HEADER = (FIELD_LABELS["period"], FIELD_LABELS["total_fai"], FIELD_LABELS["towns_reported"])


DRAFT_STATUS = "未发布草稿 draft, not published"
ISSUED_STATUS = "正式通报 issued"


def _header(ws: Worksheet, row: int, labels: Iterable[str]) -> None:
    for col, label in enumerate(labels, 1):
        c = write_cell(ws, row, col, label)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")


def _put(ws: Worksheet, row: int, col: int, value: CellValue, fmt: str | None) -> Cell:
    c = write_cell(ws, row, col, value)
    if fmt and fmt != TEXT and isinstance(value, (int, float)) and not isinstance(value, bool):
        c.number_format = fmt
    if isinstance(value, str) and "\n" in value:
        c.alignment = Alignment(wrap_text=True, vertical="top")
    return c


def _table_sheet(wb: Workbook, key: str, columns: list[Column], items: Sequence[Row]) -> None:
    ws = wb.create_sheet(SHEET_NAMES[key])
    _header(ws, 1, [c[1] for c in columns])
    for r, item in enumerate(items, 2):
        for col, (_, _, fmt, get) in enumerate(columns, 1):
            cell = _put(ws, r, col, get(item), fmt)
            if key == "towns" and isinstance(item, TownProgress) and item.behind_schedule:
                cell.fill = BEHIND_FILL
    for col, (k, label, _, _) in enumerate(columns, 1):
        wide = k in ("findings", "reasons")
        ws.column_dimensions[get_column_letter(col)].width = 80 if wide else max(12, min(28, len(label) + 2))
    ws.freeze_panes = "A2"


def _city_sheet(wb: Workbook, b: Bulletin) -> None:
    ws = wb.create_sheet(SHEET_NAMES["city"])
    c = b.city
    title = f"{b.title_zh} — {b.title_en}" + (f" ({DRAFT_STATUS})" if b.draft else "")
    write_cell(ws, 1, 1, title).font = Font(bold=True, size=13)
    meta: list[tuple[str, CellValue, str | None]] = [
        ("quarter", b.quarter, None),
        ("issued_on", b.issued_on.isoformat() if b.issued_on else "", None),
        ("as_of", b.as_of.isoformat() if b.as_of else "", None),
        ("status", DRAFT_STATUS if b.draft else ISSUED_STATUS, None),
        ("period", b.period, None),
        ("elapsed_share", b.elapsed_share, PERCENT),
        ("pace_factor", b.pace_factor, "0.00"),
        ("pack", f"{b.pack.id} {b.pack.version} {b.pack.hash}", None),
        ("synthetic_note", b.synthetic_note or "", None),
    ]
    row = 2
    for key, value, fmt in meta:
        write_cell(ws, row, 1, META_LABELS[key]).font = HEADER_FONT
        _put(ws, row, 2, value, fmt)
        row += 1
    row += 1
    _header(
        ws,
        row,
        [
            FIELD_LABELS["indicator"],
            FIELD_LABELS["value"],
            FIELD_LABELS["target"],
            FIELD_LABELS["completion"],
            FIELD_LABELS["clause"],
        ],
    )
    row += 1
    indicators = [
        ("total_fai", c.total_fai, c.fai_target, c.fai_completion, MONEY, b.clauses.get("fai_target", "")),
        (
            "total_industry_fai",
            c.total_industry_fai,
            c.industry_fai_target,
            c.industry_fai_completion,
            MONEY,
            b.clauses.get("industry_fai_target", ""),
        ),
        (
            "provincial_nongov_share",
            c.provincial_nongov_share,
            c.nongov_share_min,
            None,
            PERCENT,
            b.clauses.get("nongov_share_min", ""),
        ),
    ]
    for key, value, target, completion, fmt, clause in indicators:
        write_cell(ws, row, 1, CITY_LABELS[key])
        _put(ws, row, 2, value, fmt)
        _put(ws, row, 3, target, fmt)
        _put(ws, row, 4, completion, PERCENT)
        write_cell(ws, row, 5, clause)
        row += 1
    row += 1
    _header(ws, row, MONTHLY_HEADER)
    row += 1
    for m in c.monthly_cumulative:
        write_cell(ws, row, 1, m.period)
        _put(ws, row, 2, m.total_fai, MONEY)
        _put(ws, row, 3, m.towns_reported, INTEGER)
        row += 1
    ws.column_dimensions["A"].width = 42
    for col in "BCDE":
        ws.column_dimensions[col].width = 18


def write_xlsx(bulletin: Bulletin, path: str | Path) -> Path:
    """Write the workbook; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    _city_sheet(wb, bulletin)
    _table_sheet(wb, "towns", TOWN_COLUMNS, bulletin.towns)
    _table_sheet(wb, "districts", DISTRICT_COLUMNS, bulletin.districts)
    _table_sheet(wb, "early_warnings", WARNING_COLUMNS, bulletin.early_warnings)
    _table_sheet(wb, "missing_reports", MISSING_COLUMNS, bulletin.missing_reports)
    # document metadata, never evaluated by a spreadsheet (see towns.spreadsheet)
    wb.properties.title = f"{bulletin.title_zh} — {bulletin.title_en}"
    wb.save(path)
    return path


def read_back(path: str | Path) -> dict[str, Any]:
    """The workbook's content by field name: {"city": {...}, "towns": [{...}], "districts": [...], ...}.
    Text columns come back as written (findings and reasons joined, one a line)."""
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        data: dict[str, Any] = {}
        for key, columns in TABLES.items():
            rows = list(wb[SHEET_NAMES[key]].iter_rows(values_only=True))
            by_label = {c[1]: c[0] for c in columns}
            keys = [by_label.get(h) for h in rows[0]] if rows else []
            data[key] = [
                {k: v for k, v in zip(keys, r, strict=False) if k is not None}
                for r in rows[1:]
                if any(v is not None for v in r)
            ]
        city: dict[str, Any] = {"monthly_cumulative": []}
        by_city_label = {v: k for k, v in CITY_LABELS.items()}
        by_meta_label = {v: k for k, v in META_LABELS.items()}
        targets = {
            "total_fai": ("fai_target", "fai_completion"),
            "total_industry_fai": ("industry_fai_target", "industry_fai_completion"),
            "provincial_nongov_share": ("nongov_share_min", None),
        }
        in_months = False
        for r in wb[SHEET_NAMES["city"]].iter_rows(values_only=True):
            first = r[0] if r else None
            if first in by_meta_label:
                city.setdefault("meta", {})[by_meta_label[first]] = r[1]
            elif first in by_city_label:
                key = by_city_label[first]
                city[key] = r[1]
                target_key, completion_key = targets[key]
                city[target_key] = r[2]
                if completion_key:
                    city[completion_key] = r[3]
            elif first == MONTHLY_HEADER[0]:
                in_months = True
            elif in_months and first:
                city["monthly_cumulative"].append({"period": first, "total_fai": r[1], "towns_reported": r[2]})
        data["city"] = city
        return data
    finally:
        wb.close()
