"""
Open feeds are checked against the database (PROTOCOL.md, "Nothing lost").

Live events reach a feed through the channel layer, and the channel layer can
lose them: the in-memory layer never hears what other processes publish
(`manage.py notify`, a worker, the shell), Redis pub/sub delivers at most once
(an outage, a reconnect), a channel can be full. A feed fills a gap as soon as a
later event reveals it (realtime/feed.py), but the last event lost would stay
missing until the next one.

So, while a process has open feeds, every `FEED_CHECK_INTERVAL` seconds it reads
the committed high-water `seq` of every key it has open, in one query per kind
of feed (and per thousand keys). A feed still short of the mark read one check
earlier gets a `{"type": "feed.catch_up", "upto": seq}` event and reads what it
misses from the database. A feed short only of the newest mark is not: its live
events are most likely on their way (under load, every feed lags its database by
a few events), and reading the database for them would only slow the process.
Without Redis this is how pushes from other processes arrive (within two
intervals); with Redis it bounds how long a lost event stays missing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Hashable
from itertools import islice
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)

KEYS_PER_QUERY = 1000


class FeedKind(Protocol):
    """One kind of feed (a user's notifications, a post's comments)."""

    def high_waters(self, keys: Collection[Hashable]) -> dict[Any, int]:
        """The committed high-water `seq` of each key that has one. One query; sync."""
        ...


class Watcher(Protocol):
    """An open feed's consumer (realtime/feed_consumer.py)."""

    def feed_position(self) -> int:
        """The last `seq` it delivered."""
        ...

    def handle_local_event(self, event: dict[str, Any]) -> None: ...


class _Reconciler:
    def __init__(self) -> None:
        self.watchers: dict[FeedKind, dict[Hashable, set[Watcher]]] = {}
        self.previous_marks: dict[FeedKind, dict[Any, int]] = {}
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(settings.FEED_CHECK_INTERVAL)
            for kind, by_key in list(self.watchers.items()):
                previous = self.previous_marks.get(kind, {})
                current: dict[Any, int] = {}
                keys = iter(list(by_key))
                while chunk := list(islice(keys, KEYS_PER_QUERY)):
                    try:
                        current.update(await database_sync_to_async(kind.high_waters)(chunk))
                    except Exception:  # the database is away: try again next round
                        logger.warning("Checking open feeds of %s failed", type(kind).__name__, exc_info=True)
                for key, mark in previous.items():
                    for watcher in list(by_key.get(key, ())):
                        if watcher.feed_position() < mark:
                            watcher.handle_local_event({"type": "feed.catch_up", "upto": mark})
                self.previous_marks[kind] = current


_reconcilers: dict[asyncio.AbstractEventLoop, _Reconciler] = {}


def watch(kind: FeedKind, key: Hashable, watcher: Watcher) -> None:
    """Check `watcher`'s feed of `key` from now on."""
    reconciler = _reconcilers.setdefault(asyncio.get_running_loop(), _Reconciler())
    reconciler.watchers.setdefault(kind, {}).setdefault(key, set()).add(watcher)
    if reconciler.task is None:
        reconciler.task = asyncio.ensure_future(reconciler.run())


def unwatch(kind: FeedKind, key: Hashable, watcher: Watcher) -> None:
    """Stop checking; the last watcher of the process stops the checks."""
    loop = asyncio.get_running_loop()
    reconciler = _reconcilers.get(loop)
    if reconciler is None:
        return
    by_key = reconciler.watchers.get(kind, {})
    by_key.get(key, set()).discard(watcher)
    if not by_key.get(key):
        by_key.pop(key, None)
    if not by_key:
        reconciler.watchers.pop(kind, None)
        reconciler.previous_marks.pop(kind, None)
    if not reconciler.watchers:
        if reconciler.task is not None:
            reconciler.task.cancel()
        del _reconcilers[loop]
