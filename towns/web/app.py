"""The web application: the REST API (/api, OpenAPI docs at /docs) and the console's pages (``pages``).

``create_app`` takes what the server already has: the database engine, a Temporal client, the
task queue and the signing secret; `towns server` serves it beside the worker.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from temporalio.client import Client

from .api import router
from .auth import Signer
from .health import router as health_router
from .pages import TEMPORAL_UI, install


def create_app(engine: Engine, client: Client, task_queue: str, secret: str) -> FastAPI:
    app = FastAPI(
        title="towns — 特色小镇创建评估 API",
        description="Towns, monthly reports, assessment rounds, bulletins and the audit, by role: "
        "reporter (区县统计员, one district), staff (市特色办), auditor (督查, reads only).",
        version="1",
    )
    app.state.engine = engine
    app.state.client = client
    app.state.task_queue = task_queue
    app.state.signer = Signer(secret)
    app.state.temporal_ui = TEMPORAL_UI  # the Temporal UI the pages link to; set it to change
    app.include_router(router)
    app.include_router(health_router)
    install(app)
    return app
