"""Activity options as the type checker sees them (``workflow.execute_activity_method(..., **OPTIONS)``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy

# an activity's heartbeats (towns.activities.support, every 2 s) are awaited this long: a crashed
# worker's attempt is taken over by another within seconds, not after its start-to-close
HEARTBEAT_TIMEOUT = timedelta(seconds=10)


class ActivityOptions(TypedDict, total=False):
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta
    retry_policy: RetryPolicy


class LocalActivityOptions(TypedDict, total=False):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
