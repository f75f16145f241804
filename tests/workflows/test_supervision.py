"""Overdue reports (SX2018-S3) and the quarterly bulletin workflow on the time-skipping server."""

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError

from tests.factories import report
from towns.intake.service import submit_report
from towns.models.bulletin import BulletinRow
from towns.models.finding import FindingRow
from towns.models.period import period_of, reporting_from
from towns.models.workflows import BulletinRequest, workflow_id
from towns.queries import history
from towns.workflows.bulletin import BulletinWorkflow, quarter_just_ended
from towns.workflows.town import TownWorkflow, next_month, report_deadline

CST = timezone(timedelta(hours=8))


def test_deadline_is_the_end_of_the_tenth_of_the_next_month():
    assert report_deadline("2018-03", 10) == datetime(2018, 4, 11, tzinfo=CST)
    assert report_deadline("2018-12", 10) == datetime(2019, 1, 11, tzinfo=CST)
    assert next_month("2018-12") == "2019-01"


def test_quarter_just_ended():
    assert quarter_just_ended(datetime(2018, 7, 15, 1, 0, tzinfo=UTC)) == "2018Q2"
    assert quarter_just_ended(datetime(2019, 1, 15, 1, 0, tzinfo=UTC)) == "2018Q4"
    # 1 April 00:30 in Beijing is still 31 March in UTC: Beijing time decides
    assert quarter_just_ended(datetime(2018, 3, 31, 16, 30, tzinfo=UTC)) == "2018Q1"


async def test_skipped_month_is_overdue_and_a_late_report_closes_it(office_alone):
    office, env = office_alone, office_alone.env
    code = await office.register("OVD", listed_year=2016)
    handle = env.client.get_workflow_handle(workflow_id(code))
    first = (await handle.query(TownWorkflow.state)).watch_next
    # the first month is skipped; once its due date has passed, the next one is reported on time
    await env.sleep(report_deadline(first, 10) - datetime.now(UTC) + timedelta(hours=1))
    await submit_report(
        env.client,
        report(code=code, period=next_month(first), fai=1.0, industry_fai=0.8, nongov_fai=0.9, submission_id="on-time"),
    )
    view = await handle.query(TownWorkflow.state)
    assert list(view.overdue) == [first]
    with Session(office.engine) as s:
        (overdue,) = s.exec(
            select(FindingRow).where(FindingRow.code == code, FindingRow.rule == "report-overdue")
        ).all()
    assert overdue.period == first and overdue.clause == "SX2018-S3" and not overdue.passed
    assert overdue.inputs["due"] == (report_deadline(first, 10) - timedelta(days=1)).date().isoformat()
    # the late report is still accepted and closes the item
    out = await submit_report(
        env.client, report(code=code, period=first, fai=0.5, industry_fai=0.4, nongov_fai=0.45, submission_id="late")
    )
    assert out.revision == 1
    assert (await handle.query(TownWorkflow.state)).overdue == {}
    rules = [e.rule for e in history(office.engine, code).events if e.kind == "finding" and e.period == first]
    assert "report-overdue" in rules and "report-late" in rules
    # the month reported on time never became overdue
    with Session(office.engine) as s:
        assert not s.exec(
            select(FindingRow).where(
                FindingRow.code == code, FindingRow.rule == "report-overdue", FindingRow.period == next_month(first)
            )
        ).all()


async def test_bulletin_workflow_stores_a_quarter_once(office_alone):
    office, env = office_alone, office_alone.env
    code = await office.register("BUL", listed_year=2016)
    await submit_report(env.client, report(code=code, period="2018-06", fai=6.0, industry_fai=5.0, nongov_fai=5.5))
    results = []
    for n in range(2):
        results.append(
            await env.client.execute_workflow(
                BulletinWorkflow.run,
                BulletinRequest(quarter="2018Q2", by="tester"),
                id=f"bulletin-2018Q2-{office.tag}-{n}",
                task_queue=office.queue,
            )
        )
    assert [r.new for r in results] == [True, False]
    assert results[0].published_at == results[1].published_at
    with Session(office.engine) as s:
        rows = s.exec(select(BulletinRow)).all()
    assert [r.quarter for r in rows] == ["2018Q2"]
    town = next(t for t in rows[0].content["towns"] if t["code"] == code)
    assert town["completion"] == 0.4 and town["behind_schedule"] is False  # 6 of 15 = 0.4 ≥ 0.5 × 0.8
    # started as the schedule starts it: no quarter given, the quarter just ended by workflow time.
    # Time does not skip meanwhile (the town's report timers would carry the clock to any day,
    # such as 1–10 January, when the quarter just ended cannot be published yet).
    with env.auto_time_skipping_disabled():
        handle = await env.client.start_workflow(
            BulletinWorkflow.run, BulletinRequest(), id=f"bulletin-sched-{office.tag}", task_queue=office.queue
        )
        try:
            result = await handle.result()
        except WorkflowFailureError as exc:  # started between the quarter's end and its last reports' due day
            started = (await handle.describe()).start_time
            day = started.astimezone(CST).day
            assert started.astimezone(CST).month in (1, 4, 7, 10) and day <= 10, exc
            assert "can be published from" in str(exc.cause.cause)
            return
    started = (await handle.describe()).start_time  # the test server may have skipped time ahead of the clock
    assert result.quarter == quarter_just_ended(started)


async def test_an_applicant_owes_no_reports_until_admitted(office_alone):
    office, env = office_alone, office_alone.env
    code = await office.register(
        "APPL",
        state="applied",
        listed_year=None,
        tier="provincial_cultivation",
        planned_area_km2=3.0,
        core_area_km2=1.0,
        planned_investment=55,
    )
    handle = env.client.get_workflow_handle(workflow_id(code))
    registered = (await env.get_current_time()).astimezone(CST)
    await env.sleep(timedelta(days=70))  # two due dates pass while it is only an applicant
    assert (await handle.query(TownWorkflow.state)).overdue == {}
    with Session(office.engine) as s:
        assert not s.exec(select(FindingRow).where(FindingRow.code == code)).all()
    # once admitted, it owes reports as a town registered at that moment does (models.period.reporting_from):
    # from the first month whose report was not yet due, never the months it waited
    await office.round("application", registered.year)
    admitted = await env.get_current_time()
    view = await handle.query(TownWorkflow.state)
    assert view.profile.state == "creating"
    assert view.watch_next == reporting_from(view.profile.listed_year, admitted, 10)
    assert view.watch_next > period_of(registered)
    assert view.overdue == {}
