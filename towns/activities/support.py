"""What every activity needs beside its work: heartbeats while it runs, and an honest verdict on
its errors.

**Heartbeats.** A worker that dies mid-activity is noticed by Temporal only when the
activity's timeout passes; a heartbeat timeout of seconds (instead of a start-to-close of
minutes) lets another worker take the attempt over at once. ``heartbeating`` (sync
activities, which run in threads) and ``heartbeating_async`` beat from the side, every
``HEARTBEAT_EVERY`` seconds, whatever the work is doing (waiting for the ledger lock
included).

**Errors.** An error that the same input will raise again — a value out of range, a
missing key, a row the database refuses as invalid — is not retried: ``deterministic``
turns it into a non-retryable ``ApplicationError`` naming what went wrong. Errors of the
world (a database that refuses connections, a lost server) stay retryable.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar, cast

from pydantic import ValidationError
from sqlalchemy.exc import DataError, ProgrammingError
from temporalio import activity
from temporalio.exceptions import ApplicationError

HEARTBEAT_EVERY = 2.0
# the same input gives the same error: retrying cannot succeed
DETERMINISTIC = (ValueError, TypeError, LookupError, ArithmeticError, ValidationError, DataError, ProgrammingError)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def heartbeating(every: float = HEARTBEAT_EVERY) -> Iterator[None]:
    """Heartbeat from a side thread while the block runs (in a sync activity's thread)."""
    if not activity.in_activity() or activity.info().is_local:  # a local activity does not heartbeat
        yield
        return
    ctx = contextvars.copy_context()  # the activity's context, for activity.heartbeat
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                ctx.run(activity.heartbeat)
            except Exception:
                return

    thread = threading.Thread(target=beat, name="towns-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 1)


@asynccontextmanager
async def heartbeating_async(every: float = HEARTBEAT_EVERY) -> AsyncIterator[None]:
    """Heartbeat from a side task while the block runs (in an async activity)."""
    if not activity.in_activity() or activity.info().is_local:
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat()

    task = asyncio.ensure_future(beat())
    try:
        yield
    finally:
        task.cancel()


def workflow_ref() -> dict | None:
    """The workflow run an activity works for (kept with every ledger entry), or None outside one."""
    if not activity.in_activity():
        return None
    info = activity.info()
    return {"id": info.workflow_id, "run_id": info.workflow_run_id}


def _refuse(exc: BaseException) -> ApplicationError:
    return ApplicationError(f"{type(exc).__name__}: {exc}"[:2000], type=type(exc).__name__, non_retryable=True)


def deterministic(fn: F) -> F:
    """Errors that the same input raises again become non-retryable (see the module docstring)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except ApplicationError:
                raise
            except DETERMINISTIC as exc:
                raise _refuse(exc) from exc

        # functools.wraps keeps fn's signature; mypy cannot see that the wrapper is an F too
        return cast(F, run_async)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ApplicationError:
            raise
        except DETERMINISTIC as exc:
            raise _refuse(exc) from exc

    return cast(F, run)
