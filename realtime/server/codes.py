"""
Close codes daphne can send once a connection is open (realtime/close_codes.py).

autobahn, under daphne, sends only 1000 and 3000-4999 on an open connection:
any other code (1008, 1009, 1011, 1001...) raises inside daphne ("invalid close
code"), which logs "Exception inside application" and drops the connection, so
the client sees 1011. Every other ASGI server sends the code the application
asked for. Here daphne's `serverClose` sends the nearest code it can instead
(1008 -> 4008, 1011 -> 4011, `sendable_after_accept`) and logs the swap once per
close. Upstream would need autobahn to accept the registered codes an
application may send (RFC 6455, 7.4.1) from a server.
"""

from __future__ import annotations

import logging
from typing import Any

from realtime.close_codes import CLOSE_NORMAL, is_sendable_after_accept, sendable_after_accept
from realtime.server.patching import patch

logger = logging.getLogger(__name__)


def install() -> bool:
    """Apply to daphne's WebSocket protocol; False without daphne."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return False

    def server_close(original: Any, self: Any, code: int | None = None) -> None:
        code = CLOSE_NORMAL if code is None else code
        if not is_sendable_after_accept(code):
            sent = sendable_after_accept(code)
            logger.warning("Close code %s cannot be sent by daphne after accept; sending %s instead", code, sent)
            code = sent
        original(self, code)

    patch(WebSocketProtocol, "serverClose", server_close)
    return True
