"""
A Server-Sent Events client for tests: an HTTP/1.1 GET read as it streams
(chunked or not), split into events as `EventSource` splits them, and POSTs
to the stream.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

READ_TIMEOUT = 10.0


@dataclass
class Event:
    data: str
    id: str | None = None
    # The event's `retry:` field (milliseconds), when it had one.
    retry: int | None = None

    @property
    def frame(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded


@dataclass
class Stream:
    """An open stream: its status and headers, and its events as they come (`next_event`)."""

    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    chunked: bool
    body: bytes = b""
    comments: list[str] = field(default_factory=list)
    last_event_id: str | None = None
    _pending: bytes = b""

    async def next_event(self, wait: float = READ_TIMEOUT) -> Event | None:
        """The next event with data (comments are kept in `comments`); None when the response ended."""
        data: list[str] = []
        event_id: str | None = None
        retry: int | None = None
        while True:
            line = await asyncio.wait_for(self._line(), wait)
            if line is None:
                return None
            if line == "":
                if data:
                    if event_id is not None:
                        self.last_event_id = event_id
                    return Event("\n".join(data), event_id, retry)
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif line.startswith("id:"):
                event_id = line[3:].removeprefix(" ")
            elif line.startswith("retry:"):
                retry = int(line[6:].removeprefix(" "))

    async def frames_until(self, wanted: str, wait: float = READ_TIMEOUT) -> list[dict[str, Any]]:
        """Frames up to and including the first of type `wanted`."""
        frames: list[dict[str, Any]] = []
        while True:
            got = await self.next_event(wait)
            assert got is not None, f"the stream ended before {wanted}: {frames}"
            frames.append(got.frame)
            if got.frame.get("type") == wanted:
                return frames

    async def _line(self) -> str | None:
        while b"\n" not in self._pending:
            more = await self._read()
            if not more:
                return None
            self._pending += more
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode().rstrip("\r")

    async def _read(self) -> bytes:
        if not self.chunked:
            return await self.reader.read(65536)
        size_line = await self.reader.readline()
        if not size_line:
            return b""
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            return b""
        chunk = await self.reader.readexactly(size + 2)
        return chunk[:-2]

    def close(self) -> None:
        self.writer.close()


async def open_stream(
    host: str, port: int, path: str, headers: dict[str, str] | None = None, *, receive_buffer: int | None = None
) -> Stream:
    """GET `path` as a stream; read its head (a refusal's body too)."""
    reader, writer = await asyncio.open_connection(host, port)
    if receive_buffer is not None:
        import socket

        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    headers = {"Accept": "text/event-stream", **(headers or {})}
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    parsed = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines if line)
    }
    stream = Stream(int(status_line.split()[1]), parsed, reader, writer, parsed.get("transfer-encoding") == "chunked")
    if stream.status != 200:
        length = int(parsed.get("content-length", "0"))
        stream.body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT) if length else b""
    return stream


def post(url: str, message: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST one message to a stream (blocking: run it in a thread)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(message).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT) as answer:
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
