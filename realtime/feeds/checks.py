"""
Open feeds are checked against the database (PROTOCOL.md, "Nothing lost").

Live events reach a feed through the channel layer, and the channel layer can
lose them: the in-memory layer never hears what other processes publish
(`manage.py notify`, a worker, the shell), Redis pub/sub delivers at most once
(an outage, a reconnect), a channel can be full. A feed fills a gap as soon as a
later event reveals it (realtime/feeds/sequenced.py), but the last event lost would stay
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

import weakref
from collections.abc import Collection, Hashable
from typing import Any, Protocol

from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.hub import Hub, Members, PeriodicCheck, every, in_chunks
from realtime.types import Message


class FeedKind(Protocol):
    """One kind of feed (a user's notifications, a post's comments)."""

    def high_waters(self, keys: Collection[Hashable]) -> dict[Any, int]:
        """The committed high-water `seq` of each key that has one. One query; sync."""
        ...


class Watcher(Protocol):
    """An open feed's consumer (realtime/consumers/feed.py)."""

    def feed_position(self) -> int:
        """The last `seq` it delivered."""
        ...

    def handle_local_event(self, event: Message) -> None: ...


class _FeedCheck:
    """The check of one kind of feed, with the marks it read last round in each hub."""

    def __init__(self, kind: FeedKind) -> None:
        self.kind = kind
        self.previous: weakref.WeakKeyDictionary[Hub, dict[Any, int]] = weakref.WeakKeyDictionary()
        every(PeriodicCheck(f"check of {type(kind).__name__}", index(kind), _interval, self.run))

    async def run(self, hub: Hub, watchers: Members) -> None:
        current: dict[Any, int] = {}
        for chunk in in_chunks(list(watchers)):
            current.update(await database_sync_to_async(self.kind.high_waters)(chunk))
        for key, mark in self.previous.get(hub, {}).items():
            for watcher in list(watchers.get(key, ())):
                if watcher.feed_position() < mark:
                    watcher.handle_local_event({"type": "feed.catch_up", "upto": mark})
        self.previous[hub] = current


def _interval() -> float:
    return float(realtime_settings.FEED_CHECK_INTERVAL)


def index(kind: FeedKind) -> tuple[str, FeedKind]:
    """The hub's index of the open feeds of `kind`."""
    return ("feeds", kind)


_checks: dict[Any, _FeedCheck] = {}


def watch(hub: Hub, kind: FeedKind, key: Hashable, watcher: Watcher) -> None:
    """Check `watcher`'s feed of `key` from now on."""
    if kind not in _checks:
        _checks[kind] = _FeedCheck(kind)
    hub.join(index(kind), key, watcher)


def unwatch(hub: Hub, kind: FeedKind, key: Hashable, watcher: Watcher) -> None:
    """Stop checking; the last watcher of the process stops the checks."""
    hub.leave(index(kind), key, watcher)
