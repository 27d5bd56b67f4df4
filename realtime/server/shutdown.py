"""
When daphne stops (SIGTERM, Ctrl-C), open connections are told: close 4012.

daphne's own shutdown step cancels every application, so that it can clean up;
in daphne 4.2.3 it fails with `KeyError: 'application_instance'` as soon as one
connection has no application yet (or no more), nothing is cancelled, and every
client sees its connection drop (1006), with no close frame. This module adds a
step of its own, registered before daphne's: every open connection of the
process is closed with 4012, in its turn (the server is restarting: reconnect, with `since`),
and daphne waits `CLOSE_GRACE` seconds for the frames to go out before it drops
the sockets. Under uvicorn, which closes with 1012 itself, it does nothing.
The open connections are the hubs' (realtime/hub.py). From the first moment of
the stop, readiness answers 503 (realtime/lifecycle.py).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from realtime import lifecycle
from realtime.hub import hubs
from realtime.server.patching import installed_reactor

CLOSE_GRACE = 0.3
# The local event each open connection gets (WebSocketConsumer.server_restarting closes with 4012).
RESTARTING = {"type": "server.restarting"}
_installed = False


def install() -> bool:
    """Under daphne, close open connections with 4012 when the server stops. False elsewhere."""
    global _installed
    if "daphne.server" not in sys.modules:  # daphne imports it, and installs its reactor, first
        return False
    if not _installed:
        installed_reactor().addSystemEventTrigger("before", "shutdown", _close_open_connections)
        _installed = True
    return True


def _close_open_connections() -> Any:
    lifecycle.mark_stopping()  # /readyz answers 503 from now on
    consumers = [consumer for hub in hubs() for consumer in hub.connections]
    if not consumers:
        return None
    from twisted.internet import defer

    return defer.Deferred.fromFuture(asyncio.ensure_future(_close_all(consumers)))


async def _close_all(consumers: list[Any]) -> None:
    """Each connection closes in its turn (a handler running now finishes first), then the frames get time to go."""
    for consumer in consumers:
        consumer.handle_local_event(dict(RESTARTING))
    await asyncio.sleep(CLOSE_GRACE)
