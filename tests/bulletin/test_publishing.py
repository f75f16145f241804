"""When a bulletin can be published (SX2018-S3), its issue date, drafts, and the synthetic-data notice.

A quarter's bulletin reads what was recorded by its as-of, the end of the day its last month's report
is due (10 July for 2018Q2): it is refused before the quarter has ended, and between the quarter's end
and the as-of (the last month's reports still coming in on time); a draft can be computed then."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from towns import demo
from towns.activities.bulletins import Bulletins
from towns.bulletin import (
    BulletinRefused,
    beijing_today,
    check_publishable,
    compute_bulletin,
    parse_quarter,
    quarter_as_of,
    read_back,
    render_html,
    write_xlsx,
)
from towns.models.activities import PublishRequest
from towns.models.bulletin import BulletinRow
from towns.models.provenance import DEMO_ACTOR, SYNTHETIC_NOTE
from towns.models.town import Town, TownProfile
from towns.models.workflows import BulletinRequest
from towns.rules.library import load_pack
from towns.workflows.bulletin import BulletinWorkflow, quarter_just_ended

from .conftest import T0, add_town


def current_quarter() -> str:
    today = beijing_today()
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def stored(engine) -> list[str]:
    with Session(engine) as s:
        return [r.quarter for r in s.exec(select(BulletinRow)).all()]


@pytest.fixture
def demo_towns(engine):
    """The twelve demo towns, registered by the demo (no reports: the towns are what matters here)."""
    with Session(engine) as s:
        for row in demo.town_rows():
            profile = TownProfile.model_validate({k: v for k, v in row.items() if v is not None})
            s.add(Town(**profile.model_dump(mode="json"), registered_at=T0, registered_by=DEMO_ACTOR))
        s.commit()
    return engine


# ---------------------------------------------------------------- refusals


def test_a_quarter_is_published_only_once_it_has_ended(city):
    # 2018Q2 ends at 00:00 on 1 July 2018, Beijing time
    with pytest.raises(BulletinRefused) as refused:
        check_publishable(city, "2018Q2", date(2018, 6, 30))
    assert "2018Q2 has not ended (it ends at 00:00 on 2018-07-01, Beijing time)" in refused.value.en
    assert "2018年第二季度尚未结束" in refused.value.zh and "SX2018-S3" in str(refused.value)
    check_publishable(city, "2018Q2", date(2018, 7, 11))
    # 23:30 on 30 June in UTC is already 1 July in Beijing
    assert beijing_today(datetime(2018, 6, 30, 16, 30, tzinfo=UTC)) == date(2018, 7, 1)
    # the fourth quarter ends with the year
    with pytest.raises(BulletinRefused, match=r"2018-12-31|2019-01-01"):
        check_publishable(city, "2018Q4", date(2018, 12, 31))
    # computing the published bulletin refuses the same quarters; a draft is computed
    with pytest.raises(BulletinRefused):
        compute_bulletin(city, "2018Q2", issued_on=date(2018, 6, 30))
    draft = compute_bulletin(city, "2018Q2", issued_on=date(2018, 6, 30), draft=True)
    assert draft.draft is True and len(draft.towns) == 5


def test_a_quarter_is_published_only_once_its_last_months_reports_are_due(city):
    """From 1 to 10 July, June's reports are still coming in on time (due on 10 July, SX2018-S3): a
    bulletin issued then would be computed from an incomplete month, so it is refused, naming the as-of
    and the first day it can be issued. The scheduled run is on the 15th."""
    for day in (1, 5, 10):
        with pytest.raises(BulletinRefused) as refused:
            check_publishable(city, "2018Q2", date(2018, 7, day))
        assert refused.value.en == (
            "2018Q2's bulletin reads what was recorded by the end of 2018-07-10 (Beijing time), the day the "
            "2018-06 reports are due: before then that month is incomplete, so it can be published from "
            "2018-07-11 (SX2018-S3)"
        )
        assert "数据截至北京时间 2018-07-10 24 时" in refused.value.zh and "2018-07-11 及以后发布" in refused.value.zh
        with pytest.raises(BulletinRefused, match="can be published from 2018-07-11"):
            compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, day))
    check_publishable(city, "2018Q2", date(2018, 7, 11))
    assert compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 11)).as_of == date(2018, 7, 10)
    # December's reports are due in January: 2018Q4 can be published from 11 January 2019
    with pytest.raises(BulletinRefused, match=r"end of 2019-01-10 .* from 2019-01-11"):
        check_publishable(city, "2018Q4", date(2019, 1, 10))
    check_publishable(city, "2018Q4", date(2019, 1, 11))
    # a draft in the window reads up to its issue day, and says so
    draft = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 5), draft=True)
    assert draft.draft and draft.as_of == date(2018, 7, 5)
    # June's reports (due 10 July) are not missing yet; the fixture's June reports (28 June) are in
    assert sorted({m.period for m in draft.missing_reports}) == ["2018-04", "2018-05"]
    assert {t.code for t in draft.towns if t.reported} == {"SX-A", "SX-B", "SX-C", "SX-E"}


def test_future_and_current_quarters_are_refused(city):
    for quarter in ("2030Q1", current_quarter()):
        with pytest.raises(BulletinRefused, match=f"{quarter} has not ended"):
            check_publishable(city, quarter, beijing_today())


def test_a_quarter_without_a_town_on_a_list_is_refused(demo_towns):
    """The demo's towns were listed from 2015: in 2014 no town was on a list."""
    with pytest.raises(BulletinRefused) as refused:
        check_publishable(demo_towns, "2014Q1", date(2014, 4, 15))
    assert refused.value.en == "no town was on a creation list in 2014Q1: nothing to publish (SX2018-S3)"
    assert refused.value.zh.startswith("2014年第一季度没有列入创建名单的小镇")
    with pytest.raises(BulletinRefused, match="nothing to publish"):
        compute_bulletin(demo_towns, "2014Q1", issued_on=date(2014, 4, 15))


