"""What every benchmark client process shares: its config, its start signal, its result."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any


def load_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(Path(sys.argv[1]).read_text())
    return config


async def ready_then_wait_for_go(config: dict[str, Any]) -> None:
    """Say the client is ready (its connections are open), then wait for SIGUSR1 from the orchestrator."""
    go = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, go.set)
    await asyncio.to_thread(Path(config["ready_file"]).write_text, "ready")
    await go.wait()


def write_result(config: dict[str, Any], result: dict[str, Any]) -> None:
    Path(config["result"]).write_text(json.dumps(result))
