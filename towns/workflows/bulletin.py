"""BulletinWorkflow: the quarterly evaluation. Started by the Temporal Schedule (for the
quarter just ended) or on demand (``towns bulletin run --quarter 2018Q2``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from ..models.activities import BulletinActivities, PublishRequest, PublishResult
    from ..models.times import CST
    from ..models.workflows import BulletinRequest


def quarter_just_ended(now: datetime) -> str:
    local = now.astimezone(CST)
    q = (local.month - 1) // 3  # the current quarter is q + 1
    return f"{local.year - 1}Q4" if q == 0 else f"{local.year}Q{q}"


@workflow.defn(name="BulletinWorkflow")
class BulletinWorkflow:
    @workflow.run
    async def run(self, req: BulletinRequest) -> PublishResult:
        quarter = req.quarter or quarter_just_ended(workflow.now())
        return await workflow.execute_activity_method(
            BulletinActivities.publish_bulletin,
            PublishRequest(quarter=quarter, by=req.by, pack_id=req.pack_id),
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=5),
        )