def test_the_activity_refuses_without_retry_and_stores_nothing(demo_towns):
    act = Bulletins(demo_towns)
    for quarter, why in (
        ("2030Q1", "2030Q1 has not ended"),
        (current_quarter(), "has not ended"),
        ("2014Q1", "no town was on a creation list in 2014Q1"),
        ("2018Q5", "is not a quarter"),
    ):
        with pytest.raises(ApplicationError) as refused:
            act.publish_bulletin(PublishRequest(quarter=quarter, by="tester"))
        assert refused.value.type == "BulletinRefused" and refused.value.non_retryable
        assert why in refused.value.message
    assert stored(demo_towns) == []
    # an ended quarter with towns is published, and says when it was issued
    result = act.publish_bulletin(PublishRequest(quarter="2018Q2", by="tester"))
    assert result.new and result.towns == 12
    with Session(demo_towns) as s:
        assert s.get(BulletinRow, ("2018Q2", "sx2018")).content["issued_on"] == beijing_today().isoformat()


def test_the_activity_judges_by_the_temporal_servers_clock(city):
    """Inside a worker, "now" is when Temporal scheduled the attempt (the workflow's clock), in Beijing time."""
    act = Bulletins(city)
    env = ActivityEnvironment()

    def at(moment: datetime) -> None:
        env.info = dataclasses.replace(env.info, current_attempt_scheduled_time=moment)

    at(datetime(2018, 6, 30, 15, 59, tzinfo=UTC))  # 23:59 on 30 June in Beijing
    with pytest.raises(ApplicationError, match="2018Q2 has not ended") as refused:
        env.run(act.publish_bulletin, PublishRequest(quarter="2018Q2", by="schedule"))
    assert refused.value.non_retryable and stored(city) == []
    for moment in (datetime(2018, 6, 30, 16, 0, tzinfo=UTC), datetime(2018, 7, 10, 15, 59, tzinfo=UTC)):
        at(moment)  # 00:00 on 1 July, 23:59 on 10 July in Beijing: June's reports are not all due
        with pytest.raises(ApplicationError, match="can be published from 2018-07-11") as refused:
            env.run(act.publish_bulletin, PublishRequest(quarter="2018Q2", by="schedule"))
        assert refused.value.type == "BulletinRefused" and refused.value.non_retryable and stored(city) == []
    at(datetime(2018, 7, 10, 16, 0, tzinfo=UTC))  # 00:00 on 11 July
    result = env.run(act.publish_bulletin, PublishRequest(quarter="2018Q2", by="schedule"))
    assert result.new and result.towns == 5
    with Session(city) as s:
        content = s.get(BulletinRow, ("2018Q2", "sx2018")).content
        assert (content["issued_on"], content["as_of"]) == ("2018-07-11", "2018-07-10")


