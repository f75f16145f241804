"""Property: whatever file a district office sends, the import never crashes, answers every row,
and accepted + quarantined = submitted (nothing is lost, nothing is taken twice).

Hypothesis writes whole report files (CSV in UTF-8 with and without BOM, GBK, UTF-16; XLSX with
several sheets, merged codes and formulas without values), with Chinese and English headers
and units, extra and missing columns, and rows mixing good figures with wrong types, huge
numbers, NaN and inf, months typed as numbers, control characters and overlong text. Each
file goes through read_rows and then import_reports against real town workflows (the
session's time-skipping server) and the test's database (SQLite and PostgreSQL).

Hypothesis drives a thread; each example's import runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError
from sqlalchemy import func
from sqlmodel import Session, select

from tests.factories import town
from tests.intake.test_files_property import ENCODINGS, UNITS, Sheet, write_csv, write_xlsx
from towns.intake.files import REPORT_HEADERS, FileError, read_rows
from towns.intake.service import import_reports, register_town
from towns.models.rejection import Rejection
from towns.models.report import MonthlyReport

pytestmark = pytest.mark.storage  # the database is the point here: both SQLite and PostgreSQL

REQUIRED = ["code", "period", "fai", "industry_fai", "nongov_fai"]
OPTIONAL = ["tax", "scenic_level", "correction", "submitted_by", "new_enterprises", "tourists_10k"]

MONEY = st.one_of(
    st.floats(min_value=0, max_value=30, allow_nan=False).map(lambda x: round(x, 2)),
    st.sampled_from(["inf", "-inf", "nan", "1e308", -1, "abc", "１２．５", "1,234.5", "", None, 1e308, "=C2*2"]),
)
PERIOD = st.one_of(
    st.integers(1, 12).map(lambda m: f"2018-{m:02d}"),
    st.sampled_from(
        [2018.1, 2018.12, 201805, "2018年3月", "2099-01", "2014-05", "2018-13", "", None, "二〇一八年", 2018.0]
    ),
)
TEXTISH = st.sampled_from([None, "张三", "a\x00b", "x" * 200, '=HYPERLINK("http://x","y")', "  "])
SCENIC = st.sampled_from([None, 3, "4A级", "AAAA", 7, "五A", -1])
FLAG = st.sampled_from([None, "", "是", "否", "maybe", True])


def cells(codes: list[str]):
    code = st.one_of(st.sampled_from(codes), st.sampled_from(["NOPE-1", "", None, "ＳＸ", "a" * 60]))
    junk = st.fixed_dictionaries(
        {
            "code": code,
            "period": PERIOD,
            "fai": MONEY,
            "industry_fai": MONEY,
            "nongov_fai": MONEY,
            "tax": MONEY,
            "scenic_level": SCENIC,
            "correction": FLAG,
            "submitted_by": TEXTISH,
            "new_enterprises": MONEY,
            "tourists_10k": MONEY,
        }
    )
    return st.one_of(junk, good(codes), good(codes))


@st.composite
def good(draw, codes: list[str]) -> dict:
    """A row an office would send: figures that hold together (its month may still clash with others)."""
    m = draw(st.integers(1, 12))
    fai = round(draw(st.floats(min_value=0.5, max_value=2.0)) * m, 2)
    return {
        "code": draw(st.sampled_from(codes)),
        "period": f"2018-{m:02d}",
        "fai": fai,
        "industry_fai": round(fai * 0.8, 2),
        "nongov_fai": round(fai * 0.9, 2),
        "tax": round(0.1 * m, 2),
        "scenic_level": draw(st.sampled_from([None, 3, "4A级"])),
        "correction": draw(st.sampled_from([None, "是"])),
        "submitted_by": None,
        "new_enterprises": draw(st.sampled_from([None, 3])),
        "tourists_10k": None,
    }


@st.composite
def report_file(draw, codes: list[str]):
    """(sheets, is_csv, encoding): a report file's model."""
    fields = (
        REQUIRED[:] if draw(st.integers(0, 6)) else draw(st.lists(st.sampled_from(REQUIRED), max_size=4, unique=True))
    )
    fields += draw(st.lists(st.sampled_from(OPTIONAL), max_size=4, unique=True))
    if draw(st.booleans()):
        fields.append("备注")
    fields = draw(st.permutations(fields))

    def header(f: str) -> str:
        if f == "备注":
            return f
        name = draw(st.sampled_from([f, *REPORT_HEADERS[f][:2]]))
        return name + draw(st.sampled_from(UNITS))

    headers = [header(f) for f in fields]
    rows = draw(st.lists(cells(codes), min_size=0, max_size=12))
    data = [[r.get(f, "note") for f in fields] for r in rows]
    is_csv = draw(st.booleans())
    sheets = [Sheet("柯桥", header=headers, recognised=True, data=data)]
    if not is_csv and len(data) > 3 and draw(st.booleans()):  # a second sheet of the same form
        cut = draw(st.integers(1, len(data) - 1))
        sheets = [
            Sheet("柯桥", header=headers, recognised=True, data=data[:cut]),
            Sheet("越城", header=headers, recognised=True, data=data[cut:]),
        ]
    if is_csv:
        for s in sheets:
            s.data = [["" if c is None else str(c) for c in r] for r in s.data]
    return sheets, is_csv, draw(st.sampled_from(ENCODINGS))


