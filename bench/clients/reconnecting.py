"""
A crowd of WebSocket clients that reconnect as the JavaScript client does, for the
reconnect storm (bench/restart.py).

    python -m bench.clients.reconnecting CONFIG.json

Config (JSON): "urls" (one client each), "concurrency" (first handshakes in
flight), "source_addresses" and "process" (clients come from that many loopback
addresses, 127.1.<process>.N), "ready_file" (written once every client has been
connected once), "result". SIGUSR1 ends the run.

After any close, or a refused or failed handshake, a client waits as
realtime/static/realtime/client.js does (0.5 s doubling up to 30 s, each wait
between half and all of its step; the step starts afresh once a connection stayed open 10 s) and
connects again. Every client answers the heartbeat. The result lists, per
client, the monotonic times at which it was open and the closes it saw
(CLOCK_MONOTONIC is shared by the processes of one machine), and the handshake
failures by kind.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

PONG = '{"type":"pong"}'
FIRST_STEP = 0.5
MAX_STEP = 30.0
STABLE = 10.0  # seconds open after which the backoff starts afresh


class Client:
    def __init__(self, index: int, url: str, local_addr: tuple[str, int] | None) -> None:
        self.index = index
        self.url = url
        self.local_addr = local_addr
        self.opened: list[float] = []
        self.closes: list[tuple[float, int]] = []

    async def run(self, crowd: Crowd, first: asyncio.Semaphore) -> None:
        step = FIRST_STEP
        gate: asyncio.Semaphore | None = first  # the first handshakes only: the storm is not held back
        while not crowd.stop.is_set():
            try:
                if gate is not None:
                    async with gate:
                        ws = await self._connect()
                else:
                    ws = await self._connect()
            except InvalidStatus as refused:
                crowd.failures[f"http {refused.response.status_code}"] += 1
            except (OSError, TimeoutError) as error:
                crowd.failures[type(error).__name__] += 1
            else:
                if gate is not None:
                    gate = None
                    crowd.connected_once()
                opened_at = time.monotonic()
                self.opened.append(opened_at)
                await self._listen(ws, crowd)
                if crowd.stop.is_set():
                    return
                if time.monotonic() - opened_at >= STABLE:
                    step = FIRST_STEP
            await asyncio.sleep(random.uniform(step / 2, step))
            step = min(MAX_STEP, step * 2)

    async def _connect(self) -> ClientConnection:
        return await connect(self.url, open_timeout=30, ping_interval=None, max_queue=None, local_addr=self.local_addr)

    async def _listen(self, ws: ClientConnection, crowd: Crowd) -> None:
        stop = asyncio.ensure_future(crowd.stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    await ws.close()
                    return
                try:
                    frame = json.loads(receive.result())
                except ConnectionClosed as closed:
                    self.closes.append((time.monotonic(), closed.rcvd.code if closed.rcvd else 1006))
                    return
                if frame.get("type") == "ping":
                    await ws.send(PONG)
        finally:
            stop.cancel()


class Crowd:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.stop = asyncio.Event()
        self.failures: collections.Counter[str] = collections.Counter()
        self._waiting = len(config["urls"])
        self._all_connected = asyncio.Event()

    def connected_once(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self._all_connected.set()

    def local_addr(self, index: int) -> tuple[str, int] | None:
        spread = self.config.get("source_addresses") or 0
        return (f"127.1.{self.config['process']}.{1 + index % spread}", 0) if spread else None

    async def run(self) -> dict[str, Any]:
        first = asyncio.Semaphore(self.config.get("concurrency", 50))
        clients = [Client(i, url, self.local_addr(i)) for i, url in enumerate(self.config["urls"])]
        tasks = [asyncio.create_task(client.run(self, first)) for client in clients]
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.stop.set)
        await self._all_connected.wait()
        await asyncio.to_thread(Path(self.config["ready_file"]).write_text, "ready")
        await self.stop.wait()
        await asyncio.wait(tasks, timeout=30)
        return {
            "clients": [{"opened": c.opened, "closes": c.closes} for c in clients],
            "failures": dict(self.failures),
        }


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(Crowd(config).run())
    Path(config["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
