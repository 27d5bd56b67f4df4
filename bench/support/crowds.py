"""
Crowds of WebSocket clients (bench/clients/crowd.py) spread over several
processes: started together, waited for until every connection is open or has
failed, stopped, and their results read back.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.support import environment as env

HANDSHAKES_IN_FLIGHT = 50


@dataclass
class Crowds:
    work: Path
    name: str
    shares: list[list[str]]  # the URLs of each process, in its connection order
    processes: list[subprocess.Popen[bytes]]

    def stop_when_done(self, grace: float) -> None:
        """Give the crowds `grace` seconds to finish by themselves, then stop them (what they missed is lost)."""
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(p.poll() is None for p in self.processes):
            time.sleep(0.2)
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGUSR1)
        for process in self.processes:
            process.wait(timeout=120)

    def results(self) -> list[dict[str, Any]]:
        return [json.loads(self._result(n).read_text()) for n in range(len(self.processes))]

    def _result(self, n: int) -> Path:
        return self.work / f"{self.name}-{n}-result.json"


def start(
    work: Path,
    urls: list[str],
    *,
    name: str,
    processes: int,
    record_types: list[str],
    deadline: float,
    expect: int | None = None,
    ready_timeout: float = 600,
    subscribe: list[str] | None = None,
    source_addresses: int = 0,
    log_presence: bool = False,
    concurrency: int = HANDSHAKES_IN_FLIGHT,
) -> Crowds:
    """
    One connection per URL, the URLs dealt round-robin over `processes` client processes. With `subscribe`
    (topics of `/ws/`), each connection subscribes to them and is open once every one is `subscribed`. With
    `source_addresses`, each process's connections come from that many loopback addresses (bench/clients/crowd.py).
    With `log_presence`, each result's "presence" lists the presence frames: [connection, time, is diff, count].
    `concurrency`: handshakes in flight per process.
    """
    shares = [urls[n::processes] for n in range(processes)]
    crowds = Crowds(work, name, shares, [])
    for n, share in enumerate(shares):
        config = {
            "urls": share,
            "concurrency": concurrency,
            "ready_file": str(work / f"{name}-{n}.ready"),
            "deadline": deadline,
            "record_types": record_types,
            "expect": expect,
            "subscribe": subscribe or [],
            "source_addresses": source_addresses,
            "log_presence": log_presence,
            "process": n,
            "result": str(crowds._result(n)),
        }
        crowds.processes.append(env.spawn_client("bench.clients.crowd", config, work, f"{name}-{n}"))
    ready = [work / f"{name}-{n}.ready" for n in range(processes)]
    env.wait_for_files(ready, timeout=ready_timeout, processes=crowds.processes)
    return crowds


def merge_counts(counters: Any) -> dict[str, int]:
    """Counters (dicts of name -> count) summed."""
    merged: dict[str, int] = {}
    for counter in counters:
        for key, value in counter.items():
            merged[key] = merged.get(key, 0) + value
    return merged
