"""
One account's replay loop (bench/hostile.py, replay_amplification): sockets to `/ws/` that each subscribe
to a topic with `since: 0`, read the whole replay, unsubscribe, and again, until the time is up.

    python -m bench.clients.replayer CONFIG.json

Config (JSON): "url" (`/ws/?token=…`), "topic", "sockets", "seconds", "pause" (seconds a socket waits after
a refused replay before it asks again), "result". A socket the server closes opens again while time remains.

Result: bytes of the messages received (characters: every frame is ASCII here), replays completed (their
`replay_complete`), replays refused (`rate_limited`), other error frames by code, closes by code, handshake
failures.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench.clients.common import load_config, write_result

PONG = '{"type":"pong"}'
SHORT_FRAME = 1000  # longer frames are replayed comments: counted, never parsed
OPEN_TIMEOUT = 30.0


class Replayer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.subscribe = json.dumps({"type": "subscribe", "topic": config["topic"], "since": 0})
        self.unsubscribe = json.dumps({"type": "unsubscribe", "topic": config["topic"]})
        self.deadline = time.monotonic() + config["seconds"]
        self.received = 0
        self.completed = 0
        self.refused = 0
        self.errors: collections.Counter[str] = collections.Counter()
        self.closes: collections.Counter[str] = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()

    async def run(self) -> dict[str, Any]:
        await asyncio.gather(*(self.socket() for _ in range(self.config["sockets"])))
        return {
            "bytes_received": self.received,
            "replays_completed": self.completed,
            "replays_refused": self.refused,
            "other_errors": dict(self.errors),
            "closes": dict(self.closes),
            "handshake_failures": dict(self.failures),
        }

    async def socket(self) -> None:
        """One socket's loop, opened again whenever the server closes it, until the deadline."""
        while time.monotonic() < self.deadline:
            try:
                ws = await connect(self.config["url"], open_timeout=OPEN_TIMEOUT, ping_interval=None, max_queue=None)
            except InvalidStatus as refused:
                self.failures[f"http {refused.response.status_code}"] += 1
                await asyncio.sleep(self.config["pause"])
                continue
            except (InvalidHandshake, OSError, TimeoutError) as error:
                self.failures[type(error).__name__] += 1
                await asyncio.sleep(self.config["pause"])
                continue
            try:
                await asyncio.wait_for(self.loop(ws), timeout=max(0.0, self.deadline - time.monotonic()))
            except TimeoutError:
                pass
            except ConnectionClosed as closed:
                self.closes[str(closed.rcvd.code if closed.rcvd else 1006)] += 1
            finally:
                await ws.close()

    async def loop(self, ws: ClientConnection) -> None:
        await ws.send(self.subscribe)
        while True:
            text = await ws.recv()
            self.received += len(text)
            if len(text) > SHORT_FRAME:
                continue
            await self.answer(ws, json.loads(text))

    async def answer(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        """Ask again after each replay and each refusal; answer the heartbeat."""
        kind = frame.get("type")
        if kind == "ping":
            await ws.send(PONG)
        elif kind == "replay_complete":
            self.completed += 1
            await ws.send(self.unsubscribe)
        elif kind == "unsubscribed":
            await ws.send(self.subscribe)
        elif kind == "error":
            if frame.get("code") == "rate_limited":
                self.refused += 1
            else:
                self.errors[str(frame.get("code"))] += 1
            await asyncio.sleep(self.config["pause"])
            await ws.send(self.subscribe)


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(Replayer(config).run()))


if __name__ == "__main__":
    main()
