"""
A queue with one reader, at a fraction of `asyncio.Queue`'s memory.

Every connection has two queues that are empty nearly all the time: daphne's
queue of the client's messages, and the channel layer's queue of its channel.
An `asyncio.Queue` allocates four deques when it is made (about 3.5 KiB); this
one allocates its items only while it has some, holds its one usual waiter
without a container (a deque, about 760 B, only when several wait), and offers
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
        # None, the one waiting reader, or (when several wait) a deque of them, oldest first.
        self._getters: asyncio.Future[None] | deque[asyncio.Future[None]] | None = None

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
            self._add_getter(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if not self._remove_getter(getter) and self._queue:
                    self._wake_one()  # woken, then cancelled: the item goes to the next reader
                raise
        return self.get_nowait()

    def _add_getter(self, getter: asyncio.Future[None]) -> None:
        if self._getters is None:
            self._getters = getter
        elif isinstance(self._getters, deque):
            self._getters.append(getter)
        else:
            self._getters = deque((self._getters, getter))

    def _remove_getter(self, getter: asyncio.Future[None]) -> bool:
        """Forget a reader that still waits; False when it was already woken."""
        if self._getters is getter:
            self._getters = None
            return True
        if isinstance(self._getters, deque) and getter in self._getters:
            self._getters.remove(getter)
            if not self._getters:
                self._getters = None
            return True
        return False

    def _next_getter(self) -> asyncio.Future[None] | None:
        getters = self._getters
        if getters is None:
            return None
        if not isinstance(getters, deque):
            self._getters = None
            return getters
        getter = getters.popleft()
        if not getters:
            self._getters = None
        return getter

    def _wake_one(self) -> None:
        while (getter := self._next_getter()) is not None:
            if not getter.done():
                getter.set_result(None)
                return