async def test_the_workflow_fails_at_once_for_a_refused_quarter(env, engine, worker):
    """No town on a list in 2014: the workflow fails with the refusal, after one attempt, and stores nothing.
    (The time-skipping server's clock runs far ahead, so the "not ended" refusal is tested on the activity.)"""
    handle = await env.client.start_workflow(
        BulletinWorkflow.run,
        BulletinRequest(quarter="2014Q1", by="tester"),
        id=f"bulletin-2014Q1-{uuid.uuid4().hex[:6]}",
        task_queue=worker,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ActivityError)
    app = failed.value.cause.cause
    assert isinstance(app, ApplicationError) and app.type == "BulletinRefused" and app.non_retryable
    assert "no town was on a creation list in 2014Q1" in app.message and "没有列入创建名单的小镇" in app.message
    started = [
        e.activity_task_started_event_attributes
        async for e in handle.fetch_history_events()
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert [a.attempt for a in started] == [1]  # not retried
    assert stored(engine) == []
    # started as the schedule starts it (no quarter): the quarter just ended by the server's clock is published
    # (the schedule runs on the bulletin day, after that quarter's as-of; started by hand between the
    # quarter's end and its as-of, the same request is refused)
    with Session(engine) as s:
        add_town(
            s,
            code="SX-WF",
            name="工作流小镇",
            district="keqiao",
            tier="provincial_creation",
            industry="fashion",
            listed_year=2016,
            planned_investment=50,
        )
        s.commit()
    handle = await env.client.start_workflow(
        BulletinWorkflow.run, BulletinRequest(), id=f"bulletin-sched-{uuid.uuid4().hex[:6]}", task_queue=worker
    )
    started = (await handle.describe()).start_time
    quarter = quarter_just_ended(started)
    if started < quarter_as_of(*parse_quarter(quarter), load_pack().programme.report_due_day):
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert "can be published from" in failed.value.cause.cause.message and stored(engine) == []
        return
    result = await handle.result()
    assert result.new and result.towns == 1
    assert result.quarter == quarter


# ---------------------------------------------------------------- issue date and drafts


def test_the_issue_date_is_printed_and_decides_nothing(city):
    with Session(city) as s:
        add_town(
            s,
            code="SX-J",
            name="未报小镇",
            district="paojiang",
            tier="city",
            industry="tourism",
            listed_year=2017,
            planned_investment=30,
        )
        s.commit()
    early = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 11))
    later = compute_bulletin(city, "2018Q2", issued_on="2018-07-15")
    assert early.model_dump(mode="json")["issued_on"] == "2018-07-11"
    assert later.model_dump(mode="json")["issued_on"] == "2018-07-15"
    # SX-J never reported: the quarter's reports (April, May, and June's, due on 10 July) are missing,
    # whenever it is issued
    assert [m.period for m in early.missing_reports if m.code == "SX-J"] == ["2018-04", "2018-05", "2018-06"]
    assert early.model_dump(mode="json", exclude={"issued_on"}) == later.model_dump(mode="json", exclude={"issued_on"})
    assert early.as_of == later.as_of == date(2018, 7, 10)
    # the same inputs give the same bulletin, whatever the clock says
    again = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 15))
    assert again.model_dump(mode="json") == later.model_dump(mode="json")


def test_a_draft_of_a_quarter_not_over_reads_up_to_its_day(city):
    """A draft of 2018Q3 on 20 August: July's report had fallen due (10 August); August's (10 September)
    had not. Issued after September's due date, it reads up to 10 October and judges all three."""
    draft = compute_bulletin(city, "2018Q3", issued_on=date(2018, 8, 20), draft=True)
    assert draft.as_of == date(2018, 8, 20)
    assert sorted({m.period for m in draft.missing_reports}) == ["2018-07"]
    issued = compute_bulletin(city, "2018Q3", issued_on=date(2018, 10, 15))
    assert issued.as_of == date(2018, 10, 10)
    assert sorted({m.period for m in issued.missing_reports}) == ["2018-07", "2018-08", "2018-09"]


