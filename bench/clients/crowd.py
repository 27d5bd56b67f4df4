"""
A crowd of WebSocket clients in one process, for benchmarks.

    python -m bench.clients.crowd CONFIG.json

Config (JSON): "urls" (one connection each), "concurrency" (handshakes in flight),
"ready_file" (written once every connection is open or has failed), "deadline"
(seconds, hard stop), "record_types" (frame types to record), "expect" (a
connection ends after that many recorded frames), "subscribe" (optional, for
`/ws/`: topics each connection subscribes to once open; it counts as connected
when every one is answered with `subscribed`, and as a failure, closed, when one
is refused or not answered within SUBSCRIBE_TIMEOUT), "source_addresses"
(optional: connections come from that many loopback addresses, 127.1.<process>.N,
as many clients' would, instead of all from 127.0.0.1), "log_presence" (optional:
keep every `presence_state` and `presence_diff`), "result" (where the JSON result
goes). SIGUSR1 ends the run.

Every connection answers the server's heartbeat pings. The result lists each
recorded frame as [connection, id, monotonic time] (CLOCK_MONOTONIC is shared by
the processes of one machine), handshake failures, closes by code, and the pings
answered; with "log_presence", "presence" lists each presence frame as
[connection, monotonic time, 1 for a diff or 0 for a state, count].
"""

from __future__ import annotations

import asyncio
import collections
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

PONG = '{"type":"pong"}'
SUBSCRIBE_TIMEOUT = 60.0
PRESENCE_FRAMES = ("presence_state", "presence_diff")


class SubscribeFailed(Exception):
    """A topic refused (an error frame) or not answered: the reason, counted among the failures."""


class Crowd:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.record = set(config.get("record_types", []))
        self.frames: list[tuple[int, int, float]] = []
        self.log_presence = bool(config.get("log_presence"))
        self.presence: list[tuple[int, float, int, int]] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self.closes: collections.Counter[str] = collections.Counter()
        self.connected = 0
        self.pongs = 0
        self.stop = asyncio.Event()

    async def run(self) -> dict[str, Any]:
        urls: list[str] = self.config["urls"]
        gate = asyncio.Semaphore(self.config.get("concurrency", 100))
        opened: list[asyncio.Event] = [asyncio.Event() for _ in urls]
        tasks = [asyncio.create_task(self.client(i, url, gate, opened[i])) for i, url in enumerate(urls)]
        await asyncio.gather(*(event.wait() for event in opened))
        ready = Path(self.config["ready_file"])
        await asyncio.to_thread(ready.write_text, json.dumps({"connected": self.connected}))
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.stop.set)
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=self.config["deadline"])
        except TimeoutError:
            self.failures["deadline"] += 1
        return {
            "connected": self.connected,
            "failures": dict(self.failures),
            "closes": dict(self.closes),
            "pongs": self.pongs,
            "frames": self.frames,
            "presence": self.presence,
        }

    async def client(self, index: int, url: str, gate: asyncio.Semaphore, opened: asyncio.Event) -> None:
        try:
            async with gate:
                ws = await connect(
                    url, open_timeout=60, ping_interval=None, max_queue=None, local_addr=self.source_address(index)
                )
        except InvalidStatus as refused:
            self.failures[f"http {refused.response.status_code}"] += 1
            opened.set()
            return
        except (OSError, TimeoutError) as error:
            self.failures[type(error).__name__] += 1
            opened.set()
            return
        try:
            seen = await self.subscribe(index, ws)
        except SubscribeFailed as failed:
            self.failures[str(failed)] += 1
            opened.set()
            await ws.close()
            return
        self.connected += 1
        opened.set()
        try:
            await self.listen(index, ws, seen)
        finally:
            await ws.close()

    def source_address(self, index: int) -> tuple[str, int] | None:
        spread = self.config.get("source_addresses") or 0
        if not spread:
            return None
        return (f"127.1.{self.config['process']}.{1 + index % spread}", 0)

    async def subscribe(self, index: int, ws: ClientConnection) -> int:
        """Subscribe to the config's topics and wait for every `subscribed`; the frames recorded meanwhile."""
        topics: list[str] = self.config.get("subscribe") or []
        pending = set(topics)
        seen = 0
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                for topic in topics:
                    await ws.send(json.dumps({"type": "subscribe", "topic": topic}))
                while pending:
                    text = await ws.recv()
                    at = time.monotonic()
                    frame = json.loads(text)
                    kind = frame.get("type")
                    if kind == "subscribed":
                        pending.discard(frame.get("topic"))
                    elif kind == "error":
                        raise SubscribeFailed(f"subscribe {frame.get('code')}")
                    else:
                        seen += await self.take(index, ws, frame, at)
        except TimeoutError:
            raise SubscribeFailed("subscribe TimeoutError") from None
        except ConnectionClosed as closed:
            raise SubscribeFailed(f"subscribe closed {closed.rcvd.code if closed.rcvd else 1006}") from None
        return seen

    async def listen(self, index: int, ws: ClientConnection, seen: int = 0) -> None:
        expect = self.config.get("expect")
        stop = asyncio.ensure_future(self.stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    return
                try:
                    text = receive.result()
                except ConnectionClosed as closed:
                    code = closed.rcvd.code if closed.rcvd else 1006
                    self.closes[str(code)] += 1
                    return
                at = time.monotonic()
                seen += await self.take(index, ws, json.loads(text), at)
                if expect is not None and seen >= expect:
                    return
        finally:
            stop.cancel()

    async def take(self, index: int, ws: ClientConnection, frame: dict[str, Any], at: float) -> int:
        """Answer a heartbeat ping, log a presence frame, record a frame of the recorded types: 1 when recorded."""
        kind = frame.get("type")
        if kind == "ping":
            await ws.send(PONG)
            self.pongs += 1
        elif self.log_presence and kind in PRESENCE_FRAMES:
            self.presence.append((index, at, int(kind == "presence_diff"), frame["count"]))
        if kind in self.record:
            item = frame.get("comment") or frame
            self.frames.append((index, item["id"], at))
            return 1
        return 0


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(Crowd(config).run())
    Path(config["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
