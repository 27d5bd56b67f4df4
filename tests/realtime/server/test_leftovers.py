"""An open connection lets go of its handshake (realtime/server/leftovers.py); the scope keeps what it holds."""

from __future__ import annotations

import sys
from collections import deque
from types import SimpleNamespace
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
    protocol.state, protocol.client_addr = "open", ["127.0.0.1", 5000]
    leftovers.release(protocol)
    assert [name for name in leftovers.HANDSHAKE_ATTRIBUTES if name in protocol.__dict__] == []
    assert (protocol.state, protocol.client_addr) == ("open", ["127.0.0.1", 5000])
    assert type(protocol.request) is leftovers.OpenedRequest
    assert protocol.request.path == "/ws/notifications"
    leftovers.release(protocol)  # twice: nothing more to do
    assert protocol.request.path == "/ws/notifications"


def test_what_is_left_gets_a_table_of_its_own_size() -> None:
    protocol = opened_protocol()
    for number in range(80):
        setattr(protocol, f"kept_{number}", number)
    before = sys.getsizeof(protocol.__dict__)
    leftovers.release(protocol)
    assert len(protocol.__dict__) == 81  # the 80 and the request
    assert sys.getsizeof(protocol.__dict__) < before
    assert [getattr(protocol, f"kept_{number}") for number in range(80)] == list(range(80))


def test_options_read_only_at_the_handshake_come_from_the_factory_unless_the_connection_sets_its_own() -> None:
    class Protocol(WebSocketProtocol):
        pass

    leftovers.read_options_from_the_factory(Protocol)
    protocol: Any = Protocol.__new__(Protocol)
    protocol.factory = SimpleNamespace(openHandshakeTimeout=5, failByDrop=False)
    assert (hasattr(protocol, "openHandshakeTimeout"), protocol.openHandshakeTimeout, protocol.failByDrop) == (
        True,
        5,
        False,
    )
    protocol.openHandshakeTimeout = 1
    assert (protocol.openHandshakeTimeout, protocol.factory.openHandshakeTimeout) == (1, 5)
    assert list(protocol.__dict__) == ["factory", "openHandshakeTimeout"]


def test_a_protocol_without_a_handshake_is_left_as_it_is() -> None:
    protocol: Any = WebSocketProtocol.__new__(WebSocketProtocol)
    leftovers.release(protocol)
    assert protocol.__dict__ == {}


def test_the_server_integration_releases_it_when_daphne_has_handled_the_opening() -> None:
    from realtime import server

    server.install()
    assert is_patched(WebSocketProtocol, "onOpen")
    assert all(isinstance(vars(WebSocketProtocol)[name], property) for name in leftovers.FACTORY_OPTIONS)


def test_an_idle_write_queue_is_let_go_and_made_again_the_moment_autobahn_queues_a_write() -> None:
    class Protocol(WebSocketProtocol):
        send_queue = leftovers.LazySendQueue()

    protocol: Any = Protocol.__new__(Protocol)
    protocol.send_queue = deque()  # as autobahn makes it when the connection opens
    leftovers.release(protocol)
    assert leftovers.SEND_QUEUE not in protocol.__dict__
    assert len(protocol.send_queue) == 0
    protocol.send_queue.append((b"one", True))  # a chopped or synchronous write
    protocol.send_queue.append((b"two", True))
    assert (len(protocol.send_queue), protocol.send_queue.popleft()) == (2, (b"one", True))
    assert list(protocol.send_queue) == [(b"two", True)]
    leftovers.release(protocol)  # a queue that holds something stays
    assert list(protocol.send_queue) == [(b"two", True)]


def test_a_write_queue_is_kept_where_the_class_would_not_make_it_again() -> None:
    class Protocol(WebSocketProtocol):
        send_queue: Any = None

    protocol: Any = Protocol.__new__(Protocol)
    protocol.send_queue = deque()
    leftovers.release(protocol)
    assert isinstance(protocol.__dict__[leftovers.SEND_QUEUE], deque)
