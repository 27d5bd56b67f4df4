"""
Handshakes have a deadline (PROTOCOL.md, "Slow and hostile clients").

Twisted's HTTP channel times a connection out only when it goes idle, and
every byte received restarts that clock: a client that sends a request head
one byte every ten seconds keeps its connection, and its descriptor, for ever.
Here each TCP connection must send a complete request head (for a WebSocket:
its handshake request) within `HANDSHAKE_TIMEOUT` seconds of connecting, and,
on a kept-alive HTTP connection, of the previous response; otherwise it is
dropped. A client still reading the previous response (it has read some of
it since the deadline was set: realtime/server/responses.py) is given another
`HANDSHAKE_TIMEOUT`: dropping it cut a long download short. Once the head is
in, daphne's own deadline for the application to accept takes over
(`--websocket_connect_timeout`).
"""

from __future__ import annotations

import logging
from typing import Any

from realtime.conf import realtime_settings
from realtime.server.patching import installed_reactor, patch
from realtime.server.responses import unread

logger = logging.getLogger(__name__)


def _arm(channel: Any) -> None:
    _disarm(channel)
    channel.realtime_head_unread = unread(channel) if channel.transport is not None else 0
    channel.realtime_head_deadline = installed_reactor().callLater(
        realtime_settings.HANDSHAKE_TIMEOUT, _expire, channel
    )


def _disarm(channel: Any) -> None:
    deadline = getattr(channel, "realtime_head_deadline", None)
    channel.realtime_head_deadline = None
    if deadline is not None and deadline.active():
        deadline.cancel()


def _expire(channel: Any) -> None:
    channel.realtime_head_deadline = None
    if channel.transport is not None and unread(channel) < channel.realtime_head_unread:
        _arm(channel)  # reading the previous response: it is not idle
    elif channel.transport is not None:
        peer = channel.transport.getPeer()
        logger.info(
            "Dropped a connection from %s: no complete request within HANDSHAKE_TIMEOUT (%s s)",
            getattr(peer, "host", "?"),
            realtime_settings.HANDSHAKE_TIMEOUT,
        )
        channel.transport.abortConnection()


def install() -> bool:
    """Apply to Twisted's HTTP channel, which daphne serves with; False without daphne."""
    try:
        import daphne.http_protocol  # noqa: F401  (only where daphne serves)
        from twisted.web.http import HTTPChannel
    except ImportError:
        return False

    def connection_made(original: Any, self: Any) -> None:
        original(self)
        _arm(self)

    def all_headers_received(original: Any, self: Any) -> None:
        _disarm(self)
        original(self)

    def request_done(original: Any, self: Any, request: Any) -> None:
        _arm(self)  # before: the next request of a pipeline may be read, and armed, in there
        original(self, request)

    def connection_lost(original: Any, self: Any, reason: Any) -> None:
        _disarm(self)
        original(self, reason)

    patch(HTTPChannel, "connectionMade", connection_made)
    patch(HTTPChannel, "allHeadersReceived", all_headers_received)
    patch(HTTPChannel, "requestDone", request_done)
    patch(HTTPChannel, "connectionLost", connection_lost)
    return True
