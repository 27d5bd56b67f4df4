"""
A crowd (bench/clients/crowd.py) that says how far a push has got while its connections stay open.

    python -m bench.clients.notified_crowd CONFIG.json

The crowd's config, plus "progress_file": every PROGRESS_SECONDS, from the start, the process writes there
(atomically) {"connected", "received", "closed", "pongs", "at"}: the connections that opened, how many of them
have recorded at least one frame of the recorded types, how many were closed by the server, the pings answered,
and when (CLOCK_MONOTONIC). The orchestrator (bench/c100k.py) sums the processes' files to know when a push has
reached every open connection, without the close of each receiving connection (the crowd's "expect") loading
the servers while the push is still going on; it then ends the crowd with SIGUSR1, as any other.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection

from bench.clients.crowd import Crowd

PROGRESS_SECONDS = 0.5


class NotifiedCrowd(Crowd):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.receivers: set[int] = set()

    async def run(self) -> dict[str, Any]:
        reporter = asyncio.ensure_future(self.report_progress())
        try:
            return await super().run()
        finally:
            reporter.cancel()

    async def take(self, index: int, ws: ClientConnection, frame: dict[str, Any], at: float) -> int:
        recorded = await super().take(index, ws, frame, at)
        if recorded:
            self.receivers.add(index)
        return recorded

    async def report_progress(self) -> None:
        path = Path(self.config["progress_file"])
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            progress = {
                "connected": self.connected,
                "received": len(self.receivers),
                "closed": sum(self.closes.values()),
                "pongs": self.pongs,
                "at": time.monotonic(),
            }
            await asyncio.to_thread(_write, path, json.dumps(progress))


def _write(path: Path, text: str) -> None:
    """`text` to `path` at once: a reader sees the old file or the new one."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(NotifiedCrowd(config).run())
    Path(config["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
