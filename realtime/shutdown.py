"""
When daphne stops (SIGTERM, Ctrl-C), open connections are told: close 4012.

daphne's own shutdown step cancels every application, so that it can clean up;
in daphne 4.2.3 it fails with `KeyError: 'application_instance'` as soon as one
connection has no application yet (or no more), nothing is cancelled, and every
client sees its connection drop (1006), with no close frame. This module adds a
step of its own, registered before daphne's: every open connection of the
process is closed with 4012 (the server is restarting: reconnect, with `since`),
and daphne waits `CLOSE_GRACE` seconds for the frames to go out before it drops
the sockets. Under uvicorn, which closes with 1012 itself, it does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import weakref
from typing import TYPE_CHECKING, Any

from realtime.close_codes import CLOSE_SERVER_RESTARTING

if TYPE_CHECKING:
    from realtime.websocket import WebSocketConsumer

CLOSE_GRACE = 0.3

_open: weakref.WeakSet[WebSocketConsumer] = weakref.WeakSet()


def opened(consumer: WebSocketConsumer) -> None:
    _open.add(consumer)


def closed(consumer: WebSocketConsumer) -> None:
    _open.discard(consumer)


def install() -> bool:
    """Under daphne, close open connections with 4012 when the server stops. False elsewhere."""
    if "daphne.server" not in sys.modules:  # daphne imports it, and installs its reactor, first
        return False
    from twisted.internet import reactor

    reactor.addSystemEventTrigger("before", "shutdown", _close_open_connections)  # type: ignore[attr-defined]
    return True


def _close_open_connections() -> Any:
    consumers = list(_open)
    if not consumers:
        return None
    from twisted.internet import defer

    return defer.Deferred.fromFuture(asyncio.ensure_future(_close_all(consumers)))


async def _close_all(consumers: list[WebSocketConsumer]) -> None:
    for consumer in consumers:
        with contextlib.suppress(Exception):  # closed meanwhile, say
            await consumer.close(CLOSE_SERVER_RESTARTING)
    await asyncio.sleep(CLOSE_GRACE)
