"""
Replays budgeted per user (PROTOCOL.md, "Slow and hostile clients").

A replay reads entries from the database in the one thread every connection
of the process shares for its database work (realtime/db.py): one account
looping `subscribe` with `since: 0` over twenty sockets pulled 2.6 GiB in 25 s
and made every other user's handshake wait for that thread. So each user has a
budget of entries read by replays, per process: a token bucket of
`RATE_LIMIT_REPLAY_ENTRIES_BURST` entries refilled at
`RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND`. A replay starts only while the user's
bucket is above zero, and is charged, once done, what it read (its entries,
the ids it counted, and one for the query itself), so the bucket may go below
zero by one replay of each of the user's connections; a `subscribe` with
`since` that finds it empty is answered `rate_limited` before any database
work (a per-feed endpoint's `?since=`: refused before accept, 4429).
"""

from __future__ import annotations

from collections.abc import Hashable

from realtime.conf import realtime_settings
from realtime.limits.ratelimit import Rate, TokenBucket

REPLAY = "replay"
# The budgets kept before full ones (users who have not replayed for a while) are swept away.
SWEEP_AT_LEAST = 1024


class ReplayBudgets:
    """The replay budget of every user of this process (one per hub)."""

    def __init__(self) -> None:
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._sweep_at = SWEEP_AT_LEAST

    @staticmethod
    def rate() -> Rate:
        return Rate(
            realtime_settings.RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND, realtime_settings.RATE_LIMIT_REPLAY_ENTRIES_BURST
        )

    def allows(self, user_id: Hashable, now: float) -> bool:
        """Whether `user_id` may start a replay now (its budget is above zero)."""
        bucket = self._buckets.get(user_id)
        return bucket is None or bucket.level(now) > 0

    def spend(self, user_id: Hashable, entries: int, now: float) -> None:
        """Charge `user_id` for a replay that read `entries` (its bucket may go below zero)."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._sweep(now)
            bucket = self._buckets[user_id] = TokenBucket(self.rate(), now)
        bucket.spend(entries, now)

    def _sweep(self, now: float) -> None:
        """Forget the users whose budget is full again: they are as if they had never replayed."""
        for user_id in [user_id for user_id, bucket in self._buckets.items() if bucket.is_full(now)]:
            del self._buckets[user_id]
        self._sweep_at = max(SWEEP_AT_LEAST, 2 * len(self._buckets))

    @staticmethod
    def describe() -> str:
        rate = ReplayBudgets.rate()
        return (
            f"Too many replays: a user may have {rate.per_second:g} entries a second replayed, in bursts of up to "
            f"{rate.burst}. Nothing was subscribed; subscribe again, with since, in a few seconds."
        )