def test_issue_date_and_draft_in_html_and_xlsx(city, tmp_path):
    issued = compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 15))
    page = render_html(issued)
    head = page[page.index("<h1>") : page.index("<h2>")]
    assert "发布日期 issued on 2018-07-15" in head and "未发布草稿" not in page
    back = read_back(write_xlsx(issued, tmp_path / "issued.xlsx"))
    assert back["city"]["meta"]["issued_on"] == "2018-07-15"
    assert back["city"]["meta"]["as_of"] == "2018-07-10"
    assert back["city"]["meta"]["status"] == "正式通报 issued"
    assert "数据截至 2018-07-10 24 时（北京时间）" in head and "As of the end of 2018-07-10, Beijing time" in head

    draft = compute_bulletin(city, "2018Q3", issued_on=date(2018, 8, 20), draft=True)
    page = render_html(draft)
    assert "未发布草稿" in page and "Draft, not published" in page and "2018-08-20" in page
    path = write_xlsx(draft, tmp_path / "draft.xlsx")
    back = read_back(path)
    assert back["city"]["meta"]["status"] == "未发布草稿 draft, not published"
    assert back["city"]["meta"]["issued_on"] == "2018-08-20"
    assert back["city"]["meta"]["as_of"] == "2018-08-20"
    assert "data recorded by the end of 2018-08-20 (Beijing time)" in page
    assert "未发布草稿" in load_workbook(path)["城市 City"]["A1"].value


# ---------------------------------------------------------------- synthetic data


def test_a_bulletin_on_the_demo_says_its_data_is_synthetic(demo_towns, tmp_path):
    b = compute_bulletin(demo_towns, "2018Q2", issued_on=date(2018, 7, 15))
    assert b.synthetic_note == SYNTHETIC_NOTE and "合成数据" in b.synthetic_note
    assert "合成数据" in render_html(b) and "Synthetic demo data" in render_html(b)
    assert read_back(write_xlsx(b, tmp_path / "demo.xlsx"))["city"]["meta"]["synthetic_note"] == SYNTHETIC_NOTE


def test_one_demo_town_among_real_ones_is_enough(city):
    assert compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 15)).synthetic_note is None
    with Session(city) as s:
        add_town(
            s,
            code="SX-DEMO",
            name="演示小镇",
            district="keqiao",
            tier="city",
            industry="tourism",
            listed_year=2017,
            planned_investment=30,
            registered_by=DEMO_ACTOR,
        )
        s.commit()
    assert compute_bulletin(city, "2018Q2", issued_on=date(2018, 7, 15)).synthetic_note == SYNTHETIC_NOTE


# ---------------------------------------------------------------- the command line

runner = CliRunner()


@pytest.fixture
def cli(city, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("TOWNS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    from towns.cli import app

    return lambda *args: runner.invoke(app, list(args))


def test_bulletin_run_refuses_an_unfinished_quarter_before_starting_anything(cli, city):
    # no Temporal server is running: the refusal comes first, from the database alone
    for quarter in ("2030Q1", current_quarter()):
        result = cli("bulletin", "run", "--quarter", quarter)
        assert result.exit_code == 2, result.output
        assert f"{quarter} has not ended" in result.stderr and "尚未结束" in result.stderr
        assert "不予发布" in result.stderr and "Traceback" not in result.output
    assert stored(city) == []


def test_bulletin_run_refuses_a_quarter_without_towns(cli, city):
    result = cli("bulletin", "run", "--quarter", "2014Q1")
    assert result.exit_code == 2
    assert "no town was on a creation list in 2014Q1: nothing to publish" in result.stderr
    assert "没有列入创建名单的小镇" in result.stderr


def test_bulletin_run_refuses_a_year_that_is_no_date(cli):
    result = cli("bulletin", "run", "--quarter", "9999Q4")
    assert result.exit_code == 2 and "0001 to 9998" in result.output and "Traceback" not in result.output


def test_bulletin_show_of_an_unpublished_quarter_is_a_draft(cli):
    result = cli("bulletin", "show", "2018Q2", "--format", "html")
    assert result.exit_code == 0, result.output
    assert "未发布草稿" in result.stderr
    assert "未发布草稿" in result.stdout and f"草稿日期 draft of {beijing_today().isoformat()}" in result.stdout
    future = cli("bulletin", "show", "2030Q1")
    assert future.exit_code == 2 and "2030Q1 has not begun" in future.stderr and "尚未开始" in future.stderr
