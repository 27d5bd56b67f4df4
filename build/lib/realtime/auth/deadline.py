"""
The token deadline of an open connection (PROTOCOL.md, "Authentication").

When the token a connection was opened with expires, the consumer closes with
4401, unless the client sent `{"type": "refresh", "token": ...}` with a newer
token for the same user, which moves the deadline (`move`). Like the heartbeat
it is one timer of the hub's clock; when it fires it hands the consumer
`{"type": "token.expired"}` through `dispatch`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from realtime.clock import Clock, Timer
from realtime.types import Message

EXPIRED: Message = {"type": "token.expired"}


class TokenDeadline:
    __slots__ = ("_clock", "_notify", "_timer", "expires_at")

    def __init__(self, notify: Callable[[Message], object], clock: Clock, expires_at: datetime) -> None:
        self._notify = notify
        self._clock = clock
        self.expires_at = expires_at
        self._timer: Timer | None = None

    def start(self) -> None:
        self._schedule()

    def move(self, expires_at: datetime) -> None:
        self.expires_at = expires_at
        self.stop()
        self._schedule()

    def has_passed(self) -> bool:
        return self._clock.wall() >= self.expires_at.timestamp()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        self._timer = self._clock.call_later(self.expires_at.timestamp() - self._clock.wall(), self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self.has_passed():
            self._notify(EXPIRED)
        else:  # the wall clock and the timers' clock drifted apart: wait the rest
            self._schedule()
