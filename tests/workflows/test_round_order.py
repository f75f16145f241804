"""Decisions apply in year order: a round for an earlier year never rewrites what a later one
decided (issue: approving round-2017-annual after round-2018-annual reset a warning)."""

from datetime import date

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError

from towns.activities.rounds import Rounds
from towns.audit.replay import replay
from towns.audit.verify import verify
from towns.models.activities import ApplyRequest
from towns.models.round import Approval, DecisionRow, RoundKind, RoundRow
from towns.models.workflows import RoundStart, RoundView
from towns.rules.library import load_pack
from towns.workflows.round import RoundWorkflow


async def _good_2017_bad_2018(office) -> str:
    code = await office.register("ORD", listed_year=2016)
    await office.december(code, 2017, fai=20, tax=1.2)
    await office.december(code, 2018, fai=5, tax=1.3)
    return code


async def test_approving_an_earlier_year_after_a_later_one_is_refused(office):
    code = await _good_2017_bad_2018(office)
    h2017, r2017 = await office.start("annual", 2017, city_tax_growth=0.0)
    d2018 = await office.round("annual", 2018, city_tax_growth=0.0)
    assert next(t for t in d2018.towns if t.code == code).final_grade == "warning"
    assert (office.town(code).warnings, office.town(code).last_grade) == (1, "warning")

    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await h2017.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
    text = str(exc.value.cause.cause if exc.value.cause.cause else exc.value.cause)
    assert d2018.id in text and "year order" in text
    t = office.town(code)
    assert (t.warnings, t.last_grade) == (1, "warning")  # the 2018 warning stands
    view = await h2017.query(RoundWorkflow.view)
    assert view.state == "proposed" and view.approved_by is None
    with Session(office.engine) as s:
        assert s.exec(select(DecisionRow).where(DecisionRow.round_id == r2017)).all() == []


async def test_starting_a_round_for_an_earlier_year_is_refused_before_anything_is_written(office):
    code = await _good_2017_bad_2018(office)
    await office.round("annual", 2018, city_tax_growth=0.0)
    rid = f"round-2017-annual-late-{office.tag}"
    handle = await office.env.client.start_workflow(
        RoundWorkflow.run,
        RoundStart(kind=RoundKind.annual, year=2017, started_by="tester"),
        id=rid,
        task_queue=office.queue,
    )
    with pytest.raises(WorkflowFailureError) as exc:
        await handle.result()
    assert "year order" in str(exc.value.cause.cause) and code in str(exc.value.cause.cause)
    with Session(office.engine) as s:
        assert s.get(RoundRow, rid) is None
    assert office.town(code).warnings == 1


async def test_two_approvals_at_once_leave_the_later_decision_standing(office):
    """The last line of defence: if an earlier year's decision is applied after a later year's (two
    approvals racing past the check), it is recorded but leaves the town as it is."""
    code = await _good_2017_bad_2018(office)
    _, r2017 = await office.start("annual", 2017, city_tax_growth=0.0)
    await office.round("annual", 2018, city_tax_growth=0.0)
    pack = load_pack("sx2018", date(2017, 12, 31))
    Rounds(office.engine)._apply(
        ApplyRequest(
            round_id=r2017,
            kind=RoundKind.annual,
            year=2017,
            pack_id=pack.pack.id,
            pack_hash=pack.hash,
            by="王主任",
            overrides={},
            codes=[code],
        )
    )
    with Session(office.engine) as s:
        d = s.exec(select(DecisionRow).where(DecisionRow.round_id == r2017)).one()
    assert d.final_grade in ("excellent", "good", "pass")  # the 2017 grade, as proposed
    assert d.effects["warnings"] == 1 and "not applied to the town" in d.reason
    t = office.town(code)
    assert (t.warnings, t.last_grade) == (1, "warning")
    assert verify(office.engine).ok
    replayed = [r for r in replay(office.engine, round_id=r2017) if r.kind == "decision"]
    assert replayed and all(r.same for r in replayed), replayed
