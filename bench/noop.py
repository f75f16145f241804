"""No-op workflow and activity for the bench: the raw limits of the Temporal server in use.

They run in the towns worker processes (``bench/worker.py``), on the towns task queue, beside
the real workflows: ``plugin()`` is a Temporal plugin that a client carries and that adds them
to every worker built from that client, so the towns worker is built by
``towns.worker.build_worker`` unchanged (same options, same identity) with these two added.

- ``BenchNoopWorkflow``: waits until ``finish`` (a Signal); ``noop`` (an Update that does
  nothing), ``with_activity`` (an Update that runs one no-op activity), ``with_local_activity``
  (an Update that runs it as a local activity, as a town takes its reports), ``ping`` (a Signal
  that does nothing but count).
- ``bench_noop``: the no-op activity.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.plugin import SimplePlugin

NOOP_WORKFLOW = "BenchNoopWorkflow"


@activity.defn(name="bench_noop")
async def noop_activity() -> None:
    return None


@workflow.defn(name=NOOP_WORKFLOW)
class NoopWorkflow:
    def __init__(self) -> None:
        self._done = False
        self._pings = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._done)
        return self._pings

    @workflow.update
    def noop(self) -> None:
        return None

    @workflow.update
    async def with_activity(self) -> None:
        await workflow.execute_activity(noop_activity, start_to_close_timeout=timedelta(seconds=60))

    @workflow.update
    async def with_local_activity(self) -> None:
        await workflow.execute_local_activity(noop_activity, start_to_close_timeout=timedelta(seconds=60))

    @workflow.signal
    def ping(self) -> None:
        self._pings += 1

    @workflow.signal
    def finish(self) -> None:
        self._done = True


def plugin() -> SimplePlugin:
    """Adds the no-op workflow and activity to every worker made from a client that carries it."""
    return SimplePlugin("towns-bench-noop", workflows=[NoopWorkflow], activities=[noop_activity])
