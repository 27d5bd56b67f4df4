"""
Authenticated handshakes: open a connection (the token is in the URL) and close it, as fast as possible.

    python -m bench.clients.handshakes CONFIG.json

Config: "urls" (used in turn), "concurrency", "handshakes", "ready_file", "result".
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from bench.clients.common import load_config, ready_then_wait_for_go, write_result


async def run(config: dict[str, Any]) -> dict[str, Any]:
    urls = itertools.cycle(config["urls"])
    remaining = iter(range(config["handshakes"]))
    failures: collections.Counter[str] = collections.Counter()
    done = 0

    async def worker() -> None:
        nonlocal done
        for _ in remaining:
            try:
                ws = await connect(next(urls), ping_interval=None, open_timeout=30)
            except InvalidStatus as refused:
                failures[f"http {refused.response.status_code}"] += 1
                continue
            except (OSError, TimeoutError) as error:
                failures[type(error).__name__] += 1
                continue
            await ws.close()
            done += 1

    await ready_then_wait_for_go(config)
    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(config["concurrency"])))
    return {"handshakes": done, "failures": dict(failures), "started": started, "finished": time.monotonic()}


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(run(config)))


if __name__ == "__main__":
    main()
