"""Writing cells into the workbooks the office circulates (the bulletin, a town's history),
so that no text we write can become a formula (CSV/formula injection, CWE-1236).

A town named ``=cmd|' /C calc'!A0`` or a submitter ``=HYPERLINK("http://x","y")`` is data,
not something for Excel to evaluate. Every cell goes through ``write_cell``:

- text is always stored as text (a shared string, ``data_type == "s"``), never as a
  formula (``"f"``) or an error value (``"e"``), whatever it starts with; the text is kept
  exactly as it is (nothing added, nothing removed);
- text that Excel or another spreadsheet would read as the start of a formula or a value
  (``=``, ``+``, ``-``, ``@``, a tab, a carriage return; also the error literals such as
  ``#REF!``) gets the cell's quote prefix (``quotePrefix`` in the cell format, what Excel
  sets when one types ``'=1+1``), so that Excel shows it as text and keeps it text when the
  cell is edited;
- numbers, booleans and dates stay what they are.

Workbook properties (title, subject…) are plain metadata that no spreadsheet evaluates;
they need no treatment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.worksheet.worksheet import Worksheet

# what makes a spreadsheet read a typed text as something else than text
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def risky(text: str) -> bool:
    """True when ``text`` would be read as a formula (or an error literal) if typed into a cell."""
    return text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES


def write_cell(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write ``value`` into ``ws`` at (row, col) and return the cell; text is neutralised (see above)."""
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=…" a formula and "#REF!" an error
        if risky(value):
            cell.quotePrefix = True
    return cell


def write_row(ws: Worksheet, row: int, values: Iterable[Any], start_col: int = 1) -> list[Cell]:
    """``write_cell`` for each value of a row, from ``start_col``; the replacement for ``ws.append``."""
    return [write_cell(ws, row, col, v) for col, v in enumerate(values, start_col)]
