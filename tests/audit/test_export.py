"""The town-history workbook (`towns history CODE --xlsx`): what a submitter, a reason or a source
says is text in the file, never a formula."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlmodel import Session

from towns.audit.export import history_xlsx
from towns.models.finding import FindingRow
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport
from towns.models.round import DecisionRow
from towns.models.town import Town
from towns.queries import history

T = datetime(2018, 4, 5, 8, 0, tzinfo=UTC)
HYPERLINK = '=HYPERLINK("http://x","y")'
CALC = "=cmd|' /C calc'!A0"
PLUS, MINUS, AT = "+1+2", "-3+4", "@SUM(1+1)"


def test_history_workbook_writes_text_as_text(engine, tmp_path):
    with Session(engine) as s:
        s.add(
            Town(
                code="SX-H",
                name=CALC,
                district="keqiao",
                tier="provincial_creation",
                industry="fashion",
                listed_year=2016,
                planned_investment=50,
                registered_at=T,
                registered_by=HYPERLINK,
            )
        )
        s.add(
            MonthlyReport(
                submission_id="h:1",
                code="SX-H",
                period="2018-03",
                revision=1,
                fai=3.0,
                industry_fai=2.5,
                nongov_fai=2.8,
                submitted_by=HYPERLINK,
                source=CALC,
                received_at=T,
                recorded_at=T,
                raw={},
            )
        )
        s.add(
            FindingRow(
                key="h:1/pace",
                submission_id="h:1",
                code="SX-H",
                period="2018-03",
                revision=1,
                rule="pace-provincial",
                clause="SX2018-G3",
                passed=False,
                inputs={},
                reason_zh=MINUS,
                reason_en=PLUS,
                pack_id="sx2018",
                pack_version="2018.2",
                pack_hash="x",
                recorded_at=T,
            )
        )
        s.add(
            Rejection(
                kind="report",
                code="SX-H",
                period="2018-02",
                source=PLUS,
                submitted_by=AT,
                received_at=T,
                raw={},
                problems=[{"field": "fai", "en": "not a number", "zh": "不是数字"}],
            )
        )
        s.add(
            DecisionRow(
                round_id="round-2017-annual",
                kind="annual",
                year=2017,
                code="SX-H",
                proposed_grade="warning",
                final_grade="pass",
                by=AT,
                reason=CALC,
                before={"state": "creating", "tier": "provincial_creation"},
                effects={"state": "creating", "tier": "provincial_creation", "warnings": 0},
                pack_id="sx2018",
                pack_version="2018.2",
                pack_hash="x",
                recorded_at=T,
            )
        )
        s.commit()
    h = history(engine, "SX-H", datetime(2030, 1, 1, tzinfo=UTC))
    path = tmp_path / "history.xlsx"
    history_xlsx(h, path)

    wb = load_workbook(path)
    found = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if c.value in (HYPERLINK, CALC, PLUS, MINUS, AT):
                    found.setdefault(c.value, []).append(c)
                    assert c.data_type == "s" and c.quotePrefix is True, (ws.title, c.coordinate)
    # the submitter and source of the report, the finding's reasons, the rejection's, the decision's maker and reason
    assert sorted(found) == sorted([HYPERLINK, CALC, PLUS, MINUS, AT])
    assert len(found[CALC]) == 2 and len(found[PLUS]) == 2 and len(found[AT]) == 2
    reports = list(wb["报表 Reports"].iter_rows(min_row=2, values_only=True))
    assert reports[0][3] == HYPERLINK and reports[0][5] == 3.0  # numbers stay numbers
    assert wb["决定 Decisions"]["H2"].value == CALC
    about = {r[0]: r[1] for r in wb["说明 About"].iter_rows(values_only=True)}
    assert about["小镇 town"] == "SX-H" and about["事件数 events"] == 4 and about["state"] == "creating"
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                xml = z.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
