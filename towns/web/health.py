"""``GET /healthz``: whether this web process reaches its database and Temporal (no login; for a
load balancer or a container health check). 200 with ``{"status": "ok"}``, else 503 naming what
is unreachable; never any data of the system."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

router = APIRouter(include_in_schema=False)
TIMEOUT = 5.0  # seconds, for each of the two checks


def _database(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    engine: Engine = request.app.state.engine
    client: Client = request.app.state.client
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(run_in_threadpool(_database, engine), TIMEOUT)
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=TIMEOUT))
        checks["temporal"] = "ok"
    except Exception as exc:
        checks["temporal"] = f"unreachable: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "unhealthy", **checks}, status_code=200 if healthy else 503)
