"""
The server heartbeat of token endpoints (PROTOCOL.md, "Heartbeat").

Every `interval` seconds the consumer sends `{"type": "ping"}`; if nothing at
all (a pong or any other message) arrived within `timeout` seconds of that ping,
the consumer closes with 4408. Daphne's protocol-level pings stay on underneath:
they keep proxies from idling the socket out, while this one proves that the
client application is still reading.

The heartbeat runs on event-loop timers rather than a task per connection (a
timer costs a seventh of a sleeping task). When one fires, it hands the consumer
a local event through `dispatch`, so a ping or a timeout never interleaves with
a handler:

- `{"type": "heartbeat.ping"}`: the consumer sends a ping, then calls `ping_sent()`;
- `{"type": "heartbeat.timeout"}`: the consumer closes with 4408.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from realtime.websocket import Message

PING_DUE: Message = {"type": "heartbeat.ping"}
TIMED_OUT: Message = {"type": "heartbeat.timeout"}


class Heartbeat:
    def __init__(self, notify: Callable[[Message], object], *, interval: float, timeout: float) -> None:
        """`notify(event)` hands an event to the consumer (`run_in_background(dispatch(event))`)."""
        self._notify = notify
        self.interval = interval
        self.timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._last_message_at = self._loop.time()
        self._ping_sent_at = self._loop.time()

    def start(self) -> None:
        self._timer = self._loop.call_later(self.interval, self._notify, PING_DUE)

    def message_received(self) -> None:
        """Any message from the client counts as an answer to the last ping."""
        self._last_message_at = self._loop.time()

    def ping_sent(self) -> None:
        """The consumer sent the ping: the client has `timeout` seconds from now."""
        self._ping_sent_at = self._loop.time()
        self._timer = self._loop.call_later(self.timeout, self._check_answer)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check_answer(self) -> None:
        if self._last_message_at >= self._ping_sent_at:
            next_ping = self._ping_sent_at + self.interval
            self._timer = self._loop.call_at(max(next_ping, self._loop.time()), self._notify, PING_DUE)
        else:
            self._timer = None
            self._notify(TIMED_OUT)
