"""The history an inspector asks for, as an Excel file: one sheet per kind of event.

Every cell is written through ``towns.spreadsheet.write_cell``: a submitter, a reason or a
source that starts with ``=`` is text in the file, never a formula.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from ..queries import TownHistory
from ..spreadsheet import write_row

SHEETS = {
    "report": (
        "报表 Reports",
        [
            ("time", "记录时间 time"),
            ("period", "月份 period"),
            ("revision", "版本 revision"),
            ("submitted_by", "报送人 by"),
            ("correction", "更正 correction"),
            ("figures.fai", "固定资产投资 fai"),
            ("figures.industry_fai", "特色产业投资 industry_fai"),
            ("figures.nongov_fai", "非政府投资 nongov_fai"),
            ("figures.tax", "税收 tax"),
            ("source", "来源 source"),
            ("ledger_seq", "记录号 ledger seq"),
        ],
    ),
    "finding": (
        "检查 Findings",
        [
            ("time", "记录时间 time"),
            ("period", "月份 period"),
            ("revision", "版本 revision"),
            ("rule", "规则 rule"),
            ("clause", "条款 clause"),
            ("clause_zh", "条款内容 clause text"),
            ("passed", "达标 passed"),
            ("value", "数值 value"),
            ("threshold", "标准 threshold"),
            ("reason_zh", "说明 reason"),
            ("reason_en", "reason (English)"),
            ("pack.version", "规则版本 pack version"),
        ],
    ),
    "decision": (
        "决定 Decisions",
        [
            ("time", "记录时间 time"),
            ("round", "轮次 round"),
            ("period", "年度 year"),
            ("proposed_grade", "拟定 proposed"),
            ("grade", "审定 final"),
            ("score", "得分 score"),
            ("by", "审定人 by"),
            ("reason", "理由 reason"),
            ("before.tier", "原层级 tier before"),
            ("effects.tier", "层级 tier after"),
            ("before.state", "原状态 state before"),
            ("effects.state", "状态 state after"),
            ("effects.warnings", "连续警告 warnings"),
            ("pack.version", "规则版本 pack version"),
            ("ledger_seq", "记录号 ledger seq"),
        ],
    ),
    "rejection": (
        "退回 Rejections",
        [
            ("time", "时间 time"),
            ("period", "月份 period"),
            ("source", "来源 source"),
            ("submitted_by", "报送人 by"),
            ("problems", "问题 problems"),
        ],
    ),
}


def _get(event: Any, path: str) -> Any:
    """The value at ``path`` (``figures.fai``, ``before.tier``) of an event, as the cell shows it: times
    as ISO text, grades, states and tiers as their codes, problems joined into one line."""
    value: Any = event
    for part in path.split("."):
        value = getattr(value, part, None)
    if path == "problems" and isinstance(value, list):
        return "; ".join(f"{p.field}: {p.en}" for p in value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def history_xlsx(history: TownHistory, path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for kind, (title, columns) in SHEETS.items():
        ws = wb.create_sheet(title)
        for cell in write_row(ws, 1, [label for _, label in columns]):
            cell.font = Font(bold=True)
        row = 2
        for e in history.events:
            if e.kind == kind:
                write_row(ws, row, [_get(e, key) for key, _ in columns])
                row += 1
        ws.freeze_panes = "A2"
    info = wb.create_sheet("说明 About", 0)
    about: list[list[Any]] = [["小镇 town", history.code]]
    if history.as_of is not None:
        about.append(["截至 as of", history.as_of.isoformat()])
        if history.state is not None:
            for k, v in history.state.model_dump(mode="json").items():
                about.append([k, v])
    about.append(["事件数 events", len(history.events)])
    for row, values in enumerate(about, 1):
        write_row(info, row, values)
    wb.save(path)
