"""The quarterly bulletin (季度通报, the programme's supervision clause): compute it from the database, render it as a
self-contained HTML page or an XLSX workbook.

    from towns.bulletin import beijing_today, check_publishable, compute_bulletin, render_html, write_xlsx
    check_publishable(engine, "2018Q2", beijing_today())   # BulletinRefused: not ended, June not yet due, or no town
    b = compute_bulletin(engine, "2018Q2", "sx2018", issued_on=beijing_today())  # as of 2018-07-10 24:00 Beijing
    b.model_dump(mode="json"); render_html(b); write_xlsx(b, "bulletin-2018Q2.xlsx")
"""

from .compute import (
    FIELD_LABELS,
    SECTION_LABELS,
    SHEET_NAMES,
    Bulletin,
    BulletinRefused,
    QuarterError,
    beijing_today,
    bulletin_as_of,
    check_publishable,
    compute_bulletin,
    parse_quarter,
    quarter_as_of,
    quarter_end,
    quarter_months,
    standing_as_of,
)
from .html import render_html
from .xlsx import read_back, write_xlsx

__all__ = [
    "FIELD_LABELS",
    "SECTION_LABELS",
    "SHEET_NAMES",
    "Bulletin",
    "BulletinRefused",
    "QuarterError",
    "beijing_today",
    "bulletin_as_of",
    "check_publishable",
    "compute_bulletin",
    "parse_quarter",
    "quarter_as_of",
    "quarter_end",
    "quarter_months",
    "read_back",
    "render_html",
    "standing_as_of",
    "write_xlsx",
]
