"""
Two adjustments to autobahn, daphne's WebSocket protocol, applied when the
project loads (before daphne builds its protocol factory).

A connection that breaks the protocol (an oversize message, a bad frame) is
closed with a close frame carrying the reason (1009 for a message over
WEBSOCKET_MAX_MESSAGE_SIZE), not dropped: autobahn's server default
(`failByDrop`) leaves the client with an abnormal 1006 it would retry as a
network failure, with the same oversize message.

A cost daphne pays on every frame, removed:
autobahn, daphne's WebSocket protocol, formats the arguments of a debug log
call each time it sends a frame (`sendData`) and, in its Twisted adapter, each
time bytes arrive (`dataReceived`): `hltype` and `hlval` build colored strings
through click, for a call that txaio has already turned into a no-op unless
autobahn logs at debug level. Measured: about 5% of an echo round trip under
daphne for each of the two (bench/RESULTS.md, "Where the time goes").

`skip_eager_debug_formatting()` gives autobahn's WebSocket protocol module and
its Twisted adapter helpers that return an empty string instead, as long as
autobahn does not log at debug level. They have no other use there than those
log arguments.
"""

from __future__ import annotations

from typing import Any

_DEBUG_LEVELS = ("debug", "trace")


def skip_eager_debug_formatting() -> bool:
    """Apply the change; False when autobahn logs at debug level (or is not installed)."""
    try:
        import txaio
        from autobahn.websocket import protocol
    except ImportError:
        return False
    try:
        level = getattr(txaio, "get_global_log_level")()  # noqa: B009  (txaio's stubs omit it)
    except RuntimeError:  # no framework chosen yet (not under daphne): txaio's default level
        level = "info"
    if level in _DEBUG_LEVELS:
        return False
    for module in _formatting_modules(protocol):
        for name in ("hltype", "hlval"):  # not exported: set by name
            setattr(module, name, _blank)
    return True


def _formatting_modules(protocol: Any) -> list[Any]:
    """autobahn's WebSocket protocol module, and its Twisted adapter where Twisted is installed."""
    try:
        from autobahn.twisted import websocket
    except ImportError:
        return [protocol]
    return [protocol, websocket]


def close_failed_connections_with_a_code() -> bool:
    """Make daphne's protocol factory fail connections with a close frame; False without daphne."""
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:
        return False
    if getattr(WebSocketFactory, "closes_failed_connections_with_a_code", False):
        return True
    original_init = WebSocketFactory.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = init
    WebSocketFactory.closes_failed_connections_with_a_code = True
    return True


def _blank(*args: Any, **kwargs: Any) -> str:
    return ""
