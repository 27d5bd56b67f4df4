"""
Send-side backpressure under daphne (PROTOCOL.md, "Nothing buffers without bound").

Everything written to a WebSocket connection waits in its Twisted transport's
write buffer until the client reads it: the application's frames, and
autobahn's pongs to the client's pings. daphne writes without looking, so a
client that does not read grows the process without bound. Each connection's
transport gets a push producer here (Twisted's flow control: `pauseProducing`
on every write while the buffer is over its high-water mark of 64 KiB,
`resumeProducing` once it is empty), which:

- closes the connection with 4410 once more than `SEND_BUFFER_LIMIT` bytes
  wait (it fell behind; the client reconnects with `since`), and drops it past
  twice that, or when a close it was sent is not read within `CLOSE_LINGER`;
- tells the application when the client is behind and when it has caught up
  (`scope["extensions"]["realtime.flow"]`, realtime/limits/flow.py), so that a
  replay goes as fast as the client reads it;
- drops what the application sends once the connection is closing, instead of
  raising autobahn's `Disconnected` into it (a message and a close arriving in
  one packet did that): the disconnect follows;
- drops an accept that comes after autobahn dropped the handshake (its
  `openHandshakeTimeout`, daphne's `--websocket_connect_timeout`, fired while the
  application decided): autobahn would answer 101 on the aborted socket and
  reopen the connection, and its loss would then raise `AlreadyCalledError`
  before daphne's `onClose`, so the application never got its disconnect (a
  connection counted for ever); and makes sure, whatever autobahn raises, that
  a lost connection reaches daphne's `onClose` (`websocket.disconnect`, 1006).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from realtime.close_codes import CLOSE_FELL_BEHIND
from realtime.conf import realtime_settings
from realtime.limits.flow import EXTENSION
from realtime.metrics import catalog as metrics
from realtime.server.patching import installed_reactor, patch, replace

logger = logging.getLogger(__name__)

# Seconds a connection that was sent its close may take to read it before it is dropped.
CLOSE_LINGER = 5.0
# Past this many times SEND_BUFFER_LIMIT the connection is dropped, not closed.
DROP_FACTOR = 2


def pending_bytes(protocol: Any) -> int:
    """Bytes waiting to be written to the client: the socket's buffer, and autobahn's queue (empty under daphne)."""
    transport = protocol.transport
    raw = getattr(transport, "transport", None) or transport  # under TLS, the socket's own transport
    waiting = len(getattr(raw, "dataBuffer", b"")) - getattr(raw, "offset", 0) + getattr(raw, "_tempDataLen", 0)
    queue = getattr(protocol, "send_queue", None) or ()
    return int(waiting + sum(len(data) for data, _ in queue))


class TransportFlow:
    """The push producer of one connection's transport, and the application's view of it (`FlowControl`)."""

    # One per connection, for its whole life: no per-instance dict, and a list of waiters only while some wait.
    __slots__ = ("_closing", "_limit", "_paused", "_protocol", "_waiters")

    def __init__(self, protocol: Any, limit: int) -> None:
        self._protocol = protocol
        self._limit = limit
        self._paused = False
        self._closing = False  # a close is being written from inside a write: no second one
        self._waiters: list[asyncio.Future[None]] | None = None

    # Twisted's IPushProducer.

    def pauseProducing(self) -> None:
        self._paused = True
        self._enforce_limit()

    def resumeProducing(self) -> None:
        self._paused = False
        self._wake()

    def stopProducing(self) -> None:
        self._paused = False
        self._wake()

    # realtime.limits.flow.FlowControl.

    def writable(self) -> bool:
        return not self._paused

    async def drained(self) -> None:
        if not self._paused:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter

    def buffered(self) -> int:
        return pending_bytes(self._protocol)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters or (), None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _enforce_limit(self) -> None:
        protocol = self._protocol
        if self._closing or protocol.state == protocol.STATE_CLOSED:
            return
        waiting = pending_bytes(protocol)
        if waiting > DROP_FACTOR * self._limit or (waiting > self._limit and protocol.state == protocol.STATE_CLOSING):
            metrics.fell_behind.labels(metrics.DROPPED).inc()
            logger.warning("WebSocket %s dropped: %s bytes unread, even its close", _path(protocol), waiting)
            protocol.wasClean, protocol.wasNotCleanReason = False, "send buffer overflow"
            protocol.dropConnection(abort=True)
        elif waiting > self._limit and protocol.state == protocol.STATE_OPEN:
            metrics.fell_behind.labels(metrics.SEND_BUFFER).inc()
            logger.warning(
                "WebSocket %s fell behind: %s bytes unread (SEND_BUFFER_LIMIT %s); closing with %s",
                _path(protocol),
                waiting,
                self._limit,
                CLOSE_FELL_BEHIND,
            )
            self._closing = True
            try:
                protocol.sendClose(code=CLOSE_FELL_BEHIND)
            finally:
                self._closing = False


def _path(protocol: Any) -> str:
    request = getattr(protocol, "request", None)
    return str(getattr(request, "path", "?"))


def install() -> bool:
    """Apply to daphne's WebSocket protocol; False without daphne."""
    try:
        from daphne.server import Server
        from daphne.ws_protocol import WebSocketProtocol
        from twisted.internet.interfaces import IPushProducer
        from zope.interface import implementer
    except ImportError:
        return False
    implementer(IPushProducer)(TransportFlow)

    def connection_made(original: Any, self: Any) -> None:
        original(self)
        self.realtime_flow = TransportFlow(self, realtime_settings.SEND_BUFFER_LIMIT)
        # daphne's HTTP channel registered itself as the producer and never unregisters: replace it.
        self.transport.unregisterProducer()
        self.transport.registerProducer(self.realtime_flow, True)

    def replying(original: Any) -> Any:
        def handle_reply(self: Any, message: dict[str, Any]) -> None:
            kind = message.get("type")
            if kind in ("websocket.send", "websocket.close") and self.state in (
                self.STATE_CLOSING,
                self.STATE_CLOSED,
            ):
                return  # the client is going or gone; its disconnect follows
            if kind == "websocket.accept" and self.state == self.STATE_CLOSED:
                return  # the handshake was dropped (timed out) before this accept; its disconnect follows
            original(self, message)

        return handle_reply

    def drop_connection(original: Any, self: Any, abort: bool = False) -> None:
        original(self, abort)
        if not abort and getattr(self, "realtime_linger", None) is None:
            self.realtime_linger = installed_reactor().callLater(CLOSE_LINGER, _abort_lingering, self)

    def connection_lost(original: Any, self: Any, reason: Any) -> None:
        linger = getattr(self, "realtime_linger", None)
        if linger is not None and linger.active():
            linger.cancel()
        flow = getattr(self, "realtime_flow", None)
        if flow is not None:
            flow.stopProducing()
        try:
            original(self, reason)
        finally:
            _tell_the_application(self)

    def create_application(original: Any, self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        flow = getattr(protocol, "realtime_flow", None)
        if flow is not None:  # into daphne's scope itself, made for this connection alone: no copy to hold
            scope["extensions"] = {**(scope.get("extensions") or {}), EXTENSION: flow}
        return original(self, protocol, scope)

    patch(WebSocketProtocol, "connectionMade", connection_made)
    replace(WebSocketProtocol, "handle_reply", replying)
    patch(WebSocketProtocol, "dropConnection", drop_connection)
    patch(WebSocketProtocol, "connectionLost", connection_lost)
    patch(Server, "create_application", create_application)
    return True


def _tell_the_application(protocol: Any) -> None:
    """daphne's `onClose` (the application's `websocket.disconnect`), if autobahn raised before calling it."""
    server = getattr(protocol, "server", None)  # set once daphne saw the handshake
    details = server.connections.get(protocol) if server is not None else None
    if details is not None and "disconnected" not in details:
        logger.warning("WebSocket %s lost without daphne's onClose; telling the application", _path(protocol))
        protocol.onClose(False, 1006, "connection lost")


def _abort_lingering(protocol: Any) -> None:
    protocol.realtime_linger = None
    if protocol.transport is not None:
        logger.info("WebSocket %s dropped: its close was not read within %s s", _path(protocol), CLOSE_LINGER)
        protocol.transport.abortConnection()
