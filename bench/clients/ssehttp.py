"""
Server-Sent Events over raw HTTP/1.1 for the benchmark clients: a stream (a GET read as it comes, chunked or
not, split into events as `EventSource` splits them) and a keep-alive connection that POSTs messages to it.

No HTTP library: one asyncio connection per stream, as a browser's `EventSource` holds one, and one per poster,
as a browser's `fetch` reuses one.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

HEAD_TIMEOUT = 60.0


class Refused(Exception):
    """The GET was answered with another status than 200: `status`, and the body."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"http {status}")
        self.status = status
        self.body = body


@dataclass
class Event:
    """One event with data; `frame` is its JSON."""

    data: str
    id: str | None

    def frame(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.data)
        return loaded


@dataclass
class Stream:
    """An open stream: its events as they come (`next_event`); comment lines counted in `comments`."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    chunked: bool
    comments: int = 0
    last_event_id: str | None = None
    _body: bytearray = field(default_factory=bytearray)
    _ended: bool = False

    async def next_event(self) -> Event | None:
        """The next event with data; None once the response has ended (or the connection is gone)."""
        while True:
            end = self._body.find(b"\n\n")
            if end < 0:
                if self._ended:
                    return None
                more = await self._read()
                if not more:
                    self._ended = True
                    continue
                self._body += more.replace(b"\r\n", b"\n")
                continue
            block = bytes(self._body[:end])
            del self._body[: end + 2]
            data: list[str] = []
            event_id: str | None = None
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("id:"):
                    event_id = line[3:].removeprefix(" ")
            if data:
                if event_id is not None:
                    self.last_event_id = event_id
                return Event("\n".join(data), event_id)

    async def _read(self) -> bytes:
        try:
            if not self.chunked:
                return await self.reader.read(65536)
            size_line = await self.reader.readline()
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                return b""
            chunk = await self.reader.readexactly(size + 2)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return b""
        return chunk[:-2]

    def close(self) -> None:
        self.writer.close()


async def open_stream(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    *,
    local_addr: tuple[str, int] | None = None,
) -> Stream:
    """GET `path` as a stream and read its head; `Refused` for another status than 200."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=local_addr, limit=1 << 20)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        status, parsed = await asyncio.wait_for(_head(reader), HEAD_TIMEOUT)
        if status != 200:
            length = int(parsed.get("content-length", "0"))
            body = await asyncio.wait_for(reader.readexactly(length), HEAD_TIMEOUT) if length else b""
            raise Refused(status, body)
    except BaseException:
        writer.close()
        raise
    return Stream(reader, writer, parsed.get("transfer-encoding") == "chunked")


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin1").split("\r\n")
    parsed = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines if line)
    }
    return int(status_line.split()[1]), parsed


class Poster:
    """POSTs over one keep-alive connection (opened again when the server closes it)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.headers = {"Host": f"{host}:{port}", "Content-Type": "application/json", **headers}
        self._connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.reconnects = 0

    async def post(self, path: str, body: bytes) -> int:
        """POST `body` to `path`; the status (its body is read and dropped)."""
        if self._connection is None:
            self._connection = await asyncio.open_connection(self.host, self.port)
            self.reconnects += 1
        reader, writer = self._connection
        lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in self.headers.items())]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status, parsed = await _head(reader)
        if parsed.get("transfer-encoding") == "chunked":
            while size := int((await reader.readline()).strip() or b"0", 16):
                await reader.readexactly(size + 2)
            await reader.readline()
        elif length := int(parsed.get("content-length", "0")):
            await reader.readexactly(length)
        if parsed.get("connection", "").lower() == "close":
            writer.close()
            self._connection = None
        return status

    def close(self) -> None:
        if self._connection is not None:
            self._connection[1].close()
            self._connection = None
