"""Serve the web application inside `towns server`'s own event loop (uvicorn, without its signal
handling: the server's Ctrl-C stops everything in order)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from fastapi import FastAPI


class WebError(RuntimeError):
    """The web port cannot be used; the message is bilingual."""


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise WebError(
                f"the web port {port} is taken ({exc.strerror}): give another with --web-port, or 0 for no web. "
                f"网页端口 {port} 已被占用，请用 --web-port 指定其他端口（0 为不启动网页）。"
            ) from None


class Web:
    def __init__(self, app: FastAPI, host: str, port: int):
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        self.task: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        config = self.server.config
        if not config.loaded:
            config.load()
        self.server.lifespan = config.lifespan_class(config)
        await self.server.startup()
        self.task = asyncio.ensure_future(self.server.main_loop())

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task
        await self.server.shutdown()
