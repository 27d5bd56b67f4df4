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

And one it pays on every connection: when a connection opens, autobahn
pretty-prints the 29 options it copied onto it (`pformat`), for a debug line
txaio drops: about 5% of a handshake's CPU under daphne (bench/RESULTS.md).

`skip_eager_debug_formatting()` gives autobahn's WebSocket protocol module and
its Twisted adapter helpers that return an empty string instead, as long as
autobahn does not log at debug level. They have no other use there than those
log arguments. The module's `pformat` returns an empty string for that one
caller (the options' debug line) and formats anything else as before.
"""

from __future__ import annotations

import pprint
import sys
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
    _options_log.add(protocol.WebSocketProtocol._connectionMade.__code__)
    setattr(protocol, "pformat", _pformat_but_the_options_log)  # noqa: B010  (not exported)
    return True


# The code of autobahn's methods whose `pformat` is only for a debug line.
_options_log: set[Any] = set()


def _pformat_but_the_options_log(value: Any, *args: Any, **kwargs: Any) -> str:
    """`pprint.pformat`, except for the debug line of a connection's options: nothing to format there."""
    if sys._getframe(1).f_code in _options_log:
        return ""
    return pprint.pformat(value, *args, **kwargs)


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
