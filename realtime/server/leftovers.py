"""
What an open WebSocket connection no longer needs of its handshake, let go.

autobahn keeps every connection's handshake on the protocol for the whole
life of the connection: the raw request, its parsed headers, its query
parameters (the token among them), the response it sent, the extensions
offered; daphne keeps its own copy of the headers and autobahn's whole
`ConnectionRequest`, of which it later reads only the path (for its log
lines). Measured by bench/memory.py: about 3.7 KiB per idle connection, a
tenth of it. Once the connection is open nothing reads them again (autobahn
uses them while it validates the request and writes its answer, daphne while
it builds the scope), so they are released when daphne has handled the
opening. The scope the application holds is not touched: its `headers` and
`query_string` stay.
"""

from __future__ import annotations

from typing import Any

from realtime.server.patching import patch

# autobahn's (and daphne's `clean_headers`): read only until the connection opens.
HANDSHAKE_ATTRIBUTES = (
    "http_headers",
    "http_request_data",
    "http_status_line",
    "http_request_uri",
    "http_request_params",
    "http_response_data",
    "websocket_extensions",
    "clean_headers",
)


class OpenedRequest:
    """What daphne reads of the request once the connection is open: the path, for its log lines."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def release(protocol: Any) -> None:
    """Drop an open connection's handshake, keeping the request's path."""
    for name in HANDSHAKE_ATTRIBUTES:
        if name in protocol.__dict__:
            setattr(protocol, name, None)
    request = protocol.__dict__.get("request")
    if request is not None and not isinstance(request, OpenedRequest):
        protocol.request = OpenedRequest(request.path)


def install() -> bool:
    """Apply to daphne's WebSocket protocol; False without daphne."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return False

    def on_open(original: Any, self: Any) -> None:
        try:
            original(self)
        finally:
            release(self)

    patch(WebSocketProtocol, "onOpen", on_open)
    return True
