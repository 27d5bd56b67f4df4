"""
Round trips of a client message to its answer, over `/ws/` or over a Server-Sent Events stream.

    python -m bench.clients.pingpong CONFIG.json

Config: "transport" ("ws" or "sse"); "host"; "port" (where the connections open); "post_port" (SSE only:
where the messages are POSTed, the stream's process or another); "tokens" (one connection each); "topics"
(each connection follows them: in the stream's URL, or subscribed on `/ws/`; it is open once every one is
`subscribed`); "message" (the JSON sent, default a ping) and "answer" (the frame type that answers it,
default "pong"); "warmup" and "messages" (per connection, one at a time: the next once the answer came, and
for SSE the POST's 202 too); "ready_file"; "result". The clock starts at SIGUSR1.

The result: every round trip's latency in seconds (the message sent to its answer received), for SSE every
POST's latency to its status and the statuses, failures, the started and finished times.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect

from bench.clients.common import load_config, ready_then_wait_for_go, write_result
from bench.clients.ssehttp import Poster, Stream, open_stream

PONG = '{"type":"pong"}'
ANSWER_TIMEOUT = 30.0


class Transport:
    """One connection's way to send a message and wait for its answer."""

    async def open(self) -> None:
        raise NotImplementedError

    async def round_trip(self, text: str) -> float:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class OverWebSocket(Transport):
    def __init__(self, config: dict[str, Any], token: str) -> None:
        self.url = f"ws://{config['host']}:{config['port']}/ws/?token={token}"
        self.topics: list[str] = config.get("topics", [])
        self.answer: str = config.get("answer", "pong")
        self.ws: ClientConnection | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, ping_interval=None, max_queue=None, open_timeout=60)
        for topic in self.topics:
            await self.ws.send(json.dumps({"type": "subscribe", "topic": topic}))
        await self._until("subscribed", len(self.topics))

    async def _until(self, kind: str, count: int = 1) -> None:
        assert self.ws is not None
        while count:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), ANSWER_TIMEOUT))
            if frame.get("type") == kind:
                count -= 1
            elif frame.get("type") == "ping" and kind != "ping":  # the server's heartbeat
                await self.ws.send(PONG)
            elif frame.get("type") in ("error", "close"):
                raise RuntimeError(f"waiting for {kind}: {frame}")

    async def round_trip(self, text: str) -> float:
        assert self.ws is not None
        started = time.perf_counter()
        await self.ws.send(text)
        await self._until(self.answer)
        return time.perf_counter() - started

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class OverStream(Transport):
    def __init__(self, config: dict[str, Any], token: str) -> None:
        self.config, self.token = config, token
        self.topics: list[str] = config.get("topics", [])
        self.answer: str = config.get("answer", "pong")
        self.stream: Stream | None = None
        self.name = ""
        self.poster = Poster(config["host"], config["post_port"], {"Authorization": f"Bearer {token}"})
        self.posts: list[float] = []
        self.statuses: collections.Counter[int] = collections.Counter()

    async def open(self) -> None:
        query = "&".join(f"topic={quote(topic)}" for topic in self.topics)
        path = "/realtime/sse" + (f"?{query}" if query else "")
        headers = {"Authorization": f"Bearer {self.token}"}
        self.stream = await open_stream(self.config["host"], self.config["port"], path, headers)
        connected = await self._until("connected")
        self.name = str(connected["stream"])
        await self._until("subscribed", len(self.topics))

    async def _until(self, kind: str, count: int = 1) -> dict[str, Any]:
        assert self.stream is not None
        frame: dict[str, Any] = {}
        while count:
            got = await asyncio.wait_for(self.stream.next_event(), ANSWER_TIMEOUT)
            if got is None:
                raise RuntimeError(f"the stream ended before {kind}")
            frame = got.frame()
            if frame.get("type") == kind:
                count -= 1
            elif frame.get("type") in ("error", "close"):
                raise RuntimeError(f"waiting for {kind}: {frame}")
        return frame

    async def round_trip(self, text: str) -> float:
        started = time.perf_counter()
        posted = asyncio.create_task(self._post(text, started))
        try:
            await self._until(self.answer)
        finally:
            elapsed = time.perf_counter() - started
            await posted
        return elapsed

    async def _post(self, text: str, started: float) -> None:
        status = await self.poster.post(f"/realtime/sse/{self.name}", text.encode())
        self.posts.append(time.perf_counter() - started)
        self.statuses[status] += 1

    async def close(self) -> None:
        self.poster.close()
        if self.stream is not None:
            self.stream.close()


async def run(config: dict[str, Any]) -> dict[str, Any]:
    kind = OverStream if config["transport"] == "sse" else OverWebSocket
    connections: list[Transport] = [kind(config, token) for token in config["tokens"]]
    for connection in connections:
        await connection.open()
    template = json.dumps(config.get("message", {"type": "ping"}))
    prefix = config.get("name", "pingpong")

    def text(index: int, number: int) -> str:
        """The message; "{n}" in it (a client_id) made unique to the run, the connection and the message."""
        return template.replace("{n}", f"{prefix}-{index}-{number}")

    for number in range(config.get("warmup", 0)):
        await asyncio.gather(*(c.round_trip(text(n, -1 - number)) for n, c in enumerate(connections)))
    for connection in connections:
        if isinstance(connection, OverStream):
            connection.posts.clear()
            connection.statuses.clear()
    await ready_then_wait_for_go(config)
    latencies: list[float] = []

    async def loop(index: int, connection: Transport) -> None:
        for number in range(config["messages"]):
            latencies.append(await connection.round_trip(text(index, number)))

    started = time.monotonic()
    await asyncio.gather(*(loop(n, connection) for n, connection in enumerate(connections)))
    finished = time.monotonic()
    posts = [post for c in connections if isinstance(c, OverStream) for post in c.posts]
    statuses: collections.Counter[int] = collections.Counter()
    for connection in connections:
        if isinstance(connection, OverStream):
            statuses.update(connection.statuses)
        await connection.close()
    return {
        "round_trips": len(latencies),
        "latencies": latencies,
        "posts": posts,
        "statuses": {str(status): count for status, count in statuses.items()},
        "started": started,
        "finished": finished,
    }


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(run(config)))


if __name__ == "__main__":
    main()
