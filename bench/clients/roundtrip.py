"""
Round trips: connections that each send a message and wait for its answer, again and again.

    python -m bench.clients.roundtrip CONFIG.json

Config: "url", "connections", "messages" (per connection), "kind" ("echo" or
"json"), "ready_file", "result". All connections open first; the clock starts at
SIGUSR1. The result holds the round trips done, the elapsed time, and every
round trip's latency in seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.clients.common import load_config, ready_then_wait_for_go, write_result


def exchange(kind: str, number: int) -> tuple[str, Any]:
    """The message to send and the answer it must get (for JSON, the value: servers differ in spacing)."""
    if kind == "echo":
        text = f"hello {number}"
        return text, f"Echo: {text}"
    value = {"n": number, "text": "hello"}
    return json.dumps(value), {"received": value, "status": "ok"}


async def loop(ws: ClientConnection, kind: str, messages: int, latencies: list[float]) -> int:
    wrong = 0
    for number in range(messages):
        sent, expected = exchange(kind, number)
        started = time.perf_counter()
        await ws.send(sent)
        answer = await ws.recv()
        latencies.append(time.perf_counter() - started)
        wrong += (answer if kind == "echo" else json.loads(answer)) != expected
    return wrong


async def run(config: dict[str, Any]) -> dict[str, Any]:
    sockets = [await connect(config["url"], ping_interval=None) for _ in range(config["connections"])]
    await ready_then_wait_for_go(config)
    latencies: list[float] = []
    started = time.monotonic()
    wrong = await asyncio.gather(*(loop(ws, config["kind"], config["messages"], latencies) for ws in sockets))
    finished = time.monotonic()
    for ws in sockets:
        await ws.close()
    return {
        "round_trips": len(latencies),
        "wrong_answers": sum(wrong),
        "started": started,
        "finished": finished,
        "latencies": latencies,
    }


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(run(config)))


if __name__ == "__main__":
    main()
