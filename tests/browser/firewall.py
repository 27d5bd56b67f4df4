"""
A network that lets HTTP through but not WebSockets, as some corporate proxies
are: a TCP proxy in front of the server that forwards every connection (an SSE
stream included, as it streams) but answers a WebSocket handshake with 403, so
that the browser's WebSocket fails before it opens while the page, the token
endpoint and `/realtime/sse` work.
"""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.proxy import TcpProxy

REFUSAL = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
HEAD_LIMIT = 64 * 1024


def is_websocket_handshake(head: bytes) -> bool:
    """Whether a request's head asks for a WebSocket upgrade."""
    return any(
        line.partition(b":")[0].strip().lower() == b"upgrade" and b"websocket" in line.lower()
        for line in head.split(b"\r\n")[1:]
    )


class WebSocketFirewall(TcpProxy):
    """
    Forwards 127.0.0.1:`port` to `target_port`, refusing WebSocket handshakes
    while `blocking` (set it to let them through from the next one on); `refused`
    counts the handshakes refused. The first request of each connection decides
    (a browser opens a connection of its own for each WebSocket).
    """

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self.blocking = True
        self.refused = 0

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            client_writer.transport.abort()
            return
        if self.blocking and is_websocket_handshake(head):
            self.refused += 1
            with contextlib.suppress(OSError):
                client_writer.write(REFUSAL)
                await client_writer.drain()
            client_writer.close()
            return
        if not self._forwarding:
            client_writer.transport.abort()
            return
        self._writers.add(client_writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:  # the server is down: the browser sees the connection reset
            self._writers.discard(client_writer)
            client_writer.transport.abort()
            return
        self._writers.add(upstream_writer)
        upstream_writer.write(head)
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))
