"""The whole lifecycle on the time-skipping server: rounds, approvals, warnings, demotion,
elimination, acceptance and naming, applications, and years passing."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from towns.intake.service import apply_for_tier
from towns.models.round import Approval, DecisionRow, Override, RoundRow
from towns.models.workflows import RoundView, workflow_id
from towns.queries import RoundDetail, history
from towns.workflows.round import RoundWorkflow
from towns.workflows.town import TownWorkflow


def grade(detail: RoundDetail, code: str) -> tuple:
    t = next(t for t in detail.towns if t.code == code)
    return t.proposed_grade, t.final_grade


async def test_steady_town_is_named_after_three_years(office):
    code = await office.register("STEADY", listed_year=2016, industry="fashion")
    for year, tax in ((2016, 1.0), (2017, 1.3), (2018, 1.7)):
        await office.december(code, year, fai=20, tax=tax, scenic=3)
        d = await office.round("annual", year, city_tax_growth=0.05)
        assert grade(d, code)[1] in ("excellent", "good", "pass")
    acc = await office.round("acceptance", 2018)
    assert grade(acc, code) == ("named", "named")
    t = office.town(code)
    assert (t.state, t.tier) == ("named", "named")
    view = await office.query(code)
    assert view.profile.state == "named" and view.profile.tier == "named"
    # a named town is still graded every year
    await office.december(code, 2019, fai=20, tax=2.2)
    d = await office.round("annual", 2019, city_tax_growth=0.05)
    assert any(t.code == code for t in d.towns)


async def test_two_warnings_demote_a_creation_town_then_it_is_graded_in_its_new_tier(office):
    code = await office.register("SLOW", listed_year=2016, industry="fashion")
    await office.december(code, 2016, fai=5)
    d = await office.round("annual", 2016, city_tax_growth=0.0)
    assert grade(d, code) == ("warning", "warning")
    assert office.town(code).warnings == 1
    await office.december(code, 2017, fai=6)
    d = await office.round("annual", 2017, city_tax_growth=0.0)
    assert grade(d, code) == ("demoted", "demoted")
    t = office.town(code)
    assert (t.tier, t.state, t.warnings) == ("provincial_cultivation", "creating", 0)
    assert (await office.query(code)).profile.tier == "provincial_cultivation"
    await office.december(code, 2018, fai=20, tax=1.5)
    d = await office.round("annual", 2018, city_tax_growth=0.0)
    row = next(t for t in d.towns if t.code == code)
    assert row.tier == "provincial_cultivation" and row.final_grade in ("excellent", "good", "pass")


async def test_city_level_slow_and_poor_is_eliminated_at_once(office):
    code = await office.register("POOR", tier="city", planned_investment=36, listed_year=2016, industry="fashion")
    # slow and poor is Shaoxing's 2018 rule (SX2018-S3): a 2018 round
    await office.december(code, 2018, fai=4, industry=2, tax=0.5, innovation=0)  # target 12: 33 %
    d = await office.round("annual", 2018, city_tax_growth=0.1)
    assert grade(d, code) == ("eliminated", "eliminated")
    assert office.town(code).state == "eliminated"
    with pytest.raises(WorkflowUpdateFailedError):
        await office.december(code, 2019, fai=1)  # an eliminated town no longer reports


async def test_override_with_reason_is_applied_and_in_history(office):
    code = await office.register("OVR", listed_year=2016)
    await office.december(code, 2017, fai=5)
    d = await office.round(
        "annual", 2017, city_tax_growth=0.0, overrides=[Override(code=code, grade="pass", reason="台风停工，经核实")]
    )
    assert grade(d, code) == ("warning", "pass")
    assert next(t for t in d.towns if t.code == code).reason == "台风停工，经核实"
    assert office.town(code).warnings == 0
    events = [e for e in history(office.engine, code).events if e.kind == "decision"]
    assert events[-1].grade == "pass" and events[-1].by == "王主任" and events[-1].reason == "台风停工，经核实"
    assert events[-1].round.startswith("round-2017-annual")


async def test_override_without_reason_and_second_approval_are_refused(office):
    code = await office.register("NORSN", listed_year=2016)
    await office.december(code, 2017, fai=5)
    handle, rid = await office.start("annual", 2017, city_tax_growth=0.0)
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await handle.execute_update(
            RoundWorkflow.approve,
            Approval(by="王主任", overrides=[Override(code=code, grade="pass", reason="")]),
            result_type=RoundView,
        )
    assert "needs --reason" in str(exc.value.cause)
    assert office.town(code).warnings == 0 and office.town(code).last_grade is None  # nothing changed
    await handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
    # the round has finished: a second approval cannot reach it, and nothing changes
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(RoundWorkflow.approve, Approval(by="李四"), result_type=RoundView)
    with Session(office.engine) as s:
        assert {d.by for d in s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).all()} == {"王主任"}


async def test_application_round_admits_and_rejects(office):
    good = await office.register(
        "APPOK",
        state="applied",
        listed_year=None,
        tier="provincial_cultivation",
        planned_area_km2=3.0,
        core_area_km2=1.0,
        planned_investment=55,
    )
    big = await office.register(
        "APPBIG",
        state="applied",
        listed_year=None,
        tier="provincial_cultivation",
        planned_area_km2=4.2,
        core_area_km2=1.0,
        planned_investment=55,
    )
    d = await office.round("application", 2018)
    assert grade(d, good) == ("admitted", "admitted") and grade(d, big) == ("rejected", "rejected")
    assert (office.town(good).state, office.town(good).listed_year, office.town(good).tier) == (
        "creating",
        2018,
        "provincial_cultivation",
    )
    assert office.town(big).state == "rejected"
    area = next(f for f in next(t for t in d.towns if t.code == big).findings if not f.passed)
    assert area.clause == "ZJ-GUIDE-AREA"


async def test_a_city_town_moves_up_a_tier_by_application(office):
    code = await office.register(
        "UP", tier="city", planned_investment=60, listed_year=2015, planned_area_km2=3.0, core_area_km2=1.0
    )
    apply_for_tier(office.engine, code, "provincial_cultivation", "office")
    from towns.audit.verify import verify
    from towns.models.ledger import LedgerEntry

    with Session(office.engine) as s:
        (filed,) = s.exec(select(LedgerEntry).where(LedgerEntry.kind == "application", LedgerEntry.code == code)).all()
    assert filed.actor == "office" and filed.outcome == "applies for provincial_cultivation"
    assert verify(office.engine).ok
    d = await office.round("application", 2019)
    assert grade(d, code)[1] == "admitted"
    t = office.town(code)
    assert (t.tier, t.listed_year, t.applying_for) == ("provincial_cultivation", 2019, None)


async def test_overdue_approval_is_marked_not_approved(office_alone):
    office, env = office_alone, office_alone.env
    code = await office.register("LATE", listed_year=2016)
    await office.december(code, 2017, fai=20)
    handle, rid = await office.start("annual", 2017, city_tax_growth=0.0)
    await env.sleep(timedelta(days=15))
    view = await handle.query(RoundWorkflow.view)
    assert view.overdue and view.state == "proposed"
    with Session(office.engine) as s:
        row = s.get(RoundRow, rid)
        assert row.overdue and any(f["rule"] == "approval-overdue" for f in row.city["findings"])
        assert not s.exec(select(DecisionRow).where(DecisionRow.round_id == rid)).all()
    await handle.execute_update(RoundWorkflow.approve, Approval(by="王主任"), result_type=RoundView)
    assert office.town(code).last_grade is not None


async def test_five_years_continue_as_new_and_carry_state(office_alone):
    office, env = office_alone, office_alone.env
    code = await office.register("FIVE", listed_year=2016)
    first_run = (await env.client.get_workflow_handle(workflow_id(code)).describe()).run_id
    for year in range(2016, 2021):
        await office.december(code, year, fai=5 if year == 2016 else 20, tax=1.0 + 0.3 * (year - 2016))
        await office.round("annual", year, city_tax_growth=0.0)
        await env.sleep(timedelta(days=366))  # a year end passes: the workflow starts a new run
    handle = env.client.get_workflow_handle(workflow_id(code))
    assert (await handle.describe()).run_id != first_run
    view = await handle.query(TownWorkflow.state)
    assert view.profile.code == code and view.last_grade == office.town(code).last_grade
    assert len(view.decisions) == 5
    await office.december(code, 2021, fai=20, tax=3)  # still takes reports
