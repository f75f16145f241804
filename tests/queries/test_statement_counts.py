"""The read side issues a fixed number of SQL statements, however many towns or events there are
(issue 9: `all_status` used to run several statements per town)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from towns.queries import all_status, history, round_detail, round_list, town_status

from .data import DECIDED, code_of, counting, populate

AS_OF = [None, DECIDED - timedelta(hours=1)]

# SQL the databases run differently (window functions, times compared as text or as moments)
pytestmark = pytest.mark.storage


@pytest.mark.parametrize("as_of", AS_OF, ids=["now", "as-of"])
def test_all_status_runs_the_same_statements_for_5_and_for_50_towns(engine, as_of):
    populate(engine, 5, months=3)
    with counting(engine) as five:
        rows = all_status(engine, as_of)
    assert len(rows) == 5
    populate(engine, 45, months=3, start=5)
    with counting(engine) as fifty:
        rows = all_status(engine, as_of)
    assert len(rows) == 50
    assert len(five) == len(fifty), (five, fifty)
    # towns, months reported, latest revisions, their findings, refused rows (+ the decisions recorded later)
    assert len(fifty) == (5 if as_of is None else 6), fifty


@pytest.mark.parametrize("as_of", AS_OF, ids=["now", "as-of"])
def test_one_towns_status_and_history_do_not_grow_with_its_events(engine, as_of):
    few, many = populate(engine, 1, months=1), populate(engine, 1, months=24, start=1)
    counts = {}
    for code in (*few, *many):
        with counting(engine) as status_statements:
            town_status(engine, code, as_of)
        with counting(engine) as history_statements:
            h = history(engine, code, as_of)
        counts[code] = (len(status_statements), len(history_statements))
        assert h.events
    assert counts[few[0]] == counts[many[0]], counts
    # history: ledger, reports, findings, rejections, decisions (+ the town and its later decisions)
    assert counts[many[0]] == ((5, 5) if as_of is None else (6, 7)), counts


def test_rounds_read_in_a_fixed_number_of_statements(engine):
    populate(engine, 5, months=1)
    with counting(engine) as small:
        detail = round_detail(engine, "round-2017-annual")
        round_list(engine)
    assert detail is not None and len(detail.towns) == 5
    populate(engine, 45, months=1, start=5)
    with counting(engine) as large:
        detail = round_detail(engine, "round-2017-annual")
        (summary,) = round_list(engine)
    assert detail is not None and len(detail.towns) == 50 and summary.towns == 50
    assert len(small) == len(large) == 5, large
    assert {t.code for t in detail.towns} == {code_of(i) for i in range(50)}
