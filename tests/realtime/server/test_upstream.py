"""
What the server integration relies on in daphne, Twisted and autobahn, checked
against their real classes (realtime/server/versions.py): every method a patch
replaces, with the signature it was written for, and every private name or
behaviour a patch reads. An upgrade that changes one fails here, by name, before
anything misbehaves in production.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Iterator
from typing import Any

import daphne.cli  # noqa: F401  (serving with daphne: the integration patches it)
import pytest
from daphne.access import AccessLogGenerator
from daphne.http_protocol import WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.internet import asyncioreactor, tcp
from twisted.web.http import HTTPChannel

from realtime import server
from realtime.server import backpressure, leftovers, patching, queues, reactor, writes
from realtime.server.patching import installed_reactor

# Each method a patch wraps or replaces (realtime/server/patching.py), and the signature of the original.
PATCHED = {
    ("daphne.http_protocol.WebRequest", "connectionLost"): "(self, reason)",
    ("daphne.server.Server", "create_application"): "(self, protocol, scope)",
    ("daphne.server.Server", "handle_reply"): "(self, protocol, message)",
    ("daphne.server.Server", "kill_all_applications"): "(self)",
    ("daphne.ws_protocol.WebSocketProtocol", "_connectionMade"): "(self) -> 'None'",
    ("daphne.ws_protocol.WebSocketProtocol", "connectionLost"): (
        "(self, reason: 'Failure' = <twisted.python.failure.Failure twisted.internet.error.ConnectionDone: "
        "Connection was closed cleanly.>) -> 'None'"
    ),
    ("daphne.ws_protocol.WebSocketProtocol", "connectionMade"): "(self) -> 'None'",
    ("daphne.ws_protocol.WebSocketProtocol", "dropConnection"): "(self, abort: 'bool' = False) -> 'None'",
    ("daphne.ws_protocol.WebSocketProtocol", "handle_reply"): "(self, message)",
    ("daphne.ws_protocol.WebSocketProtocol", "onFrameBegin"): "(self) -> 'None'",
    ("daphne.ws_protocol.WebSocketProtocol", "onOpen"): "(self)",
    ("daphne.ws_protocol.WebSocketProtocol", "serverClose"): "(self, code=None)",
    ("twisted.internet.tcp.Server", "write"): "(self, bytes)",
    ("twisted.internet.tcp.Server", "writeSequence"): "(self, iovec)",
    ("twisted.web.http.HTTPChannel", "allHeadersReceived"): "(self)",
    ("twisted.web.http.HTTPChannel", "connectionLost"): "(self, reason)",
    ("twisted.web.http.HTTPChannel", "connectionMade"): "(self)",
    ("twisted.web.http.HTTPChannel", "pauseProducing"): "(self)",
    ("twisted.web.http.HTTPChannel", "requestDone"): "(self, request)",
    ("twisted.web.http.HTTPChannel", "resumeProducing"): "(self)",
    ("twisted.web.http.HTTPChannel", "stopProducing"): "(self)",
}


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    server.install()


def qualified(owner: type) -> str:
    return f"{owner.__module__}.{owner.__qualname__}"


def test_every_patched_method_is_one_the_integration_was_written_for() -> None:
    patched = {(qualified(owner), name): str(inspect.signature(original)) for (owner, name), original in _originals()}
    assert patched == PATCHED


def _originals() -> Iterator[tuple[tuple[type, str], Any]]:
    return iter(patching._originals.items())


# --- Twisted --------------------------------------------------------------------------------------------------


@pytest.fixture
def connection() -> Iterator[tuple[Any, socket.socket]]:
    """A real Twisted TCP server connection (as a listening port accepts it) over a socket pair, and its peer."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    made = tcp.Server(ours, Protocol(), ("127.0.0.1", 1), None, 1, installed_reactor())  # type: ignore[arg-type]
    yield made, peer
    made.stopReading()  # out of the reactor before its descriptor is closed (and its number reused)
    made.stopWriting()
    ours.close()
    peer.close()


def test_twisted_connections_keep_the_write_state_writes_and_backpressure_read(connection: Any) -> None:
    made, _ = connection
    for name in ("connected", "TLS", "_writeDisconnected", "_aborting", "_tempDataLen", "offset", "dataBuffer"):
        assert hasattr(made, name), f"twisted.internet.tcp.Server has no {name}"
    assert (made._tempDataLen, made.offset, made.dataBuffer) == (0, 0, b"")
    assert callable(made.writeSomeData)


def test_a_frame_goes_to_the_peer_at_once_and_what_the_socket_refuses_waits_in_twisteds_buffer(connection: Any) -> None:
    made, peer = connection
    made.write(b"frame")  # sent at once (writes.py), no turn of the reactor
    assert peer.recv(100) == b"frame"
    made.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    made.write(b"x" * 4_000_000)  # far more than the socket takes
    assert 0 < backpressure.pending_bytes(_Protocol(made)) < 4_000_000


def test_abort_connection_sets_aborting_before_connection_lost(connection: Any) -> None:
    made, _ = connection
    made.abortConnection()
    assert made._aborting is True  # writes.py sends nothing to a socket being aborted


def test_the_asyncio_reactor_calls_sockets_through_its_module_global_call_with_logger() -> None:
    assert vars(asyncioreactor)["callWithLogger"] is reactor.call_with_logger
    for method in (asyncioreactor.AsyncioSelectorReactor.addReader, asyncioreactor.AsyncioSelectorReactor.addWriter):
        assert "callWithLogger" in method.__code__.co_names


