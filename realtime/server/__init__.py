"""
The server integration: what the library changes in daphne, autobahn and
logging, applied by `manage.py serve` or by the one call a host makes in its
`asgi.py`, `realtime.server.install()`, never by merely installing the apps.

- log redaction: no token reaches any log line, whoever logs it (redaction.py);
- a Redis outage is one log line, not channels-redis' traceback a second (outages.py);
- autobahn: connections that break the protocol are closed with a close frame
  (1009, 1007...) rather than dropped, and its per-frame debug formatting is
  skipped (autobahn.py);
- shutdown: SIGTERM closes every open connection with 4012, idle ones included,
  before daphne cancels the applications (shutdown.py; daphne's own step drops
  them with no close frame, or fails with a KeyError);
- the bounds only the server can enforce (PROTOCOL.md, "Slow and hostile
  clients"): bytes waiting to be written (backpressure.py; for HTTP responses,
  responses.py: `send` waits for the client), a deadline for
  request heads (handshake.py), frames per message and per second (frames.py),
  the size of a message (sizes.py: `WEBSOCKET_MAX_MESSAGE_SIZE`, which plain
  daphne would not know);
- open files: the soft limit raised to the hard one (descriptors.py), one per connection;
- memory: daphne's and channels-redis' queue per connection, lean (queues.py), and
  each connection's handshake let go once it is open (leftovers.py);
- speed: bytes to a client sent at once when none wait before them (writes.py), and
  no log context built for every socket event (reactor.py).

Under plain `daphne` without `install()` everything still works, less tuned
and less guarded: clients see 1006 instead of 4012 on a restart (and
reconnect all the same), protocol errors drop the connection (1006) instead of
closing it with a code, only the library's own log lines are known to hold no
token, and none of the bounds above holds: call it in `asgi.py`.
"""

from __future__ import annotations

from realtime.server import (
    autobahn,
    backpressure,
    descriptors,
    frames,
    handshake,
    leftovers,
    outages,
    queues,
    reactor,
    redaction,
    responses,
    shutdown,
    sizes,
    writes,
)


def install() -> None:
    """Apply the server integration to this process. Idempotent."""
    redaction.install()
    outages.install()
    autobahn.skip_eager_debug_formatting()
    autobahn.close_failed_connections_with_a_code()
    shutdown.install()
    backpressure.install()
    responses.install()
    handshake.install()
    frames.install()
    sizes.install()
    descriptors.install()
    queues.install()
    leftovers.install()
    writes.install()
    reactor.install()
