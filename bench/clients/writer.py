"""
One client that writes comments at a steady rate, for benchmarks.

    python -m bench.clients.writer CONFIG.json

Config: "url", "count", "interval" (seconds between comments), "result". The
result lists [client_id, comment_id, sent_at, acked_at] (monotonic times).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect


async def write(config: dict[str, Any]) -> dict[str, Any]:
    sent: dict[str, float] = {}
    acks: list[tuple[str, int, float, float]] = []
    errors: list[dict[str, Any]] = []
    async with connect(config["url"], ping_interval=None, max_queue=None) as ws:

        async def read() -> None:
            while len(acks) + len(errors) < config["count"]:
                frame = json.loads(await ws.recv())
                if frame["type"] == "comment_created":
                    client_id = frame["client_id"]
                    acks.append((client_id, frame["comment_id"], sent[client_id], time.monotonic()))
                elif frame["type"] == "error":
                    errors.append(frame)
                elif frame["type"] == "ping":
                    await ws.send('{"type":"pong"}')

        reader = asyncio.create_task(read())
        for number in range(config["count"]):
            client_id = f"bench-{number}"
            sent[client_id] = time.monotonic()
            await ws.send(json.dumps({"type": "new_comment", "body": f"comment {number}", "client_id": client_id}))
            await asyncio.sleep(config["interval"])
        await asyncio.wait_for(reader, timeout=60)
    return {"acks": acks, "errors": errors}


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(write(config))
    Path(config["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
