"""The Temporal Schedules of the quarterly evaluation, one per programme, created idempotently
at server start.

Each starts BulletinWorkflow at 09:00 Beijing time on its programme's bulletin day of its
bulletin months (for sx2018, the 15th of January, April, July and October), after the
quarter's reports are due.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
)

from .models.finding import DEFAULT_PACK
from .models.town import Town
from .models.workflows import BulletinRequest
from .workflows.bulletin import BulletinWorkflow

SCHEDULE_ID = "towns-quarterly-bulletin"


def programmes_in_use(engine: Engine) -> list[str]:
    """The programmes that get a schedule: the default one, and every one a town belongs to (a
    shipped or installed pack no town uses — such as the illustrative hz2019 — gets none; a
    programme whose first towns are registered gets its schedule at the next server start, and
    `towns bulletin run --pack` publishes its bulletins meanwhile)."""
    with Session(engine) as s:
        used = set(s.exec(select(Town.programme).distinct()).all())
    return sorted(used | {DEFAULT_PACK})


def schedule_id(programme: str = DEFAULT_PACK) -> str:
    return SCHEDULE_ID if programme == DEFAULT_PACK else f"{SCHEDULE_ID}-{programme}"


def quarterly_spec(day: int, months: tuple[int, ...] = (1, 4, 7, 10), clause: str = "") -> ScheduleSpec:
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                month=[ScheduleRange(m) for m in months],
                day_of_month=[ScheduleRange(day)],
                hour=[ScheduleRange(9)],
                minute=[ScheduleRange(0)],
                second=[ScheduleRange(0)],
                comment=f"quarterly bulletin 季度通报 ({clause})" if clause else "quarterly bulletin 季度通报",
            )
        ],
        time_zone_name="Asia/Shanghai",
    )


async def ensure_schedule(
    client: Client,
    task_queue: str,
    day: int,
    programme: str = DEFAULT_PACK,
    months: tuple[int, ...] = (1, 4, 7, 10),
    clause: str = "",
) -> str:
    """Create the programme's schedule, or leave the existing one alone. Returns 'created' or 'exists'."""
    suffix = "" if programme == DEFAULT_PACK else f"-{programme}"
    try:
        await client.create_schedule(
            schedule_id(programme),
            Schedule(
                action=ScheduleActionStartWorkflow(
                    BulletinWorkflow.run,
                    BulletinRequest(pack_id=programme),
                    id=f"bulletin-scheduled{suffix}",
                    task_queue=task_queue,
                ),
                spec=quarterly_spec(day, months, clause),
            ),
        )
        return "created"
    except ScheduleAlreadyRunningError:
        return "exists"
