"""
HTTP responses go out as fast as the client reads them, never faster (PROTOCOL.md, "Nothing buffers without bound").

daphne's `send` hands an `http.response.body` to Twisted's transport and returns
at once, and Twisted starts the next pipelined request as soon as a response is
finished, from the requests it has already read (16 KiB, plus one read of up to
64 KiB: about a thousand GETs). A client that pipelines GETs and reads nothing
made the process hold every answer: 8 such clients, 1 GiB of a static file.

Here, on an HTTP/1.1 connection, `send` of a response body waits while the
transport holds more than its high-water mark (64 KiB: Twisted then pauses the
channel, its producer) until the client has read what waits; a larger body is
written in pieces of `PIECE` bytes, each waiting its turn. A response is
therefore finished, and the next pipelined request started, only once the
client has read all but the last piece of the one before: a connection holds
at most about 128 KiB of unread answers, plus the one body the application is
sending. A connection whose client reads nothing of it (Twisted's buffer and the
socket's) for `HTTP_SEND_TIMEOUT` seconds is dropped (the application gets its
`http.disconnect`).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import struct
import termios
from typing import Any

from realtime.conf import realtime_settings
from realtime.server.backpressure import pending_bytes
from realtime.server.patching import patch, replace

logger = logging.getLogger(__name__)

# The most of one body written to the transport at once (Twisted's high-water mark).
PIECE = 64 * 1024
BODY = "http.response.body"


def unread(channel: Any) -> int:
    """Bytes the client has yet to read: Twisted's buffer and the socket's (Linux's TIOCOUTQ; elsewhere, 0)."""
    transport = channel.transport
    raw = getattr(transport, "transport", None) or transport  # under TLS, the socket's own transport
    try:
        queued = struct.unpack("i", fcntl.ioctl(raw.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
    except (AttributeError, OSError, ValueError):
        queued = 0
    return pending_bytes(channel) + int(queued)


def _wake(channel: Any) -> None:
    waiters = getattr(channel, "realtime_drain_waiters", None)
    if waiters:
        channel.realtime_drain_waiters = []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


async def writable(request: Any) -> None:
    """Return once `request`'s transport is under its high-water mark (or gone); drop a client that reads nothing."""
    channel = request.channel
    while channel is not None and getattr(channel, "realtime_paused", False) and request.channel is not None:
        waiting = unread(channel)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = channel.__dict__.setdefault("realtime_drain_waiters", [])
        waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, realtime_settings.HTTP_SEND_TIMEOUT)
        except TimeoutError:
            if waiter in waiters:
                waiters.remove(waiter)
            if request.channel is None or unread(channel) < waiting:
                continue  # gone, or reading, however slowly: wait on
            logger.info(
                "HTTP %s dropped: its client read nothing of %s bytes for HTTP_SEND_TIMEOUT (%s s)",
                request.uri.decode("ascii", "replace")[:200],
                waiting,
                realtime_settings.HTTP_SEND_TIMEOUT,
            )
            channel.transport.abortConnection()
            return


def install() -> bool:
    """Apply to daphne's HTTP requests and Twisted's HTTP channel; False without daphne."""
    try:
        from daphne.http_protocol import WebRequest
        from daphne.server import Server
        from twisted.web.http import HTTPChannel
    except ImportError:
        return False

    def pause_producing(original: Any, self: Any) -> None:
        self.realtime_paused = True
        original(self)

    def resume_producing(original: Any, self: Any) -> None:
        self.realtime_paused = False
        original(self)
        _wake(self)

    def stop_producing(original: Any, self: Any) -> None:
        self.realtime_paused = False
        original(self)
        _wake(self)

    def connection_lost(original: Any, self: Any, reason: Any) -> None:
        channel = self.channel
        original(self, reason)
        if channel is not None:
            channel.realtime_paused = False
            _wake(channel)

    def pacing(original: Any) -> Any:
        async def handle_reply(self: Any, protocol: Any, message: dict[str, Any]) -> None:
            if message.get("type") != BODY or not isinstance(protocol, WebRequest):
                await original(self, protocol, message)
                return
            body = message.get("body", b"")
            if len(body) <= PIECE:
                if getattr(protocol.channel, "realtime_paused", False):
                    await writable(protocol)
                await original(self, protocol, message)
                return
            more_body = message.get("more_body", False)
            for start in range(0, len(body), PIECE):
                if getattr(protocol.channel, "realtime_paused", False):
                    await writable(protocol)
                last = start + PIECE >= len(body)
                piece = {"type": BODY, "body": body[start : start + PIECE], "more_body": more_body if last else True}
                await original(self, protocol, piece)

        return handle_reply

    patch(HTTPChannel, "pauseProducing", pause_producing)
    patch(HTTPChannel, "resumeProducing", resume_producing)
    patch(HTTPChannel, "stopProducing", stop_producing)
    patch(WebRequest, "connectionLost", connection_lost)
    replace(Server, "handle_reply", pacing)
    return True
