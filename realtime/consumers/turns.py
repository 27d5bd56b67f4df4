"""
One handler at a time, without a lock per message.

A connection's messages come from several sources (the client, the channel
layer, local timers); `Turns` lets their handlers run one after the other, in
the order they asked. The common case, nobody else running, costs a flag;
only a message that finds another handler running waits, on a future of its
own. An `asyncio.Lock` would do the same at several times the cost per message.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Turns:
    __slots__ = ("_busy", "_waiting")

    def __init__(self) -> None:
        self._busy = False
        # Made when a handler first has to wait: a deque costs most of a kilobyte, and most connections never wait.
        self._waiting: deque[asyncio.Future[None]] | None = None

    def try_take(self) -> bool:
        """Take the turn if nobody holds it (no coroutine: the common case of every message)."""
        if self._busy:
            return False
        self._busy = True
        return True

    async def wait(self) -> None:
        """Wait in line for the turn; the caller holds it until `give_back()`."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiting is None:
            self._waiting = deque()
        self._waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if not turn.cancelled():  # the turn was handed over just before the cancel: hand it on
                self.give_back()
            raise

    def give_back(self) -> None:
        """The running handler is done: hand the turn to the next one waiting, or free it."""
        while self._waiting:  # None or empty: nobody waits
            turn = self._waiting.popleft()
            if not turn.done():  # not a waiter cancelled meanwhile
                turn.set_result(None)
                return
        self._busy = False
