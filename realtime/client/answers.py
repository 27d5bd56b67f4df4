"""
Answers awaited by `ref` (PROTOCOL.md: any message to `/ws/` may carry a
`ref`, echoed in its answer): each `send` gets a unique ref, and the frame
that echoes it is that send's, not the topic's `async for`'s.
"""

from __future__ import annotations

import asyncio
import itertools

from realtime.client.protocol import Frame

REF_PREFIX = "py"


class Answers:
    def __init__(self) -> None:
        self._refs = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Frame]] = {}

    def new_ref(self) -> str:
        """A ref no other message of this client carries: py1, py2, ..."""
        return f"{REF_PREFIX}{next(self._refs)}"

    def expect(self, ref: str) -> asyncio.Future[Frame]:
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = future
        return future

    def drop(self, ref: str) -> None:
        self._waiting.pop(ref, None)

    def resolve(self, frame: Frame) -> bool:
        """Give `frame` to the one awaiting its `ref`; False when nobody is."""
        ref = frame.get("ref")
        future = self._waiting.pop(ref, None) if isinstance(ref, str) else None
        if future is None:
            return False
        if not future.done():
            future.set_result(frame)
        return True

    def fail_all(self, error: Exception) -> None:
        """No answer awaited now can come (the connection dropped, the client ended): each raises `error`."""
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)
