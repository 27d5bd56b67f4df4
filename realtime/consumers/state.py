"""
starlette's WebSocket state machine (the seed's `WebSocketState`), as two
transition functions.

Each side of a connection has a state. The client's moves with what the
server receives (`after_receive`), the application's with what it sends
(`after_send`); an illegal transition raises `RuntimeError` with starlette's
words, naming what was expected.
"""

from __future__ import annotations

import enum

from realtime.close_codes import CLOSE_NORMAL


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


class WebSocketDisconnect(Exception):
    """
    The client is gone: starlette's `WebSocketDisconnect(code, reason)`.
    Raised where starlette raises it (a send that fails at the transport, code
    1006); a handler may raise it too. Either way the consumer runs its
    disconnect path with `code` and `reason`, as for a client's close.
    """

    def __init__(self, code: int = CLOSE_NORMAL, reason: str | None = None) -> None:
        super().__init__(code, reason or "")
        self.code = code
        self.reason = reason or ""


_CONNECTING_SENDS = frozenset({"websocket.accept", "websocket.close", "websocket.http.response.start"})
_CONNECTED_SENDS = frozenset({"websocket.send", "websocket.close"})
_CONNECTED_RECEIVES = frozenset({"websocket.receive", "websocket.disconnect"})


def after_send(state: WebSocketState, message_type: str, *, more_body: bool = False) -> WebSocketState:
    """The application's state once it has sent `message_type` in `state`."""
    if state is WebSocketState.CONNECTED:
        if message_type not in _CONNECTED_SENDS:
            raise RuntimeError(f'Expected ASGI message "websocket.send" or "websocket.close", but got {message_type!r}')
        return WebSocketState.DISCONNECTED if message_type == "websocket.close" else state
    if state is WebSocketState.CONNECTING:
        if message_type not in _CONNECTING_SENDS:
            raise RuntimeError(
                'Expected ASGI message "websocket.accept", "websocket.close" or '
                f'"websocket.http.response.start", but got {message_type!r}'
            )
        if message_type == "websocket.close":
            return WebSocketState.DISCONNECTED
        if message_type == "websocket.http.response.start":
            return WebSocketState.RESPONSE
        return WebSocketState.CONNECTED
    if state is WebSocketState.RESPONSE:
        if message_type != "websocket.http.response.body":
            raise RuntimeError(f'Expected ASGI message "websocket.http.response.body", but got {message_type!r}')
        return state if more_body else WebSocketState.DISCONNECTED
    raise RuntimeError('Cannot call "send" once a close message has been sent.')


def after_receive(state: WebSocketState, message_type: str) -> WebSocketState:
    """The client's state once the server has received `message_type` in `state`."""
    if state is WebSocketState.CONNECTED:
        if message_type not in _CONNECTED_RECEIVES:
            raise RuntimeError(
                f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {message_type!r}'
            )
        return WebSocketState.DISCONNECTED if message_type == "websocket.disconnect" else state
    if state is WebSocketState.CONNECTING:
        if message_type != "websocket.connect":
            raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {message_type!r}')
        return WebSocketState.CONNECTED
    raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
