"""The quarterly bulletin (季度通报, SX2018-S3): compute it from the database, render it as a
self-contained HTML page or an XLSX workbook.

    from towns.bulletin import compute_bulletin, render_html, write_xlsx
    b = compute_bulletin(engine, "2018Q2", load_pack("sx2018"))
    b.model_dump(mode="json"); render_html(b); write_xlsx(b, "bulletin-2018Q2.xlsx")
"""

from .compute import (FIELD_LABELS, SECTION_LABELS, SHEET_NAMES, Bulletin, compute_bulletin, parse_quarter,
                      quarter_months)
from .html import render_html
from .xlsx import read_back, write_xlsx

__all__ = ["Bulletin", "FIELD_LABELS", "SECTION_LABELS", "SHEET_NAMES", "compute_bulletin", "parse_quarter",
           "quarter_months", "read_back", "render_html", "write_xlsx"]
