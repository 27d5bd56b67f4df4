"""Bytes to a client go to its socket at once when none wait before them (realtime/server/writes.py)."""

from __future__ import annotations

from typing import Any

from twisted.internet import main, tcp

from realtime.server import writes
from realtime.server.patching import is_patched


class Connection:
    """Twisted's connection state that the send looks at, with a socket that takes `room` bytes."""

    def __init__(self, room: int, *, waiting: bytes = b"", tls: bool = False, lost: bool = False) -> None:
        self.connected, self.TLS, self._writeDisconnected, self._aborting = True, tls, False, False
        self._tempDataLen = len(waiting)
        self.dataBuffer, self.offset = b"", 0
        self.room, self.lost = room, lost
        self.sent: list[bytes] = []
        self.buffered: list[bytes] = []

    def writeSomeData(self, data: bytes) -> Any:  # Twisted's name
        if self.lost:
            return main.CONNECTION_LOST
        taken = bytes(data[: self.room])
        self.sent.append(taken)
        return len(taken)


def write(connection: Connection, data: bytes) -> None:
    writes.sending_first(lambda self, rest: self.buffered.append(rest))(connection, data)


def test_a_frame_the_socket_takes_whole_is_not_buffered() -> None:
    connection = Connection(room=100)
    write(connection, b"frame")
    assert (connection.sent, connection.buffered) == ([b"frame"], [])


def test_what_the_socket_does_not_take_is_buffered_as_twisted_would() -> None:
    connection = Connection(room=2)
    write(connection, b"frame")
    assert (connection.sent, connection.buffered) == ([b"fr"], [b"ame"])


def test_bytes_waiting_in_twisteds_buffer_go_first() -> None:
    connection = Connection(room=100, waiting=b"earlier")
    write(connection, b"frame")
    assert (connection.sent, connection.buffered) == ([], [b"frame"])


def test_a_connection_being_aborted_gets_nothing_written() -> None:
    connection = Connection(room=100)
    connection._aborting = True  # abortConnection() ran; connectionLost comes a loop turn later
    write(connection, b"HTTP/1.1 101 Switching Protocols")
    assert (connection.sent, connection.buffered) == ([], [b"HTTP/1.1 101 Switching Protocols"])


def test_tls_connections_and_lost_ones_are_left_to_twisted() -> None:
    tls, lost = Connection(room=100, tls=True), Connection(room=100, lost=True)
    write(tls, b"frame")
    write(lost, b"frame")
    assert (tls.sent, tls.buffered, lost.buffered) == ([], [b"frame"], [b"frame"])


def test_a_sequence_is_one_write_of_its_joined_bytes() -> None:
    """A chunk of a chunked HTTP response (an SSE event) goes as `write` would send it: at once."""
    written: list[bytes] = []
    connection = Connection(room=100)
    connection.write = written.append  # type: ignore[attr-defined]
    writes.sequence_sent_first(lambda self, iovec: None)(connection, (b"5", b"\r\n", b"event", b"\r\n"))
    assert written == [b"5\r\nevent\r\n"]


def test_a_sequence_of_something_else_is_left_to_twisted() -> None:
    left: list[Any] = []
    pieces = iter([b"a", b"b"])
    writes.sequence_sent_first(lambda self, iovec: left.append(iovec))(Connection(room=100), pieces)
    writes.sequence_sent_first(lambda self, iovec: left.append(iovec))(Connection(room=100), [b"a", "b"])
    assert left == [pieces, [b"a", "b"]]


def test_the_server_integration_applies_it_to_the_connections_twisted_accepts() -> None:
    from realtime import server

    server.install()
    assert is_patched(tcp.Server, "write")
    assert is_patched(tcp.Server, "writeSequence")
