"""
Checks a server process runs over its open connections, now and then.

A `PeriodicCheck` keeps, per event loop, which open connections care about which
key (a user, a post), and while any does, runs `check(watchers)` every
`interval()` seconds. The feed checks (reconcile.py) and the revocation check
(revocation.py) are two of them: each reads the database once per round for
all the keys of the process, however many connections are open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator
from itertools import islice
from typing import Any

logger = logging.getLogger(__name__)

KEYS_PER_QUERY = 1000

Watchers = dict[Hashable, set[Any]]


class PeriodicCheck:
    def __init__(self, name: str, interval: Callable[[], float], check: Callable[[Watchers], Awaitable[None]]) -> None:
        self.name = name
        self.interval = interval
        self.check = check
        self._loops: dict[asyncio.AbstractEventLoop, tuple[Watchers, asyncio.Task[None]]] = {}

    def watch(self, key: Hashable, watcher: Any) -> None:
        """`watcher` cares about `key` from now on."""
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            watchers: Watchers = {}
            self._loops[loop] = (watchers, asyncio.ensure_future(self._run(watchers)))
        self._loops[loop][0].setdefault(key, set()).add(watcher)

    def unwatch(self, key: Hashable, watcher: Any) -> None:
        """`watcher` is done; the last one of the event loop stops the check."""
        loop = asyncio.get_running_loop()
        if loop not in self._loops:
            return
        watchers, task = self._loops[loop]
        watchers.get(key, set()).discard(watcher)
        if not watchers.get(key):
            watchers.pop(key, None)
        if not watchers:
            task.cancel()
            del self._loops[loop]

    def watched(self) -> Watchers:
        """This event loop's keys and their watchers (for tests)."""
        entry = self._loops.get(asyncio.get_running_loop())
        return entry[0] if entry else {}

    async def _run(self, watchers: Watchers) -> None:
        while True:
            await asyncio.sleep(self.interval())
            try:
                await self.check(watchers)
            except Exception:  # the database is away, say: try again next round
                logger.warning("The %s failed; trying again in %s s", self.name, self.interval(), exc_info=True)


def in_chunks(keys: list[Hashable]) -> Iterator[list[Hashable]]:
    """`keys`, KEYS_PER_QUERY at a time: one query each."""
    remaining = iter(keys)
    while chunk := list(islice(remaining, KEYS_PER_QUERY)):
        yield chunk
