"""
Publishing channel-layer events once a transaction commits.

Writers (notify_user, comment_create, moderation) are sync code that runs in
the one database thread of a server process, or in a management command.
`publish_on_commit` queues their events for after the commit. Inside a server,
it hands them to the event loop and returns: the database thread never waits on
Redis (during a Redis outage redis-py would hold it for seconds at each write),
and a publish that fails is logged; realtime/feeds/checks.py delivers those events
from the database. A commit after the server's loop stopped (SIGTERM) publishes
nothing: waiting for that loop would keep the process from ever exiting, and the
entries reach clients with `since`. Outside a server (a command, the shell) it
publishes before returning.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.layers.health import report_lost
from realtime.metrics.delivery import stamped

logger = logging.getLogger(__name__)

Publication = tuple[str, dict[str, Any]]  # (group, event)


def publish_on_commit(publications: Iterable[Publication]) -> None:
    """Publish `publications` in order once the current transaction commits."""
    batch = list(publications)
    if batch:
        # A plain function, not functools.partial: Django names the callback by its
        # __qualname__ when a robust callback fails, and a partial has none.
        transaction.on_commit(lambda: publish(batch), robust=True)


def publish(batch: list[Publication]) -> None:
    committed_at = time.time()  # for realtime_delivery_seconds (realtime/metrics/delivery.py)
    batch = [(group, stamped(event, committed_at)) for group, event in batch]
    if not _in_a_server():
        async_to_sync(_send_all)(batch)
        return
    loop = _server_event_loop()
    if loop is None:
        # The server is stopping and its loop no longer runs: async_to_sync would wait for it forever
        # (and the process with it). The entries are committed; clients get them with `since`.
        logger.info("Not published: the server is stopping (%s events)", len(batch))
        return
    future = asyncio.run_coroutine_threadsafe(_send_all(batch), loop)
    future.add_done_callback(_log_failure)


async def _send_all(batch: list[Publication]) -> None:
    layer = get_channel_layer()
    for group, event in batch:
        await layer.group_send(group, event)


def _in_a_server() -> bool:
    """True in a thread that sync_to_async (a server) runs, however its event loop is doing."""
    return bool(getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid())


def _server_event_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop this thread works for, when sync_to_async (a server) runs it and it still runs."""
    if not _in_a_server():
        return None
    loop: asyncio.AbstractEventLoop | None = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() else None


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        report_lost("publishing", error)
