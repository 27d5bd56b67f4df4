"""
A cost daphne pays on every frame, removed.

autobahn, daphne's WebSocket protocol, formats the arguments of a debug log
call each time it sends a frame (`sendData`): `hltype` and `hlval` build colored
strings through click, for a call that txaio has already turned into a no-op
unless autobahn logs at debug level. Measured: about 5% of an echo round trip
under daphne (bench/RESULTS.md, "Where the time goes").

`skip_eager_debug_formatting()` gives autobahn's WebSocket protocol module
helpers that return an empty string instead, as long as autobahn does not log
at debug level. They have no other use there than those log arguments.
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
        level = txaio.get_global_log_level()
    except RuntimeError:  # no framework chosen yet (not under daphne): txaio's default level
        level = "info"
    if level in _DEBUG_LEVELS:
        return False
    protocol.hltype = _blank  # type: ignore[assignment]
    protocol.hlval = _blank  # type: ignore[assignment]
    return True


def _blank(*args: Any, **kwargs: Any) -> str:
    return ""
