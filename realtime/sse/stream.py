"""
One SSE stream: a `/ws/` connection carried by an HTTP response (PROTOCOL.md,
"Server-Sent Events").

`Stream` plays the server for the WebSocket application (the origin check,
the caps, the token middleware, `StreamConsumer`): it hands it a WebSocket
scope made of the request, `websocket.connect`, then the client's messages
(POSTed to the stream, through the channel layer), and turns what it sends
into the response's bytes:

- `websocket.accept`: the response starts; its first event is `connected`
  (with `retry:` when `SSE_RETRY` is set);
- `websocket.send`: one event, `data: <the frame>`, with `id: <cursor>` when
  the consumer's cursor moved (consumer.py); a heartbeat: a comment line;
- `websocket.close` before accept: a refusal, answered by the view with an
  HTTP status; after accept: the last event, `close` with its code, then the
  response ends.

Bytes waiting for the client are the stream's send buffer: the consumer sees
them through the flow control of realtime/limits/flow.py (a replay goes as
fast as the client reads), and past `SEND_BUFFER_LIMIT` the stream ends with
`close` 4410, as a WebSocket would.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import get_channel_layer
from django.core import signing

from realtime.close_codes import CLOSE_FELL_BEHIND, CLOSE_GOING_AWAY, CLOSE_NORMAL
from realtime.conf import realtime_settings
from realtime.limits.flow import EXTENSION
from realtime.sse.consumer import COMMENT, CURSOR
from realtime.types import ASGIApp, Message, Scope

logger = logging.getLogger(__name__)

# Bytes waiting for the client above which a replay waits for it (as Twisted's and asyncio's transports).
HIGH_WATER = 64 * 1024
# Client messages a stream holds before its consumer has taken them; more are refused (the POST gets 429).
INCOMING_LIMIT = 64
# Seconds the application gets to end after the client left.
END_GRACE = 5.0
# Seconds between tries to read the stream's channel while the layer is away: doubling, at most the second.
LAYER_RETRY_FIRST, LAYER_RETRY_MAX = 0.5, 5.0
# Seconds within which the server starts reading an accepted stream's response, or the stream ends.
START_WITHIN = 10.0
STREAM_SALT = "realtime.sse.stream"
MESSAGE = "sse.message"
ACK = "sse.ack"


def stream_id(channel: str, user_id: Any) -> str:
    """The stream's name for its client: its channel and its user, signed (a client cannot name another's)."""
    return signing.dumps([channel, str(user_id)], salt=STREAM_SALT, compress=False)


def stream_of(name: str) -> tuple[str, str] | None:
    """The channel and user id a stream's name holds; None when it is not one of ours."""
    try:
        channel, user_id = signing.loads(name, salt=STREAM_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return str(channel), str(user_id)


def event(frame_text: str, cursor: str | None = None, *, retry: float | None = None) -> bytes:
    """
    One SSE event holding one JSON frame (compact JSON: one line); with `retry` (seconds), the
    `retry:` field that sets how long EventSource waits before it reconnects (milliseconds).
    """
    head = f"retry: {max(1, round(retry * 1000))}\n" if retry is not None else ""
    return (f"{head}data: {frame_text}\n" + (f"id: {cursor}\n" if cursor else "") + "\n").encode()


class Stream:
    """The server side of one stream: run `application` on `scope`, and read the response it makes."""

    def __init__(self, scope: Scope, application: ASGIApp, user_id: Any) -> None:
        self._user_id = user_id
        self._application = application
        self._scope = scope
        self._incoming: asyncio.Queue[Message] = asyncio.Queue()
        self._connected = False
        self._answer: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._out: collections.deque[bytes] = collections.deque()
        self._out_bytes = 0
        self._ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._iterating = False
        self._unread: asyncio.TimerHandle | None = None
        self._ending: asyncio.Task[None] | None = None
        self._layer = get_channel_layer()
        self.name = ""

    # --- The view's side ------------------------------------------------------------------

    async def start(self) -> int | None:
        """
        Run the application; None once it accepted, else the code it refused with. A request
        cancelled meanwhile (its client left) ends the application before it goes.
        """
        channel = await self._layer.new_channel() if self._layer is not None else ""
        self.name = stream_id(channel, self._user_id)
        scope = {**self._scope, "extensions": {**(self._scope.get("extensions") or {}), EXTENSION: self}}
        self._task = asyncio.ensure_future(self._run(scope))
        try:
            refused = await asyncio.shield(self._answer)
        except BaseException:
            await self._end()
            raise
        if refused is None:
            if self._layer is not None:
                self._reader = asyncio.ensure_future(self._read_posts(channel))
            # A response the server never starts to read (its client left between the view and the first
            # event) runs no `finally` of `events`: the stream ends itself then.
            self._unread = asyncio.get_running_loop().call_later(START_WITHIN, self._end_unread)
        return refused

    def _end_unread(self) -> None:
        if not self._iterating and not self._ended:
            logger.info("SSE stream %s: its response was never read; ending it", self.name[:12])
            self._ending = asyncio.ensure_future(self._end())

    async def events(self) -> AsyncIterator[bytes]:
        """The response's bytes, as they come; the client leaving (the iteration cancelled) ends the connection."""
        self._iterating = True
        try:
            connected = json.dumps({"type": "connected", "stream": self.name}, separators=(",", ":"))
            yield event(connected, retry=realtime_settings.SSE_RETRY)
            while True:
                while self._out:
                    chunk = self._out.popleft()
                    self._out_bytes -= len(chunk)
                    if self._out_bytes <= HIGH_WATER:
                        self._drained.set()
                    yield chunk
                if self._ended:
                    return
                self._ready.clear()
                await self._ready.wait()
        finally:
            await self._end()

    async def _end(self) -> None:
        """The response is over (the client left, or the stream ended): the application ends too."""
        if self._unread is not None:
            self._unread.cancel()
        if self._reader is not None:
            self._reader.cancel()
        self._ended = True
        self._drained.set()
        self._incoming.put_nowait({"type": "websocket.disconnect", "code": CLOSE_GOING_AWAY})
        if self._task is not None and not self._task.done():
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), END_GRACE)
            if not self._task.done():
                self._task.cancel()

    # --- The application's side (an ASGI server) --------------------------------------------

    async def _run(self, scope: Scope) -> None:
        try:
            await self._application(scope, self._receive, self._send)
        finally:
            if not self._answer.done():
                self._answer.set_result(CLOSE_NORMAL)
            if self._reader is not None:
                self._reader.cancel()
            self._finish()

    async def _receive(self) -> Message:
        if not self._connected:
            self._connected = True
            return {"type": "websocket.connect"}
        return await self._incoming.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            if not self._answer.done():
                self._answer.set_result(None)
        elif kind == "websocket.close":
            if not self._answer.done():
                self._answer.set_result(int(message.get("code") or CLOSE_NORMAL))
                return
            self._close_event(int(message.get("code") or CLOSE_NORMAL), message.get("reason") or "")
        elif kind == "websocket.send" and not self._ended:
            if message.get(COMMENT):
                self._write(f": {message[COMMENT]}\n\n".encode())
            else:
                self._write(event(message.get("text") or "", message.get(CURSOR)))
            if self._out_bytes > realtime_settings.SEND_BUFFER_LIMIT:
                self._fell_behind()

    def _write(self, chunk: bytes) -> None:
        if self._ended:
            return
        self._out.append(chunk)
        self._out_bytes += len(chunk)
        if self._out_bytes > HIGH_WATER:
            self._drained.clear()
        self._ready.set()

    def _fell_behind(self) -> None:
        """More than SEND_BUFFER_LIMIT waits for the client: the stream ends with `close` 4410, as a WebSocket."""
        logger.warning(
            "SSE stream fell behind: %s bytes unread (SEND_BUFFER_LIMIT %s); closing with %s",
            self._out_bytes,
            realtime_settings.SEND_BUFFER_LIMIT,
            CLOSE_FELL_BEHIND,
        )
        self._close_event(CLOSE_FELL_BEHIND, "fell behind")
        self._incoming.put_nowait({"type": "websocket.disconnect", "code": CLOSE_FELL_BEHIND})

    def _close_event(self, code: int, reason: str) -> None:
        """The stream's last event: the code a WebSocket would have been closed with."""
        self._write(event(json.dumps({"type": "close", "code": code, "reason": reason}, separators=(",", ":"))))
        self._finish()

    def _finish(self) -> None:
        self._ended = True
        self._ready.set()

    # --- Flow control (realtime/limits/flow.py) ----------------------------------------------

    def writable(self) -> bool:
        return self._out_bytes <= HIGH_WATER or self._ended

    async def drained(self) -> None:
        await self._drained.wait()

    def buffered(self) -> int:
        return self._out_bytes

    # --- The client's messages (views.py POSTs them to the stream's channel) -------------------

    async def _read_posts(self, channel: str) -> None:
        assert self._layer is not None
        failures = 0
        while True:
            try:
                posted = await self._layer.receive(channel)
            except Exception as error:  # the layer lost Redis: wait, then read again (as the consumers do)
                failures += 1
                logger.warning("SSE stream: the channel layer is unavailable (%s)", type(error).__name__)
                await asyncio.sleep(min(LAYER_RETRY_MAX, LAYER_RETRY_FIRST * 2 ** (failures - 1)))
                continue
            failures = 0
            if posted.get("type") != MESSAGE:
                continue
            taken = str(posted.get("user")) == str(self._user_id) and self._incoming.qsize() < INCOMING_LIMIT
            if taken:
                self._incoming.put_nowait({"type": "websocket.receive", "text": posted["text"]})
            reply = posted.get("reply")
            if reply:
                mine = str(posted.get("user")) == str(self._user_id)
                with contextlib.suppress(Exception):  # the POST gave up waiting: nothing to tell
                    await self._layer.send(reply, {"type": ACK, "taken": taken, "mine": mine})
