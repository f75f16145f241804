"""Reading submitted files: CSV or XLSX, English or Chinese column headers.

A district office's spreadsheet says 固定资产投资（亿元）; a script says ``fai``. Both map
to the same field. Units in brackets and spaces in headers are ignored. Each row keeps its
spreadsheet row number (the header is row 1) and its raw cells, so a rejection can name
the row and the quarantine can keep exactly what was sent.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


class FileError(ValueError):
    """The whole file cannot be read (not a row problem)."""


@dataclass
class Row:
    number: int  # spreadsheet row number, header = 1
    raw: dict[str, Any]  # as sent, original headers
    values: dict[str, Any]  # mapped to field names, blanks dropped


def _norm(header: str) -> str:
    h = str(header).replace("\ufeff", "").strip()
    h = re.sub(r"[（(][^）)]*[）)]", "", h)  # units in brackets
    return re.sub(r"\s+", "", h).lower()


def header_map(headers: list[str], vocabulary: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """Original header → field name, and the headers that mean nothing here."""
    lookup = {}
    for field, names in vocabulary.items():
        lookup[_norm(field)] = field
        for n in names:
            lookup[_norm(n)] = field
    mapping, unknown = {}, []
    for h in headers:
        if h is None or str(h).strip() == "":
            continue
        field = lookup.get(_norm(h))
        if field is None:
            if _norm(h) not in {_norm(i) for i in IGNORED}:
                unknown.append(str(h))
        elif field in mapping.values():
            raise FileError(f"two columns mean '{field}': check the headers {headers}")
        else:
            mapping[h] = field
    return mapping, unknown


def _cells(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds
            raise FileError(f"{path.name} is not a readable XLSX file: {exc}") from None
        ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        wb.close()
        if not rows:
            raise FileError(f"{path.name}: the first sheet is empty")
        headers = [("" if h is None else str(h)) for h in rows[0]]
        return headers, [(i + 2, list(r)) for i, r in enumerate(rows[1:])]
    if suffix in (".csv", ".txt", ""):
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FileError(f"{path.name}: not UTF-8 or GB18030 text")
        reader = csv.reader(io.StringIO(text))
        rows = list(reader)
        if not rows:
            raise FileError(f"{path.name} is empty")
        return rows[0], [(i + 2, r) for i, r in enumerate(rows[1:])]
    raise FileError(f"{path.name}: use a .csv or .xlsx file")


def read_rows(path: str | Path, vocabulary: dict[str, list[str]], required: list[str]) -> tuple[list[Row], list[str]]:
    """The file's data rows, and warnings (columns that were ignored)."""
    path = Path(path)
    if not path.exists():
        raise FileError(f"{path} does not exist")
    headers, body = _cells(path)
    mapping, unknown = header_map(headers, vocabulary)
    missing = [f for f in required if f not in mapping.values()]
    if missing:
        hints = ", ".join(f"{f} ({'/'.join(vocabulary[f][:2])})" for f in missing)
        raise FileError(f"{path.name}: missing column(s) {hints}; the header row has {[h for h in headers if h]}")
    rows = []
    stray: list[int] = []
    for number, cells in body:
        if all(c is None or str(c).strip() == "" for c in cells):
            continue  # blank line, not a row
        raw = {str(h): c for h, c in zip(headers, cells) if h}
        # values in columns without a header are kept with the raw row, and reported
        for i, c in enumerate(cells):
            if (i >= len(headers) or not headers[i]) and c is not None and str(c).strip() != "":
                raw[f"(column {i + 1})"] = c
                stray.append(number)
        values = {}
        for h, c in zip(headers, cells):
            if h in mapping and c is not None and not (isinstance(c, str) and c.strip() == ""):
                values[mapping[h]] = c.strip() if isinstance(c, str) else c
        rows.append(Row(number=number, raw=raw, values=values))
    warnings = [f"ignored column(s) {unknown}: not a known field"] if unknown else []
    if stray:
        rows_text = ", ".join(str(n) for n in sorted(set(stray))[:10]) + (" …" if len(set(stray)) > 10 else "")
        warnings.append(f"row(s) {rows_text} have values in columns without a header: not used, "
                        "kept with the raw row; add a header if they matter")
    return rows, warnings
