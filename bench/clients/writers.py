"""
Comment writers: connections to one post that each write comments one after the other, waiting for each ack.

    python -m bench.clients.writers CONFIG.json

Config: "urls" (one writer each), "comments" (per writer), "expected_broadcasts"
(comments every writer should see: all writers' comments), "ready_file",
"result". Every writer also watches the post: after its own writes it keeps
reading until it has seen every comment broadcast, or until nothing came for
`IDLE` seconds. The result says how many broadcasts arrived.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from bench.clients.common import load_config, ready_then_wait_for_go, write_result

IDLE = 5.0


async def write(ws: ClientConnection, writer: int, comments: int, expected: int) -> tuple[int, int, int, float]:
    """Write, then watch: acks, errors, broadcasts seen, and when the last one arrived."""
    acked = errors = 0
    seen: set[int] = set()
    last_seen = time.monotonic()

    async def take(frame: dict[str, Any]) -> None:
        nonlocal last_seen
        if frame["type"] == "comment":
            seen.add(frame["comment"]["id"])
            last_seen = time.monotonic()
        elif frame["type"] == "ping":
            await ws.send('{"type":"pong"}')

    for number in range(comments):
        client_id = f"{writer}-{number}"
        await ws.send(json.dumps({"type": "new_comment", "body": f"comment {client_id}", "client_id": client_id}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "comment_created":
                acked += 1
                break
            if frame["type"] == "error":
                errors += 1
                break
            await take(frame)
    while len(seen) < expected:
        try:
            await take(json.loads(await asyncio.wait_for(ws.recv(), timeout=IDLE)))
        except TimeoutError:
            break
    return acked, errors, len(seen), last_seen


async def run(config: dict[str, Any]) -> dict[str, Any]:
    sockets = [await connect(url, ping_interval=None, max_queue=None) for url in config["urls"]]
    await ready_then_wait_for_go(config)
    started = time.monotonic()
    writers = [write(ws, n, config["comments"], config["expected_broadcasts"]) for n, ws in enumerate(sockets)]
    results = await asyncio.gather(*writers)
    for ws in sockets:
        await ws.close()
    return {
        "acked": sum(result[0] for result in results),
        "errors": sum(result[1] for result in results),
        "broadcasts": sum(result[2] for result in results),
        "started": started,
        "last_broadcast": max(result[3] for result in results),
    }


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(run(config)))


if __name__ == "__main__":
    main()
