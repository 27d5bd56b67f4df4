"""
What can go wrong for a client, one exception each, all `RealtimeClientError`.

A consumer's `async for` raises the error that ended its subscription; `send`
raises the error that kept its answer from coming, or `MessageRejected` for an
error frame; `connect()` (entering `async with`) raises what stopped the first
connection.
"""

from __future__ import annotations

from realtime.client.protocol import Frame


class RealtimeClientError(Exception):
    """Anything the client raises of its own."""


class ClientClosed(RealtimeClientError):
    """The client was closed (its `async with` block ended) while this waited."""


class HandshakeRefused(RealtimeClientError):
    """
    The server refused the WebSocket handshake (HTTP 403: a token it does not
    accept, an origin, a connection cap). Raised by the first connect; on a
    reconnect only when the token cannot be renewed (a string), since a fresh
    one is the only thing worth trying again with.
    """

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the handshake with HTTP {status}")
        self.status = status


class TokenExpired(RealtimeClientError):
    """
    The server ended the connection for an expired or revoked token (4401), or the
    token expired before a reconnect, and the client was given a string: it has no
    way to get a fresh one. Give `token=` a callable to renew it.
    """


class ConnectionEnded(RealtimeClientError):
    """The server closed the connection with a code the client does not reconnect after (1000, 1008, ...)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"the server closed the connection with {code}" + (f": {reason}" if reason else ""))
        self.code = code
        self.reason = reason


class ConnectionLost(RealtimeClientError):
    """
    The connection dropped after a message was sent and before its answer came:
    whether the server acted on it is unknown. A `new_comment` with a `client_id`
    is sent again by `send` itself (the server creates it once); anything else
    raises this, for the caller to decide.
    """


class MessageRejected(RealtimeClientError):
    """The server answered a message with an error frame (`frame`), e.g. `invalid_body`, `not_found`."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.code = str(frame.get("code", ""))
        super().__init__(f"{self.code}: {frame.get('message', '')}")


class SubscriptionRefused(MessageRejected):
    """A `subscribe` answered with an error frame: `unknown_topic`, `not_found`, `forbidden`, `too_many_topics`..."""


class HistoryUnavailable(RealtimeClientError):
    """
    The history endpoint refused to fill a truncated replay for good (403, 404, 400).
    Raised by the subscription's `async for`; iterating again goes on after the
    gap, from the replay's `last_id`.
    """

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry
