"""
A crowd of Server-Sent Events streams in one process, for benchmarks: bench/clients/crowd.py's counterpart.

    python -m bench.clients.sse_crowd CONFIG.json

Config (JSON): "host"; "streams": [port, path with its query, bearer token] for each stream (one connection
each, `Authorization: Bearer <token>`); "topics" (how many topics the path lists: a stream counts as connected
once each is answered with `subscribed`, and as a failure when one is refused with an error frame or not
answered within SUBSCRIBE_TIMEOUT); "concurrency" (streams opening at once); "ready_file" (written once
every stream is open or has failed); "deadline" (seconds, hard stop); "record_types" (frame types to record);
"expect" (a stream ends after that many recorded frames); "result". SIGUSR1 ends the run.

The result, as the WebSocket crowd's: each recorded frame as [stream, id, monotonic time], open failures,
the streams ended by the server (by the `close` event's code, or "eof" for a response that ended without one),
and the heartbeat comment lines received ("pongs": on a stream the heartbeat needs no answer).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import signal
import time
from pathlib import Path
from typing import Any

from bench.clients.common import load_config, write_result
from bench.clients.ssehttp import Refused, Stream, open_stream

SUBSCRIBE_TIMEOUT = 60.0


class SubscribeFailed(Exception):
    """A topic refused (an error frame), not answered, or the stream ended first."""


class SseCrowd:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.record = set(config.get("record_types", []))
        self.frames: list[tuple[int, int, float]] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self.closes: collections.Counter[str] = collections.Counter()
        self.connected = 0
        self.comments = 0
        self.stop = asyncio.Event()

    async def run(self) -> dict[str, Any]:
        streams: list[list[Any]] = self.config["streams"]
        gate = asyncio.Semaphore(self.config.get("concurrency", 50))
        opened = [asyncio.Event() for _ in streams]
        tasks = [asyncio.create_task(self.client(n, entry, gate, opened[n])) for n, entry in enumerate(streams)]
        for task, event in zip(tasks, opened, strict=True):
            task.add_done_callback(functools.partial(self.settled, event))
        await asyncio.gather(*(event.wait() for event in opened))
        ready = Path(self.config["ready_file"])
        await asyncio.to_thread(ready.write_text, json.dumps({"connected": self.connected}))
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.stop.set)
        try:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=self.config["deadline"])
        except TimeoutError:
            self.failures["deadline"] += 1
        return {
            "connected": self.connected,
            "failures": dict(self.failures),
            "closes": dict(self.closes),
            "pongs": self.comments,
            "frames": self.frames,
        }

    def settled(self, opened: asyncio.Event, task: asyncio.Task[None]) -> None:
        opened.set()
        if not task.cancelled() and task.exception() is not None:
            self.failures[f"crashed {type(task.exception()).__name__}"] += 1

    async def client(self, index: int, entry: list[Any], gate: asyncio.Semaphore, opened: asyncio.Event) -> None:
        port, path, token = entry
        try:
            async with gate:
                stream = await open_stream(self.config["host"], port, path, {"Authorization": f"Bearer {token}"})
        except Refused as refused:
            self.failures[f"http {refused.status}"] += 1
            opened.set()
            return
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
            self.failures[type(error).__name__] += 1
            opened.set()
            return
        try:
            seen = await self.subscribed(index, stream)
        except SubscribeFailed as failed:
            self.failures[str(failed)] += 1
            opened.set()
            stream.close()
            return
        self.connected += 1
        opened.set()
        try:
            await self.listen(index, stream, seen)
        finally:
            self.comments += stream.comments
            stream.close()

    async def subscribed(self, index: int, stream: Stream) -> int:
        """Wait for the `subscribed` of every topic of the path; the frames recorded meanwhile."""
        pending, seen = int(self.config.get("topics", 0)), 0
        try:
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                while pending:
                    got = await stream.next_event()
                    at = time.monotonic()
                    if got is None:
                        raise SubscribeFailed("subscribe eof")
                    frame = got.frame()
                    kind = frame.get("type")
                    if kind == "subscribed":
                        pending -= 1
                    elif kind in ("error", "close"):
                        raise SubscribeFailed(f"subscribe {frame.get('code')}")
                    else:
                        seen += self.take(index, frame, at)
        except TimeoutError:
            raise SubscribeFailed("subscribe TimeoutError") from None
        return seen

    async def listen(self, index: int, stream: Stream, seen: int) -> None:
        expect = self.config.get("expect")
        stop = asyncio.ensure_future(self.stop.wait())
        try:
            while True:
                receive = asyncio.ensure_future(stream.next_event())
                done, _ = await asyncio.wait({receive, stop}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    return
                got = receive.result()
                at = time.monotonic()
                if got is None:
                    self.closes["eof"] += 1
                    return
                frame = got.frame()
                if frame.get("type") == "close":
                    self.closes[str(frame.get("code"))] += 1
                    return
                seen += self.take(index, frame, at)
                if expect is not None and seen >= expect:
                    return
        finally:
            stop.cancel()

    def take(self, index: int, frame: dict[str, Any], at: float) -> int:
        if frame.get("type") in self.record:
            item = frame.get("comment") or frame
            self.frames.append((index, item["id"], at))
            return 1
        return 0


def main() -> None:
    config = load_config()
    write_result(config, asyncio.run(SseCrowd(config).run()))


if __name__ == "__main__":
    main()
