"""One "reporting from" month per town (``models.period.reporting_from``): the town workflow watches
exactly the months the bulletin counts missing.

A town owes the report for month M when it was registered before that report's deadline (the end of
day ``report_due_day`` of month M+1, Beijing time), and never a month before January of its listed
year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import Session

from tests.factories import town
from towns.bulletin import compute_bulletin, quarter_end
from towns.models.period import next_month, period_of, previous_month, report_deadline, reporting_from
from towns.models.town import Town
from towns.models.workflows import TownStart, workflow_id
from towns.rules.library import load_pack
from towns.workflows.town import TownWorkflow

CST = timezone(timedelta(hours=8))

# ---------------------------------------------------------------- the rule


def test_registered_the_day_before_or_after_the_previous_months_due_date():
    # April's report is due on 10 May
    assert reporting_from(2016, datetime(2018, 5, 9, 12, 0, tzinfo=CST), 10) == "2018-04"
    assert reporting_from(2016, datetime(2018, 5, 11, 12, 0, tzinfo=CST), 10) == "2018-05"
    # on the due day itself it is still due: owed
    assert reporting_from(2016, datetime(2018, 5, 10, 23, 59, tzinfo=CST), 10) == "2018-04"
    assert reporting_from(2016, datetime(2018, 5, 11, 0, 0, tzinfo=CST), 10) == "2018-05"
    # another due day (pack parameter)
    assert reporting_from(2016, datetime(2018, 5, 12, 12, 0, tzinfo=CST), 15) == "2018-04"


def test_beijing_time_decides():
    # 16:30 UTC on 10 May is 00:30 on 11 May in Beijing: April's due date is over
    assert reporting_from(2016, datetime(2018, 5, 10, 16, 30, tzinfo=UTC), 10) == "2018-05"
    assert reporting_from(2016, datetime(2018, 5, 10, 15, 59, tzinfo=UTC), 10) == "2018-04"
    # a naive time is UTC (as the database hands it back)
    assert reporting_from(2016, datetime(2018, 5, 10, 16, 30), 10) == "2018-05"
    # 20:00 UTC on 31 December is 1 January in Beijing: December's report is owed (due 10 January)
    assert reporting_from(2016, datetime(2018, 12, 31, 20, 0, tzinfo=UTC), 10) == "2018-12"
    assert reporting_from(2016, datetime(2019, 1, 5, tzinfo=CST), 10) == "2018-12"


def test_never_before_january_of_the_listed_year():
    assert reporting_from(2019, datetime(2018, 12, 5, tzinfo=CST), 10) == "2019-01"
    assert reporting_from(2019, datetime(2019, 1, 5, tzinfo=CST), 10) == "2019-01"  # not December 2018
    assert reporting_from(2018, datetime(2019, 1, 5, tzinfo=CST), 10) == "2018-12"
    assert reporting_from(None, datetime(2019, 1, 5, tzinfo=CST), 10) == "2018-12"  # an applicant: no floor


def test_deadline_and_months():
    assert report_deadline("2018-04", 10) == datetime(2018, 5, 11, tzinfo=CST)
    assert report_deadline("2018-12", 10) == datetime(2019, 1, 11, tzinfo=CST)
    assert next_month("2018-12") == "2019-01"


# ---------------------------------------------------------------- the workflow and the bulletin agree


async def start_town(office, name: str, registered_at: datetime) -> str:
    """Register a town as the importer does, at a chosen moment (the registry row and the workflow's
    start carry the same registered_at)."""
    code = office.code(name)
    profile = town(code=code, listed_year=2016)
    pack = load_pack()
    with Session(office.engine) as s:
        s.add(Town(**profile.model_dump(mode="json"), registered_at=registered_at, registered_by="office"))
        s.commit()
    await office.env.client.start_workflow(
        TownWorkflow.run,
        TownStart(
            profile=profile,
            limits=pack.sanity,
            report_due_day=int(pack.value("report_due_day")),
            registered_at=registered_at,
        ),
        id=workflow_id(code),
        task_queue=office.queue,
    )
    return code


def quarters_of(months: list[str]) -> list[tuple[int, int]]:
    return sorted({(int(p[:4]), (int(p[5:]) - 1) // 3 + 1) for p in months})


async def test_the_bulletin_counts_missing_exactly_the_months_the_workflow_watches(office_alone):
    office, env = office_alone, office_alone.env
    now = (await env.get_current_time()).astimezone(CST)
    x = next_month(period_of(now))  # month X: the previous month's report is due on 10 X
    y, m = int(x[:4]), int(x[5:])
    day_before, day_after = datetime(y, m, 9, 12, tzinfo=CST), datetime(y, m, 11, 12, tzinfo=CST)
    previous = previous_month(x)

    await env.sleep(day_before - now)
    early = await start_town(office, "EARLY", day_before)
    assert (await office.query(early)).watch_next == previous  # registered before its due date: owed
    await env.sleep(day_after - (await env.get_current_time()))
    late = await start_town(office, "LATE", day_after)
    assert (await office.query(late)).watch_next == x  # registered after it: not owed

    # nobody reports; three due dates pass (10 X for the previous month, then X's and X+1's)
    x1, x2 = next_month(x), next_month(next_month(x))
    end = datetime(int(x2[:4]), int(x2[5:]), 12, 12, tzinfo=CST)
    await env.sleep(end - (await env.get_current_time()))
    watched = {code: set((await office.query(code)).overdue) for code in (early, late)}
    assert watched == {early: {previous, x, x1}, late: {x, x1}}

    # the bulletins of the quarters those months belong to count the same months missing
    issued = end.date()
    missing: dict[str, set[str]] = {early: set(), late: set()}
    for qy, q in quarters_of([previous, x, x1]):
        b = compute_bulletin(office.engine, f"{qy}Q{q}", issued_on=issued, draft=issued < quarter_end(qy, q))
        for r in b.missing_reports:
            assert r.status == "open"
            missing[r.code].add(r.period)
    assert missing == watched


async def test_a_town_registered_after_the_due_date_is_not_overdue_for_the_previous_month(office_alone):
    """The month it was registered in is the first it owes: the previous month's due date had passed."""
    office, env = office_alone, office_alone.env
    now = (await env.get_current_time()).astimezone(CST)
    x = next_month(period_of(now))
    at = datetime(int(x[:4]), int(x[5:]), 11, 0, 0, tzinfo=CST)  # 00:00 on 11 X: the 10th is over
    await env.sleep(at - now)
    code = await start_town(office, "ELEVEN", at)
    await env.sleep(report_deadline(x, 10) + timedelta(hours=1) - (await env.get_current_time()))
    assert set((await office.query(code)).overdue) == {x}
    # as the bulletin of X's quarter says
    qy, q = int(x[:4]), (int(x[5:]) - 1) // 3 + 1
    issued = (report_deadline(x, 10) + timedelta(hours=1)).date()
    b = compute_bulletin(office.engine, f"{qy}Q{q}", issued_on=issued, draft=issued < quarter_end(qy, q))
    assert [(r.code, r.period) for r in b.missing_reports] == [(code, x)]
