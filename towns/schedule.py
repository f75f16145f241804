"""The Temporal Schedule of the quarterly evaluation, created idempotently at server start.

It starts BulletinWorkflow at 09:00 Beijing time on the pack's bulletin day (default the
15th) of January, April, July and October, after the quarter's reports are due.
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
)

from .models.workflows import BulletinRequest
from .workflows.bulletin import BulletinWorkflow

SCHEDULE_ID = "towns-quarterly-bulletin"


def quarterly_spec(day: int) -> ScheduleSpec:
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                month=[ScheduleRange(m) for m in (1, 4, 7, 10)],
                day_of_month=[ScheduleRange(day)],
                hour=[ScheduleRange(9)],
                minute=[ScheduleRange(0)],
                second=[ScheduleRange(0)],
                comment="quarterly bulletin 季度通报 (SX2018-S3)",
            )
        ],
        time_zone_name="Asia/Shanghai",
    )


async def ensure_schedule(client: Client, task_queue: str, day: int) -> str:
    """Create the schedule, or leave the existing one alone. Returns 'created' or 'exists'."""
    try:
        await client.create_schedule(
            SCHEDULE_ID,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    BulletinWorkflow.run, BulletinRequest(), id="bulletin-scheduled", task_queue=task_queue
                ),
                spec=quarterly_spec(day),
            ),
        )
        return "created"
    except ScheduleAlreadyRunningError:
        return "exists"
