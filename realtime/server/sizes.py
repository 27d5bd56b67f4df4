"""
The largest WebSocket message and frame a client may send (`WEBSOCKET_MAX_MESSAGE_SIZE`).

daphne takes the limit from its command line (`--websocket-max-message-size`,
default 1 MiB), which `manage.py serve` fills from the settings; a host that
runs plain `daphne` passes none. Here every WebSocket connection takes the
setting when it opens, whichever way daphne was started: a larger message is
closed with 1009 (autobahn's "message too big").
"""

from __future__ import annotations

from typing import Any

from realtime.conf import realtime_settings
from realtime.server.patching import patch


def install() -> bool:
    """Apply to daphne's WebSocket protocol; False without daphne."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return False

    def connection_made(original: Any, self: Any) -> None:
        original(self)  # autobahn copies its factory's options onto the connection here
        limit = realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE
        self.maxMessagePayloadSize = self.maxFramePayloadSize = limit

    patch(WebSocketProtocol, "_connectionMade", connection_made)
    return True
