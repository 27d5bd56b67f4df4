"""
A queue with one reader, at a fraction of `asyncio.Queue`'s memory.

Every connection has two queues that are empty nearly all the time: daphne's
queue of the client's messages, and the channel layer's queue of its channel.
An `asyncio.Queue` allocates four deques when it is made (about 3.5 KiB); this
one allocates its items and its waiters only while it has some, and offers
what daphne, channels and channels-redis use of a queue: `put_nowait` (with
`QueueFull` past `maxsize`), `get`, `get_nowait`, `empty`, `qsize`, and the
items as `_queue` (channels' in-memory layer reads the head's expiry there).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class LeanQueue:
    __slots__ = ("_getters", "_queue", "maxsize")

    def __init__(self, maxsize: int = 0) -> None:
        self.maxsize = maxsize
        self._queue: deque[Any] | None = None
        self._getters: deque[asyncio.Future[None]] | None = None

    def qsize(self) -> int:
        return 0 if self._queue is None else len(self._queue)

    def empty(self) -> bool:
        return not self._queue

    def full(self) -> bool:
        return 0 < self.maxsize <= self.qsize()

    def put_nowait(self, item: Any) -> None:
        if self.full():
            raise asyncio.QueueFull
        if self._queue is None:
            self._queue = deque()
        self._queue.append(item)
        self._wake_one()

    def get_nowait(self) -> Any:
        if not self._queue:
            raise asyncio.QueueEmpty
        item = self._queue.popleft()
        if not self._queue:
            self._queue = None
        return item

    async def get(self) -> Any:
        while not self._queue:
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = deque()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if self._getters is not None and getter in self._getters:
                    self._getters.remove(getter)
                elif self._queue:  # woken, then cancelled: the item goes to the next reader
                    self._wake_one()
                raise
            finally:
                if not self._getters:
                    self._getters = None
        return self.get_nowait()

    def _wake_one(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return
