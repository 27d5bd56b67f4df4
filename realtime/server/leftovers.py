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

autobahn also copies 29 options from its factory onto every connection (its
`__dict__` then holds 111 attributes, a 3.3 KiB table). Those it reads only
at the handshake, at the close or for the pings' settings are read from the
factory instead (a connection may still set its own), and once the
handshake's attributes are gone the table is rebuilt for what is left: 80
attributes, 1.6 KiB. The options read on every frame stay copies.

autobahn's queue of chopped and synchronous writes (a deque, 760 B with its
block) is empty for the whole life of a daphne connection (daphne writes
neither): it is let go too, and made again the moment something is queued.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from realtime.server.patching import patch

# autobahn's (and daphne's `clean_headers`): read only until the connection opens.
HANDSHAKE_ATTRIBUTES = (
    "http_headers",
    "http_request_data",
    "http_status_line",
    "http_request_uri",
    "http_request_path",
    "http_request_params",
    "http_request_host",
    "http_response_data",
    "websocket_protocols",
    "websocket_origin",
    "websocket_extensions",
    "_wskey",
    "clean_headers",
)
# autobahn's options read at the handshake, at the close or when the pings start, never per frame:
# read from the factory rather than copied onto each connection.
FACTORY_OPTIONS = (
    "failByDrop",
    "echoCloseCodeReason",
    "openHandshakeTimeout",
    "closeHandshakeTimeout",
    "tcpNoDelay",
    "autoPingInterval",
    "autoPingTimeout",
    "autoPingSize",
    "versions",
    "webStatus",
    "perMessageCompressionAccept",
    "serveFlashSocketPolicy",
    "flashSocketPolicy",
    "allowedOrigins",
    "allowedOriginsPatterns",
    "allowNullOrigin",
    "maxConnections",
    "trustXForwardedFor",
)


_UNSET = object()
# autobahn's queue of writes it sends a piece at a time (`sendData(sync=True)`, `chopsize`).
SEND_QUEUE = "send_queue"


class NoSendQueue:
    """autobahn's `send_queue` of a connection that has none: empty, and made the moment it is appended to."""

    __slots__ = ("protocol",)

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    def __len__(self) -> int:
        return 0

    def append(self, item: Any) -> None:
        self.protocol.__dict__[SEND_QUEUE] = deque([item])

    def popleft(self) -> Any:
        raise IndexError("pop from an empty deque")


class LazySendQueue:
    """A class attribute: a connection's own `send_queue` when it has one, else a `NoSendQueue` for it."""

    def __get__(self, protocol: Any, owner: type | None = None) -> Any:
        return self if protocol is None else NoSendQueue(protocol)


class OpenedRequest:
    """What daphne reads of the request once the connection is open: the path, for its log lines."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def release(protocol: Any) -> None:
    """Drop an open connection's handshake, keeping the request's path, and rebuild its attributes' table."""
    attributes = protocol.__dict__
    request = attributes.get("request")
    if request is not None and not isinstance(request, OpenedRequest):
        attributes["request"] = OpenedRequest(request.path)
    queue = attributes.get(SEND_QUEUE)
    idle_queue = (
        isinstance(queue, deque) and not queue and isinstance(vars(type(protocol)).get(SEND_QUEUE), LazySendQueue)
    )
    if idle_queue or any(name in attributes for name in HANDSHAKE_ATTRIBUTES):
        # One by one: a copy of the whole dict would keep its table's size.
        dropped = (*HANDSHAKE_ATTRIBUTES, SEND_QUEUE) if idle_queue else HANDSHAKE_ATTRIBUTES
        protocol.__dict__ = {name: value for name, value in attributes.items() if name not in dropped}


def factory_option(name: str) -> property:
    """An option of autobahn's read from the connection's factory, unless the connection set its own."""

    def get(self: Any) -> Any:
        own = self.__dict__.get(name, _UNSET)  # nearly always unset: no exception raised for it
        return getattr(self.factory, name) if own is _UNSET else own

    def set_(self: Any, value: Any) -> None:
        self.__dict__[name] = value

    return property(get, set_, doc=f"autobahn's {name}, from the factory unless set on the connection")


def read_options_from_the_factory(protocol_class: type) -> None:
    """autobahn copies an option onto a connection only when the connection has none: these it has."""
    for name in FACTORY_OPTIONS:
        if not isinstance(vars(protocol_class).get(name), property):
            setattr(protocol_class, name, factory_option(name))


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
    read_options_from_the_factory(WebSocketProtocol)
    if SEND_QUEUE not in vars(WebSocketProtocol):
        WebSocketProtocol.send_queue = LazySendQueue()
    return True
