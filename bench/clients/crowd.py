"""
A crowd of WebSocket clients in one process, for benchmarks.

    python -m bench.clients.crowd CONFIG.json

Config (JSON): "urls" (one connection each), "concurrency" (handshakes in flight),
"ready_file" (written once every connection is open or has failed), "deadline"
(seconds, hard stop), "record_types" (frame types to record), "expect" (a
connection ends after that many recorded frames), "result" (where the JSON result
goes). SIGUSR1 ends the run.

Every connection answers the server's heartbeat pings. The result lists each
recorded frame as [connection, id, monotonic time] (CLOCK_MONOTONIC is shared by
the processes of one machine), handshake failures, and closes by code.
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


class Crowd:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.frames: list[tuple[int, int, float]] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self.closes: collections.Counter[str] = collections.Counter()
        self.connected = 0
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
            "frames": self.frames,
        }

    async def client(self, index: int, url: str, gate: asyncio.Semaphore, opened: asyncio.Event) -> None:
        try:
            async with gate:
                ws = await connect(url, open_timeout=60, ping_interval=None, max_queue=None)
        except InvalidStatus as refused:
            self.failures[f"http {refused.response.status_code}"] += 1
            opened.set()
            return
        except (OSError, TimeoutError) as error:
            self.failures[type(error).__name__] += 1
            opened.set()
            return
        self.connected += 1
        opened.set()
        try:
            await self.listen(index, ws)
        finally:
            await ws.close()

    async def listen(self, index: int, ws: ClientConnection) -> None:
        record = set(self.config.get("record_types", []))
        expect = self.config.get("expect")
        seen = 0
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
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "ping":
                    await ws.send(PONG)
                elif kind in record:
                    item = frame.get("comment") or frame
                    self.frames.append((index, item["id"], at))
                    seen += 1
                    if expect is not None and seen >= expect:
                        return
        finally:
            stop.cancel()


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(Crowd(config).run())
    Path(config["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
