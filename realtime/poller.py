"""
Pushes from other processes when there is no Redis.

The in-memory channel layer lives inside one process: a notification stored by
`manage.py notify`, the shell or a worker publishes to that process's layer,
and no open connection of the server ever hears of it. So, with the in-memory
layer and while this process has open feeds (realtime/feed.py), a poller reads
the database every `PUSH_POLL_INTERVAL` seconds for entries newer than the last
it saw and publishes them again, here. Feeds drop an entry they already have
(by `seq`), so an entry published twice still arrives once.

With Redis (`REDIS_URL`) every process publishes to every other one and the
poller does not run.

Apps register what to poll with `register_poll_source` (in `AppConfig.ready`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

BATCH_SIZE = 500

Publication = tuple[str, dict[str, Any]]  # (group, event)


class PollSource(Protocol):
    def latest_id(self) -> int:
        """The largest id stored now (0 when there is none)."""
        ...

    def publications_after(self, after_id: int, limit: int) -> tuple[int, list[Publication]]:
        """Events for up to `limit` entries with a larger id, and the largest id among them."""
        ...


_sources: list[PollSource] = []


def register_poll_source(source: PollSource) -> None:
    _sources.append(source)


class _Poller:
    def __init__(self, cursors: list[int]) -> None:
        self.cursors = cursors
        self.users = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        layer = get_channel_layer()
        while True:
            await asyncio.sleep(settings.PUSH_POLL_INTERVAL)
            for index, source in enumerate(_sources):
                try:
                    self.cursors[index] = await _publish_newer(layer, source, self.cursors[index])
                except Exception:  # a database hiccup must not end pushes for the process
                    logger.exception("Polling %s for pushes from other processes failed", type(source).__name__)


async def _publish_newer(layer: Any, source: PollSource, cursor: int) -> int:
    while True:
        newest, publications = await database_sync_to_async(source.publications_after)(cursor, BATCH_SIZE)
        for group, event in publications:
            await layer.group_send(group, event)
        cursor = max(cursor, newest)
        if len(publications) < BATCH_SIZE:
            return cursor


_pollers: dict[asyncio.AbstractEventLoop, _Poller] = {}


async def acquire() -> bool:
    """
    A feed is opening in this process: poll while any is open (in-memory layer
    only). Call it before the feed reads the database: the poller's starting
    point must not be later than what the feed reads. True when the feed must
    `release()` when it closes.
    """
    if not isinstance(get_channel_layer(), InMemoryChannelLayer) or not _sources:
        return False
    loop = asyncio.get_running_loop()
    poller = _pollers.get(loop)
    if poller is None:
        cursors = [await database_sync_to_async(source.latest_id)() for source in _sources]
        # Another feed may have started the poller while this one read.
        poller = _pollers.setdefault(loop, _Poller(cursors))
    poller.users += 1
    if poller.task is None:
        poller.task = asyncio.ensure_future(poller.run())
    return True


def release() -> None:
    """A feed that `acquire()`d closed; the last one stops the poller."""
    loop = asyncio.get_running_loop()
    poller = _pollers.get(loop)
    if poller is None:
        return
    poller.users -= 1
    if poller.users <= 0:
        if poller.task is not None:
            poller.task.cancel()
        del _pollers[loop]
