"""
The server heartbeat of token endpoints (PROTOCOL.md, "Heartbeat").

Every `interval` seconds the consumer sends `{"type": "ping"}`; if nothing at
all (a pong or any other message) arrived within `timeout` seconds of that ping,
the consumer closes with 4408. Daphne's protocol-level pings stay on underneath:
they keep proxies from idling the socket out, while this one proves that the
client application is still reading.

"Arrived" is when the consumer's reader took the message from the server, not
when a handler got to it: a pong that waits behind a slow handler (a database
call) is not late. So when the deadline comes while the reader is still busy,
the heartbeat looks again shortly, once the reader has caught up. And when the
deadline's own timer fires late (by LATE_BY or more: this process was stalled,
its CPU taken by something else), what the client sent meanwhile may still wait
in the server unread: the heartbeat looks once more, shortly, before it closes.

The heartbeat runs on timers of the hub's clock rather than a task per
connection (a timer costs a seventh of a sleeping task). When one fires, it hands the consumer
a local event, so a ping or a timeout never interleaves with a handler:

- `{"type": "heartbeat.ping"}`: the consumer sends a ping, then calls `ping_sent()`;
- `{"type": "heartbeat.timeout"}`: the consumer closes with 4408.
"""

from __future__ import annotations

from typing import Protocol

from realtime.clock import Clock, Timer
from realtime.types import Message

PING_DUE: Message = {"type": "heartbeat.ping"}
TIMED_OUT: Message = {"type": "heartbeat.timeout"}

# Seconds between looks at a reader that is still catching up at the deadline.
RECHECK_DELAY = 0.05
# A deadline whose timer fires this many seconds late or more: the process was stalled, not the client.
LATE_BY = 1.0


class HeartbeatHost(Protocol):
    """What the heartbeat needs of its consumer (a `WebSocketConsumer`)."""

    last_client_message_at: float
    waiting_for_client: bool

    def handle_local_event(self, event: Message) -> None: ...


class Heartbeat:
    __slots__ = ("_clock", "_host", "_looked_again", "_ping_sent_at", "_timer", "interval", "timeout")

    def __init__(self, host: HeartbeatHost, clock: Clock, *, interval: float, timeout: float) -> None:
        self._host = host
        self._clock = clock
        self.interval = interval
        self.timeout = timeout
        self._timer: Timer | None = None
        self._ping_sent_at = clock.monotonic()
        self._looked_again = False

    def start(self) -> None:
        self._timer = self._clock.call_later(self.interval, self._host.handle_local_event, PING_DUE)

    def ping_sent(self) -> None:
        """The consumer sent the ping: the client has `timeout` seconds from now."""
        self._ping_sent_at = self._clock.monotonic()
        self._looked_again = False
        self._timer = self._clock.call_later(self.timeout, self._check_answer)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check_answer(self) -> None:
        if self._host.last_client_message_at >= self._ping_sent_at:
            next_ping = self._ping_sent_at + self.interval - self._clock.monotonic()
            self._timer = self._clock.call_later(next_ping, self._host.handle_local_event, PING_DUE)
        elif not self._host.waiting_for_client:
            self._timer = self._clock.call_later(RECHECK_DELAY, self._check_answer)
        elif not self._looked_again and self._clock.monotonic() - self._ping_sent_at - self.timeout >= LATE_BY:
            self._looked_again = True  # stalled here: let the server read what waits, then look once more
            self._timer = self._clock.call_later(RECHECK_DELAY, self._check_answer)
        else:
            self._timer = None
            self._host.handle_local_event(TIMED_OUT)
