"""
Clients that behave as PROTOCOL.md asks a real one to: a watcher that answers
pings and reconnects with `since` after a close, and a writer that resends a
comment with the same `client_id` until it is acknowledged. The fault tests
drive many of them at once and check what they saw.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage, InvalidStatus

# How long a client waits before trying again after a refusal, a close or an
# `unavailable` error (a real client backs off further, with jitter).
RETRY_DELAY = 0.1
ABNORMAL_CLOSURE = 1006


def close_code(closed: ConnectionClosed) -> int:
    return closed.rcvd.code if closed.rcvd else ABNORMAL_CLOSURE


class Progress:
    """Something a client recorded; tests wait on a condition over what the clients saw."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def changed(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds (bound the wait with `asyncio.timeout`)."""
        while not condition():
            await self._event.wait()


class Acks:
    """Every acknowledged `client_id` and its comment id, across writers."""

    def __init__(self, progress: Progress) -> None:
        self.ids: dict[str, int] = {}
        self.progress = progress

    def add(self, client_id: str, comment_id: int) -> None:
        self.ids[client_id] = comment_id
        self.progress.changed()

    async def reach(self, count: int) -> None:
        await self.progress.until(lambda: len(self.ids) >= count)


@dataclass
class Follower:
    """Watches a feed from `url` (which has a query already), reconnecting with `since` after any close."""

    url: str
    progress: Progress
    seen: list[int] = field(default_factory=list)
    closes: list[int] = field(default_factory=list)
    refusals: int = 0
    connections: int = 0
    _ws: ClientConnection | None = None
    _stopping: bool = False

    def stopping(self) -> bool:
        return self._stopping

    async def run(self) -> None:
        while not self.stopping():
            since = self.seen[-1] if self.seen else 0
            try:
                async with connect(f"{self.url}&since={since}", max_queue=None) as self._ws:
                    self.connections += 1
                    self.progress.changed()
                    await self._read(self._ws)
            except (InvalidStatus, InvalidMessage):
                # Refused (403 while the database is away), or dropped by the server's handshake deadline
                # while the database thread catches up after it: a client tries again, as every client does.
                self.refusals += 1
            except ConnectionClosed as closed:
                if self.stopping():
                    return
                self.closes.append(close_code(closed))
            self.progress.changed()
            await asyncio.sleep(RETRY_DELAY)

    async def stop(self) -> None:
        """Close the connection normally (1000) and stop reconnecting."""
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()

    async def _read(self, ws: ClientConnection) -> None:
        while True:  # recv() raises ConnectionClosed, with the close code, on any close
            frame = json.loads(await ws.recv())
            if frame["type"] == "ping":
                await ws.send('{"type":"pong"}')
            elif frame["type"] == "comment":
                self.seen.append(frame["comment"]["id"])
                self.progress.changed()


@dataclass
class Writer:
    """Writes comments one after another, each resent with its `client_id` until acknowledged."""

    url: str
    name: str
    acks: Acks
    unavailable: int = 0
    closes: list[int] = field(default_factory=list)
    refusals: int = 0
    _ws: ClientConnection | None = None

    async def run(self, stop: asyncio.Event) -> None:
        number = 0
        try:
            while not stop.is_set():
                await self._write_until_acked(f"{self.name}-{number}")
                number += 1
        finally:
            if self._ws is not None:
                await self._ws.close()

    async def _write_until_acked(self, client_id: str) -> None:
        message = json.dumps({"type": "new_comment", "body": f"comment {client_id}", "client_id": client_id})
        while True:
            try:
                if self._ws is None:
                    # Unbounded: the broadcasts a writer also gets pile up between its answers, and
                    # with websockets' default (16) reading would pause, the server's close frame too.
                    self._ws = await connect(self.url, max_queue=None)
                await self._ws.send(message)
                answer = await self._answer(self._ws)
            except InvalidStatus:
                self.refusals += 1
            except ConnectionClosed as closed:
                self.closes.append(close_code(closed))
                self._ws = None
            else:
                if answer["type"] == "comment_created":
                    assert answer["client_id"] == client_id, answer
                    self.acks.add(client_id, answer["comment_id"])
                    return
                assert answer["code"] == "unavailable", answer
                self.unavailable += 1
            self.acks.progress.changed()
            await asyncio.sleep(RETRY_DELAY)

    @staticmethod
    async def _answer(ws: ClientConnection) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame["type"] == "ping":
                await ws.send('{"type":"pong"}')
            elif frame["type"] in ("comment_created", "error"):
                return frame