def test_twisteds_http_channel_registers_itself_as_its_transports_producer() -> None:
    source = inspect.getsource(HTTPChannel.connectionMade)
    assert "registerProducer(self, True)" in source  # backpressure.py replaces it for WebSocket connections


# --- daphne ----------------------------------------------------------------------------------------------------


def test_daphne_registers_its_shutdown_step_before_the_reactor_shuts_down() -> None:
    source = inspect.getsource(Server.run)
    assert 'addSystemEventTrigger("before", "shutdown", self.kill_all_applications)' in source


def test_daphnes_connections_hold_their_application_and_disconnection_where_the_patches_read_them() -> None:
    source = inspect.getsource(Server.application_checker)
    assert 'details.get("disconnected"' in source
    assert 'details.get("application_instance"' in source
    assert '"disconnected" not in self.connections[protocol]' in inspect.getsource(Server.protocol_disconnected)


def test_daphne_makes_its_queues_from_its_module_asyncio() -> None:
    import daphne.server

    assert isinstance(daphne.server.asyncio, queues._AsyncioWithLeanQueues)
    original = patching._originals[(Server, "create_application")]
    assert "asyncio.Queue()" in inspect.getsource(original)  # the module's global, read when a connection comes


def test_daphnes_access_log_names_the_request_line_request() -> None:
    assert 'request="%(method)s %(path)s" % details' in inspect.getsource(AccessLogGenerator.__call__)
    assert AccessLogGenerator.write_entry.__name__ == "redacted_write_entry"


def test_daphnes_web_request_is_twisteds_request_with_the_channel_and_uri_responses_read() -> None:
    from twisted.web.http import Request

    assert issubclass(WebRequest, Request)
    assert "self.channel = channel" in inspect.getsource(Request.__init__)
    assert "self.uri = " in inspect.getsource(Request.requestReceived)
    assert "self._cleanup()" in inspect.getsource(Request.finish)
    assert "self.channel.requestDone(self)" in inspect.getsource(Request._cleanup)


# --- autobahn --------------------------------------------------------------------------------------------------


def test_autobahn_copies_only_the_options_a_connection_lacks_from_its_factory() -> None:
    from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol

    configured = set(AutobahnProtocol.CONFIG_ATTRS_COMMON) | set(AutobahnProtocol.CONFIG_ATTRS_SERVER)
    assert set(leftovers.FACTORY_OPTIONS) <= configured
    source = inspect.getsource(AutobahnProtocol._connectionMade)
    assert "if not hasattr(self, configAttr)" in source


def test_autobahn_keeps_the_handshake_attributes_leftovers_lets_go_of() -> None:
    from autobahn.websocket import protocol

    source = inspect.getsource(protocol.WebSocketServerProtocol.processHandshake)
    for name in ("http_headers", "http_request_uri", "http_request_path", "http_request_params", "websocket_origin"):
        assert f"self.{name}" in source


def test_autobahn_uses_of_its_send_queue_only_what_no_send_queue_offers() -> None:
    from autobahn.websocket.protocol import WebSocketProtocol as AutobahnProtocol

    source = inspect.getsource(AutobahnProtocol)
    assert {line.strip() for line in source.splitlines() if "send_queue" in line} == {
        "self.send_queue = deque()",
        "if len(self.send_queue) > 0:",
        "e = self.send_queue.popleft()",
        "self.send_queue.append((data[i:j], True))",
        "if sync or len(self.send_queue) > 0:",
        "self.send_queue.append((data, sync))",
    }


def test_autobahn_has_the_states_and_the_frame_state_the_patches_read() -> None:
    protocol = WebSocketProtocol()
    for state in ("STATE_CONNECTING", "STATE_OPEN", "STATE_CLOSING", "STATE_CLOSED"):
        assert isinstance(getattr(protocol, state), int)
    assert "self.current_frame = FrameHeader" in inspect.getsource(WebSocketProtocol.__mro__[1].processData)
    assert "inside_message" in inspect.getsource(WebSocketProtocol.__mro__[1].processData)


def test_daphnes_factory_takes_failbydrop_and_autobahn_formats_debug_arguments_with_hltype() -> None:
    from autobahn.websocket import protocol

    assert "failByDrop" in inspect.signature(WebSocketFactory.setProtocolOptions).parameters
    assert hasattr(protocol, "hltype")
    assert hasattr(protocol, "hlval")


class Protocol:
    """A protocol for a bare transport: Twisted's own base class."""

    def __new__(cls) -> Any:
        from twisted.internet.protocol import Protocol as TwistedProtocol

        return TwistedProtocol()


class _Protocol:
    """What backpressure.pending_bytes reads of a protocol: its transport (and autobahn's queue)."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.send_queue: list[Any] = []


def test_writes_is_the_method_twisted_calls() -> None:
    assert tcp.Server.write.__name__ == "write"
    assert patching.is_patched(tcp.Server, "write")
    assert patching.is_patched(tcp.Server, "writeSequence")


def test_a_chunked_http_response_writes_a_sequence_to_its_transport() -> None:
    """What writes.py's writeSequence relies on: Twisted's HTTP channel hands a chunk to writeSequence."""
    from twisted.web import http

    written: list[Any] = []

    class Transport:
        def writeSequence(self, iovec: Any) -> None:
            written.append(list(iovec))

    channel = http.HTTPChannel()
    channel.transport = Transport()  # type: ignore[assignment]
    channel.writeSequence(http.toChunk(b"event"))
    assert written == [[b"5", b"\r\n", b"event", b"\r\n"]]
    assert type(http.toChunk(b"event")) is tuple  # of bytes: what writes.py joins
    assert writes.install() is True
