"""The web console and the REST API alone, against ``TEMPORAL_ADDRESS`` and ``DATABASE_URL`` — what
the ``web`` container of ``docker-compose.yml`` runs (``python -m towns.web``). ``towns server``
serves the same application beside its worker instead.

It reads the settings every towns process reads (``towns.config``: ``DATABASE_URL``,
``TEMPORAL_ADDRESS``, ``TOWNS_HOME``) and its own:

- ``TOWNS_WEB_HOST`` (``0.0.0.0``) and ``TOWNS_WEB_PORT`` (``8000``): where it listens;
- ``TOWNS_WEB_SECRET``: the key that signs tokens and session cookies, at least 32 characters;
  every web process of one deployment needs the same one. Unset: ``$TOWNS_HOME/web.secret``,
  made once (as ``towns server`` does) — enough for one web process with a kept home;
- ``TOWNS_TEMPORAL_UI``: the Temporal UI's address as a browser reaches it, for the pages' links.

The database schema is brought up to date at start, as the worker does (both may start at once:
they take turns).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from ..config import ConfigError, Settings, load_settings, shown_url
from ..models.db import engine_for, prepare_database
from ..temporal import connect, quiet_core_logs
from .app import create_app
from .auth import secret_for

MIN_SECRET = 32


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    secret: str
    temporal_ui: str | None

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> WebSettings:
        """ConfigError (bilingual) for a port that is not one or a secret too short to sign with."""
        environ = os.environ if environ is None else environ
        raw_port = environ.get("TOWNS_WEB_PORT", "").strip() or "8000"
        try:
            port = int(raw_port)
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise ConfigError(
                f"TOWNS_WEB_PORT is {raw_port!r}: give a port number (1–65535). TOWNS_WEB_PORT 须为端口号。"
            ) from None
        secret = environ.get("TOWNS_WEB_SECRET", "").strip()
        if secret and len(secret) < MIN_SECRET:
            raise ConfigError(
                f"TOWNS_WEB_SECRET has {len(secret)} characters: give at least {MIN_SECRET} random ones "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'). "
                f"TOWNS_WEB_SECRET 至少需要 {MIN_SECRET} 个随机字符。"
            )
        return cls(
            host=environ.get("TOWNS_WEB_HOST", "").strip() or "0.0.0.0",
            port=port,
            secret=secret or secret_for(settings.home),
            temporal_ui=environ.get("TOWNS_TEMPORAL_UI", "").strip() or None,
        )


def require_remote(settings: Settings) -> None:
    if not settings.temporal_address or not os.environ.get("DATABASE_URL"):
        raise ConfigError(
            "set TEMPORAL_ADDRESS and DATABASE_URL for the web console alone, or run `towns server --web-port`. "
            "请设置 TEMPORAL_ADDRESS 和 DATABASE_URL。"
        )


async def build_app(settings: Settings, web: WebSettings) -> FastAPI:
    """The application on the settings' database (brought to the newest schema) and Temporal."""
    engine = engine_for(settings.database_url)
    prepare_database(engine)
    client = await connect(settings)
    app = create_app(engine, client, settings.task_queue, web.secret)
    if web.temporal_ui:
        app.state.temporal_ui = web.temporal_ui
    return app


async def serve(settings: Settings, web: WebSettings) -> None:
    app = await build_app(settings, web)
    config = uvicorn.Config(app, host=web.host, port=web.port, log_level="info", proxy_headers=True)
    await uvicorn.Server(config).serve()  # stops on SIGTERM / Ctrl-C


def main() -> None:
    quiet_core_logs("WARN")
    try:
        settings = load_settings()
        require_remote(settings)
        web = WebSettings.from_env(settings)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    print(
        f"towns web on http://{web.host}:{web.port}, Temporal {settings.temporal_address}, task queue "
        f"{settings.task_queue}, database {shown_url(settings.database_url)}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, web))
