"""
When to try again: exponential backoff with jitter, as the JavaScript client's
`backoffDelay` (docs/how-to/javascript-client.md).

Each delay is between half and all of its step (`min_delay` doubling up to
`max_delay`), so that many clients dropped at once (a server restart) do not
come back at once. The steps start afresh only after a connection stayed open
`stable_after` seconds, so that a server that accepts and closes at once is not
hammered.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

MIN_DELAY = 0.5
MAX_DELAY = 30.0
STABLE_AFTER = 10.0


def backoff_delay(
    attempt: int, min_delay: float, max_delay: float, jitter: Callable[[], float] = random.random
) -> float:
    """The delay before retry number `attempt` (0 for the first), in seconds; `jitter` gives 0 to 1."""
    step = min(max_delay, min_delay * 2.0**attempt)
    return step / 2 + jitter() * step / 2


@dataclass
class Backoff:
    """The retry steps of one client."""

    min_delay: float = MIN_DELAY
    max_delay: float = MAX_DELAY
    stable_after: float = STABLE_AFTER
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call moves one step on."""
        delay = backoff_delay(min(self.attempt, 64), self.min_delay, self.max_delay)
        self.attempt += 1
        return delay

    def connection_lasted(self, seconds: float) -> None:
        """A connection stayed open `seconds`: long enough, and the next retry starts from the first step."""
        if seconds >= self.stable_after:
            self.attempt = 0
