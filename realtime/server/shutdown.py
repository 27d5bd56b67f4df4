"""
When daphne stops (SIGTERM, Ctrl-C), open connections are told: close 4012.

daphne's own shutdown step (`Server.kill_all_applications`, a "before shutdown"
trigger of Twisted's reactor) cancels every application at once, so that it can
clean up: an open connection is then dropped with no close frame (1006), idle
ones included. And in daphne 4.2.3 that step fails with `KeyError:
'application_instance'` as soon as one connection has no application yet (or no
more: a TCP connection that sent nothing), which is why a server that had just
been probed seemed to close properly. Here the step first closes every open
connection of the process with 4012 (realtime/lifecycle.py: in its turn, the
frames given time to go out, readiness 503 from the first moment), then
cancels the applications that are left, skipping connections that have none.

Upstream would need: `kill_all_applications` to read `details.get("application_instance")`,
and a way for an application to close its connections before it is cancelled
(the ASGI lifespan's `lifespan.shutdown`, which daphne does not send).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from realtime import lifecycle
from realtime.server.patching import patch

logger = logging.getLogger(__name__)


def install() -> bool:
    """Under daphne, close open connections with 4012 when the server stops. False elsewhere."""
    if "daphne.server" not in sys.modules:  # daphne imports it, and installs its reactor, first
        return False
    from daphne.server import Server

    patch(Server, "kill_all_applications", _close_then_kill)
    return True


def _close_then_kill(original: Any, server: Any) -> Any:
    """daphne's shutdown step, after every open connection was sent its 4012."""
    from twisted.internet import defer

    closing = asyncio.ensure_future(lifecycle.close_every_connection())
    return defer.Deferred.fromFuture(closing).addBoth(lambda _: _kill_applications(server))


def _kill_applications(server: Any) -> Any:
    """daphne's `kill_all_applications`, for the connections that have an application."""
    from twisted.internet import defer

    pending = [
        instance
        for details in server.connections.values()
        if (instance := details.get("application_instance")) is not None and not instance.done()
    ]
    for instance in pending:
        instance.cancel()
    logger.info("Killed %i pending application instances", len(pending))
    return defer.Deferred.fromFuture(asyncio.gather(*pending, return_exceptions=True))