async def test_any_report_file_is_answered_row_by_row(env, engine, worker):
    px = worker[-6:]
    codes = [f"PP{px}{i}" for i in range(3)]
    for c in codes:
        await register_town(env.client, engine, town(code=c, listed_year=2015), "office", worker)
    loop = asyncio.get_running_loop()
    seen: list[int] = []

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(model=report_file(codes))
    def check(model):
        sheets, is_csv, encoding = model
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / ("r.csv" if is_csv else "r.xlsx")
            try:
                if is_csv:
                    write_csv(path, sheets[0], encoding, ",")
                else:
                    write_xlsx(path, sheets)
            except (UnicodeEncodeError, ValueError, IllegalCharacterError):
                return  # the generator made a file no office could save (e.g. NUL in XLSX)
            try:
                rows, _ = read_rows(path, REPORT_HEADERS, REQUIRED)
            except FileError as e:
                assert e.en and e.zh  # a whole-file problem, said in both languages
                return
        with Session(engine) as s:
            quarantined_before = s.exec(select(func.count()).select_from(Rejection)).one()
            reports_before = s.exec(select(func.count()).select_from(MonthlyReport)).one()
        results = asyncio.run_coroutine_threadsafe(
            import_reports(env.client, engine, rows, by="prop", source=path.name), loop
        ).result(120)
        assert [r.where for r in results] == [r.where for r in rows]  # every row answered, in file order
        statuses = [r.status for r in results]
        assert set(statuses) <= {"accepted", "corrected", "unchanged", "rejected"}, statuses
        for r in results:
            assert r.accepted or (r.problems and all(p.en and p.zh for p in r.problems)), r
        with Session(engine) as s:
            quarantined = s.exec(select(func.count()).select_from(Rejection)).one() - quarantined_before
            recorded = s.exec(select(func.count()).select_from(MonthlyReport)).one() - reports_before
        assert quarantined == statuses.count("rejected")
        assert recorded == statuses.count("accepted") + statuses.count("corrected")
        assert quarantined + sum(r.accepted for r in results) == len(rows)  # accepted + quarantined = submitted
        seen.append((len(rows), sum(r.accepted for r in results)))

    await asyncio.to_thread(check)
    assert sum(a for _, a in seen) > 0 and sum(n - a for n, a in seen) > 0  # both kinds of answer were tried
    print(f"imported {len(seen)} files, {sum(n for n, _ in seen)} rows, {sum(a for _, a in seen)} accepted")


TOWN_REQUIRED = ["code", "name", "district", "tier", "industry"]
TOWN_OPTIONAL = [
    "listed_year",
    "creation_years",
    "planned_investment",
    "annual_fai_target",
    "planned_area_km2",
    "core_area_km2",
    "state",
    "batch",
]


