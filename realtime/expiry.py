"""
The token deadline of an open connection (PROTOCOL.md, "Authentication").

When the token a connection was opened with expires, the consumer closes with
4401, unless the client sent `{"type": "refresh", "token": ...}` with a newer
token for the same user, which moves the deadline (`move`). Like the heartbeat
it is one event-loop timer; when it fires it hands the consumer
`{"type": "token.expired"}` through `dispatch`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from realtime.websocket import Message

EXPIRED: Message = {"type": "token.expired"}


class TokenDeadline:
    def __init__(self, notify: Callable[[Message], object], expires_at: datetime) -> None:
        self._notify = notify
        self.expires_at = expires_at
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._schedule()

    def move(self, expires_at: datetime) -> None:
        self.expires_at = expires_at
        self.stop()
        self._schedule()

    def has_passed(self) -> bool:
        return timezone.now() >= self.expires_at

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        delay = (self.expires_at - timezone.now()).total_seconds()
        self._timer = self._loop.call_later(max(delay, 0.0), self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self.has_passed():
            self._notify(EXPIRED)
        else:  # the wall clock and the loop's clock drifted apart: wait the rest
            self._schedule()
