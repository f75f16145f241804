"""A TCP proxy in front of PostgreSQL that can make it refuse connections for a while.

``outage()`` closes the listening socket (new connections are refused, as by a stopped
server) and cuts every open connection; ``restore()`` listens again on the same port. It
runs its own event loop in a thread, so the test's blocking database calls cannot stall it.
"""

from __future__ import annotations

import asyncio
import threading

from tests.cli.conftest import free_port


class Proxy:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._call(self._listen())

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers.difference_update((writer, up_writer))

    async def _outage(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()  # stop listening: new connections are refused
        for w in list(self.writers):
            w.transport.abort()  # and the open ones are cut
        self.writers.clear()
        if server is not None:
            await server.wait_closed()

    def outage(self) -> None:
        self._call(self._outage())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self._call(self._outage())
        self._call(self._cancel_pipes())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _cancel_pipes(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
