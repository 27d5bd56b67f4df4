"""
A WebSocket client on a raw socket, for what well-behaved clients never do:
frames of any opcode, fragmentation and masking, a message and a close in one
packet, a handshake sent a byte at a time, a socket that never reads.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
from dataclasses import dataclass

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RECEIVE_TIMEOUT = 10.0


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True, rsv: int = 0) -> bytes:
    """One frame, as RFC 6455 lays it out (clients must mask; `mask=False` breaks that rule on purpose)."""
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, (0x80 if mask else 0) | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, length)
    else:
        header = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(byte ^ key[index % 4] for index, byte in enumerate(payload))


def close_frame(code: int = 1000, reason: bytes = b"") -> bytes:
    return frame(CLOSE, struct.pack("!H", code) + reason)


def handshake_request(path: str, host: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


@dataclass
class Received:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if self.opcode == CLOSE and len(self.payload) >= 2 else None


class RawClient:
    """An upgraded socket; `receive_buffer` shrinks the kernel's receive window (a client that reads little)."""

    def __init__(self, host: str, port: int, path: str, *, receive_buffer: int | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(RECEIVE_TIMEOUT)
        self.sock.connect((host, port))
        self.sock.sendall(handshake_request(path, f"{host}:{port}"))
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> Received | None:
        """The next frame, or None when the server closed the TCP connection (`TimeoutError` if it just waits)."""
        header = self._read(2)
        if header is None:
            return None
        opcode, length = header[0] & 0x0F, header[1] & 0x7F
        if length == 126:
            extended = self._read(2)
            length = struct.unpack("!H", extended)[0] if extended else 0
        elif length == 127:
            extended = self._read(8)
            length = struct.unpack("!Q", extended)[0] if extended else 0
        payload = self._read(length) if length else b""
        if payload is None:  # cut off mid-frame: the server dropped the connection
            return None
        return Received(opcode, payload)

    def frames_until_closed(self) -> list[Received]:
        """Every frame up to the server's close frame, or until the server dropped the connection."""
        received: list[Received] = []
        while (got := self.receive()) is not None:
            received.append(got)
            if got.opcode == CLOSE:
                return received
        self.dropped = True
        return received

    dropped = False

    def close(self) -> None:
        self.sock.close()

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {self._buffer!r}")
            self._buffer += chunk
        head, self._buffer = self._buffer.split(marker, 1)
        return head

    def _read(self, count: int) -> bytes | None:
        while len(self._buffer) < count:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data