@st.composite
def town_cells(draw, px: str) -> dict:
    junk = {
        "code": draw(
            st.sampled_from([f"TP{px}1", f"TP{px}2", "x", "", None, "a\x00b", "ＴＰ－１", "=cmd|' /C calc'!A0"])
        ),
        "name": draw(st.sampled_from(["甲镇", "", None, "y" * 150, '=HYPERLINK("x")', "乙\u3000镇"])),
        "district": draw(st.sampled_from(["keqiao", "柯桥", "越城区", "atlantis", "", None])),
        "tier": draw(st.sampled_from(["provincial_creation", "省级培育对象", "市级", "named", "foo", None])),
        "industry": draw(st.sampled_from(["fashion", "黄酒", "旅游", "钢铁", None])),
        "listed_year": draw(st.sampled_from([2016, "2016", 2016.0, 1999, "inf", None, "二〇一六"])),
        "creation_years": draw(st.sampled_from([3, "", 0, 1e308, None])),
        "planned_investment": draw(st.sampled_from([50, "inf", -5, "1,200", None, "abc"])),
        "annual_fai_target": draw(st.sampled_from([None, 15, 0, "nan"])),
        "planned_area_km2": draw(st.sampled_from([None, 3.0, 20000, "３．２"])),
        "core_area_km2": draw(st.sampled_from([None, 1.0, 5.0])),
        "state": draw(st.sampled_from([None, "creating", "申报中", "gone"])),
        "batch": draw(st.sampled_from([None, 1, 2.0, "第一批", "z" * 50])),
    }
    return junk


@st.composite
def town_file(draw, px: str):
    fields = TOWN_REQUIRED[:] + draw(st.lists(st.sampled_from(TOWN_OPTIONAL), max_size=5, unique=True))
    fields = draw(st.permutations(fields))
    from towns.intake.files import TOWN_HEADERS

    headers = [draw(st.sampled_from([f, *TOWN_HEADERS[f][:2]])) for f in fields]
    rows = draw(st.lists(town_cells(px), max_size=8))
    data = [[r.get(f) for f in fields] for r in rows]
    return Sheet("名录", header=headers, recognised=True, data=data)


async def test_any_town_file_is_answered_row_by_row(env, engine, worker):
    from towns.intake.files import TOWN_HEADERS
    from towns.intake.service import import_towns
    from towns.models.town import Town

    px = worker[-6:]
    loop = asyncio.get_running_loop()
    seen: list[tuple[int, int]] = []

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(sheet=town_file(px))
    # one file always gets through to the import: generated files may all be refused before it
    @example(
        sheet=Sheet(
            "名录",
            header=TOWN_REQUIRED,
            recognised=True,
            data=[[f"TP{px}1", "甲镇", "keqiao", "provincial_creation", "fashion"]],
        )
    )
    def check(sheet):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "towns.xlsx"
            try:
                write_xlsx(path, [sheet])
            except (ValueError, IllegalCharacterError):
                return
            try:
                rows, _ = read_rows(path, TOWN_HEADERS, TOWN_REQUIRED)
            except FileError as e:
                assert e.en and e.zh
                return
        with Session(engine) as s:
            quarantined_before = s.exec(select(func.count()).select_from(Rejection)).one()
        results = asyncio.run_coroutine_threadsafe(
            import_towns(env.client, engine, rows, by="prop", source=path.name, task_queue=worker), loop
        ).result(120)
        assert [r.where for r in results] == [r.where for r in rows]
        for r in results:
            assert r.status in ("registered", "unchanged", "rejected"), r
            assert r.accepted or (r.problems and all(p.en and p.zh for p in r.problems)), r
        with Session(engine) as s:
            quarantined = s.exec(select(func.count()).select_from(Rejection)).one() - quarantined_before
            registered = {t.code for t in s.exec(select(Town)).all()}
        assert quarantined + sum(r.accepted for r in results) == len(rows)
        assert all(r.code in registered for r in results if r.accepted)
        seen.append((len(rows), sum(r.accepted for r in results)))

    await asyncio.to_thread(check)
    assert sum(n for n, _ in seen) > 0
