"""
Sends that wait for the client (PROTOCOL.md, "Slow and hostile clients", "On every ASGI server").

uvicorn, hypercorn and granian make the application's `send` wait while the
client reads nothing (their transport's buffer is full): their memory stays
bounded, but a connection whose client stopped reading would wait for ever,
its handler stuck in `send`, its heartbeat and its close waiting their turn
behind it, and the connection counted for ever. (Under daphne the server
integration measures the bytes waiting instead, and closes with 4410:
realtime/server/backpressure.py.)

So every connection the server hands no flow control (realtime/limits/flow.py)
is watched while it is open: a send that has waited longer than a heartbeat
(`HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT`, the patience of a paced replay)
means the client is not reading, and the connection is given up, its work
stopped and everything it counted let go, as for a close 4410; the server
then closes the socket once what it holds is written, or drops it. One check
for the whole process looks every `HEARTBEAT_TIMEOUT` seconds; a send costs two
assignments.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from realtime.conf import realtime_settings
from realtime.hub import Hub, Members, PeriodicCheck, every

# The hub's index of connections whose sends may wait for the client.
UNPACED = "unpaced sends"


class Sender(Protocol):
    """A connection in the index (realtime/consumers/base.py)."""

    def send_waiting_since(self) -> float | None:
        """When the send under way began (the hub's monotonic clock), or None."""
        ...

    def send_stalled(self, waited: float) -> None:
        """A send has waited `waited` seconds for the client: give the connection up."""
        ...


def patience() -> float:
    return float(realtime_settings.HEARTBEAT_INTERVAL + realtime_settings.HEARTBEAT_TIMEOUT)


def watch(hub: Hub, sender: Hashable) -> None:
    hub.join(UNPACED, sender, sender)


def unwatch(hub: Hub, sender: Hashable) -> None:
    hub.leave(UNPACED, sender, sender)


async def _check(hub: Hub, senders: Members) -> None:
    now, limit = hub.clock.monotonic(), patience()
    for members in list(senders.values()):
        for sender in list(members):
            started = sender.send_waiting_since()
            if started is not None and now - started > limit:
                sender.send_stalled(now - started)


STALLED_SENDS = every(
    PeriodicCheck("check of stalled sends", UNPACED, lambda: realtime_settings.HEARTBEAT_TIMEOUT, _check)
)
