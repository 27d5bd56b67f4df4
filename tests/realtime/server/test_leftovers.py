"""An open connection lets go of its handshake (realtime/server/leftovers.py); the scope keeps what it holds."""

from __future__ import annotations

from typing import Any

from autobahn.websocket.types import ConnectionRequest
from daphne.ws_protocol import WebSocketProtocol

from realtime.server import leftovers
from realtime.server.patching import is_patched


def opened_protocol() -> Any:
    protocol: Any = WebSocketProtocol.__new__(WebSocketProtocol)
    headers = {"host": "example.com", "sec-websocket-key": "k"}
    protocol.http_headers = headers
    protocol.http_request_data = b"GET /ws/notifications?token=secret HTTP/1.1\r\n\r\n"
    protocol.http_status_line = "GET /ws/notifications?token=secret HTTP/1.1"
    protocol.http_request_uri = "/ws/notifications?token=secret"
    protocol.http_request_params = {"token": ["secret"]}
    protocol.http_response_data = b"HTTP/1.1 101 Switching Protocols\r\n\r\n"
    protocol.websocket_extensions = []
    protocol.clean_headers = [(b"host", b"example.com")]
    protocol.request = ConnectionRequest(
        peer="tcp:127.0.0.1:5000",
        headers=headers,
        host="example.com",
        path="/ws/notifications",
        params={"token": ["secret"]},
        version=13,
        origin=None,
        protocols=[],
        extensions=[],
    )
    return protocol


def test_the_handshake_is_released_and_the_path_kept_for_daphnes_log_lines() -> None:
    protocol = opened_protocol()
    leftovers.release(protocol)
    assert {name: getattr(protocol, name) for name in leftovers.HANDSHAKE_ATTRIBUTES} == dict.fromkeys(
        leftovers.HANDSHAKE_ATTRIBUTES
    )
    assert type(protocol.request) is leftovers.OpenedRequest
    assert protocol.request.path == "/ws/notifications"
    leftovers.release(protocol)  # twice: nothing more to do
    assert protocol.request.path == "/ws/notifications"


def test_a_protocol_without_a_handshake_is_left_as_it_is() -> None:
    protocol: Any = WebSocketProtocol.__new__(WebSocketProtocol)
    leftovers.release(protocol)
    assert protocol.__dict__ == {}


def test_the_server_integration_releases_it_when_daphne_has_handled_the_opening() -> None:
    from realtime import server

    server.install()
    assert is_patched(WebSocketProtocol, "onOpen")
