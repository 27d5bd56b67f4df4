"""
The process stopping (PROTOCOL.md, "On every ASGI server": SIGTERM closes every
connection with a close frame).

When the server begins to stop, readiness answers 503 (realtime/health/views.py),
so that a proxy stops sending new clients to a process that is closing its own,
and every open connection is closed with 4012 in its turn (the server is
restarting: reconnect, with `since`), the frames given `CLOSE_GRACE` seconds to
go out before the server drops the sockets. Who calls `close_every_connection`:

- under daphne, its shutdown step (realtime/server/shutdown.py);
- under a server that runs the ASGI lifespan in the process that holds the
  connections (uvicorn, granian), the lifespan's startup takes SIGTERM on the
  event loop (`take_sigterm`): the connections are closed first, then the
  signal goes on to the server, which stops as it would have;
- under hypercorn, whose workers get no signal, the lifespan's startup watches
  the shared event through which its main process tells its workers to stop
  (`watch_shared_stop`); and should a connection be cancelled from outside
  while open all the same, it closes with 4012 itself (realtime/consumers/base.py).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
from typing import Any

from realtime.hub import hubs

logger = logging.getLogger(__name__)

CLOSE_GRACE = 0.3
# Seconds between two looks at a shared stop event (hypercorn's workers look as often).
SHARED_STOP_POLL = 0.1
# The local event each open connection gets (WebSocketConsumer.server_restarting closes with 4012).
RESTARTING = {"type": "server.restarting"}

_stopping = False


def mark_stopping() -> None:
    global _stopping
    if not _stopping:
        logger.info("Stopping: /readyz answers 503 from now on")
    _stopping = True


def stopping() -> bool:
    return _stopping


def reset() -> None:
    """Serving again (tests)."""
    global _stopping
    _stopping = False


async def close_every_connection() -> None:
    """Readiness off, then every open connection closed with 4012 in its turn, and the frames given time to go."""
    mark_stopping()
    consumers = [consumer for hub in hubs() for consumer in hub.connections]
    if not consumers:
        return
    for consumer in consumers:
        consumer.handle_local_event(dict(RESTARTING))
    await asyncio.sleep(CLOSE_GRACE)


def take_sigterm() -> bool:
    """
    Close every connection when SIGTERM comes, before the server acts on it;
    False where the signal cannot be taken (not the main thread, no signals).
    """
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        loop.add_signal_handler(signal.SIGTERM, _on_sigterm, loop, previous)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or no signals here
        return False
    return True


def _on_sigterm(loop: asyncio.AbstractEventLoop, previous: Any) -> None:
    loop.remove_signal_handler(signal.SIGTERM)
    closing = loop.create_task(close_every_connection())
    closing.add_done_callback(lambda _: _pass_on(previous))


def _pass_on(previous: Any) -> None:
    """The signal, to the server, as it would have had it: its own handler, or SIGINT (which servers take alike)."""
    # An event loop's own handler stands for the server's callback on that loop, which taking the signal replaced.
    on_a_loop = str(getattr(previous, "__module__", "")).startswith(("asyncio", "uvloop"))
    if callable(previous) and not on_a_loop:
        signal.signal(signal.SIGTERM, previous)
        signal.raise_signal(signal.SIGTERM)
    else:
        signal.raise_signal(signal.SIGINT)


def watch_shared_stop() -> bool:
    """
    In a worker process told to stop through a shared event (hypercorn's: its worker
    function's `shutdown_event`), close every connection when the event is set,
    before the server acts on it; False in any other process.
    """
    event = getattr(multiprocessing.current_process(), "_kwargs", {}).get("shutdown_event")
    if event is None or not callable(getattr(event, "is_set", None)):
        return False
    task = asyncio.get_running_loop().create_task(_close_when_set(event))
    _watching.add(task)
    task.add_done_callback(_watching.discard)
    return True


_watching: set[asyncio.Task[None]] = set()


async def _close_when_set(event: Any) -> None:
    while not event.is_set():  # noqa: ASYNC110  (a multiprocessing event: nothing to await)
        await asyncio.sleep(SHARED_STOP_POLL)
    await close_every_connection()
