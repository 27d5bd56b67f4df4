"""A TCP proxy that tests cut and restore, to take Redis or PostgreSQL away from a server."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlparse

from django.conf import settings

from tests.support.live import database_url_for_tests, free_port

CHUNK = 65536
SHUT_TIMEOUT = 5.0


class TcpProxy:
    """
    Forwards 127.0.0.1:`port` to `target_port`, in a thread with its own event loop.

    Cut, it resets every open connection and every new one (a service that died
    behind its address). It listens for its whole life: closing an asyncio server
    while a connection is being accepted leaks that socket in Python 3.11
    (`Server._attach` asserts, the accepted socket is never closed).
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._forwarding = False
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> TcpProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    def restore(self) -> None:
        """Forward new connections again."""
        self._forwarding = True

    def cut(self) -> None:
        """Reset every open connection, and every new one until restored, as if the service died."""
        self._run(self._cut())

    def close(self) -> None:
        """Cut, let every forwarding task end, and stop (the servers behind it are stopped by then)."""
        self._run(self._shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port, reuse_address=True)
        self._forwarding = True

    async def _cut(self) -> None:
        self._forwarding = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _shut(self) -> None:
        await self._cut()
        deadline = asyncio.get_running_loop().time() + SHUT_TIMEOUT
        while (others := asyncio.all_tasks() - {asyncio.current_task()}) and (
            left := deadline - asyncio.get_running_loop().time()
        ) > 0:
            await asyncio.wait(others, timeout=left)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self._forwarding:
            client_writer.transport.abort()
            return
        self._writers.add(client_writer)  # a cut while the upstream connection is being made resets it too
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        if client_writer not in self._writers:  # cut meanwhile
            upstream_writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
        self._writers.discard(writer)


def redis_url_via(proxy: TcpProxy) -> str:
    """REDIS_URL for a server that reaches Redis through `proxy`."""
    return urlparse(settings.REDIS_URL)._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()


def database_url_via(proxy: TcpProxy) -> str:
    """DATABASE_URL for a server that reaches the test database through `proxy`."""
    netloc = f"{settings.DATABASES['default']['USER']}@127.0.0.1:{proxy.port}"
    return urlparse(database_url_for_tests())._replace(netloc=netloc).geturl()
