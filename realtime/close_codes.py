"""
WebSocket close codes used by this project, by name (PROTOCOL.md, "Close codes").

Before accept, any code may be used: the server turns a close into an HTTP 403
on the handshake, and the ASGI close still carries the code. After accept,
daphne (through autobahn) can only send 1000 and 3000-4999; any other code
raises inside daphne and the client sees 1011. `sendable_after_accept` maps a
code to one that daphne can send, which the server integration does under
daphne (realtime/server/codes.py); other servers send the code as it is.
"""

from __future__ import annotations

# RFC 6455 codes.
CLOSE_NORMAL = 1000
# The peer is going away: a server stopping, a page left.
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008
# A client message over WEBSOCKET_MAX_MESSAGE_SIZE (or of too many fragments).
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
# Never sent on the wire: what a side reports when a close came without a code (ASGI's
# `websocket.disconnect` without one), and when the connection ended without a close frame.
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006

# Application codes, 4000 + the matching HTTP status where one exists.
CLOSE_TOKEN_EXPIRED = 4401
# Before accept only (the wire sees HTTP 403): the site's permission hook refused the topic.
CLOSE_FORBIDDEN = 4403
# Before accept only (the wire sees HTTP 403): no endpoint at that path, or no
# such object (a post that does not exist).
CLOSE_NOT_FOUND = 4404
CLOSE_HEARTBEAT_TIMEOUT = 4408
# More live events wait for the connection than it can take: reconnect with `since`.
CLOSE_FELL_BEHIND = 4410
# The server is restarting (RFC 6455's 1012, service restart, in the range daphne
# can send): reconnect, with `since`.
CLOSE_SERVER_RESTARTING = 4012
CLOSE_RATE_LIMITED = 4429
# The database could not be reached (before or after accept): reconnect later,
# with `since`. Nothing acknowledged is lost; nothing unacknowledged was written.
CLOSE_UNAVAILABLE = 4503

# RFC 6455 registry codes (1001-1015) requested after accept are sent as
# 4000 + (code - 1000): 1008 -> 4008, 1011 -> 4011.
REGISTRY_CODE_OFFSET = 3000
_REGISTRY_CODES = range(1001, 1016)
_PRIVATE_CODES = range(3000, 5000)


def is_sendable_after_accept(code: int) -> bool:
    """True when daphne can send `code` on an open connection."""
    return code == CLOSE_NORMAL or code in _PRIVATE_CODES


def sendable_after_accept(code: int) -> int:
    """
    The code to send for `code` once the connection is open.

    1000 and 3000-4999 are sent as they are. 1001-1015 become 4001-4015, so a
    consumer that closes with 1008 or 1011 after accept does not crash the
    connection. Anything else is not a close code a server may send, and becomes
    4011, the private form of 1011 (internal error).
    """
    if is_sendable_after_accept(code):
        return code
    if code in _REGISTRY_CODES:
        return code + REGISTRY_CODE_OFFSET
    return CLOSE_INTERNAL_ERROR + REGISTRY_CODE_OFFSET
