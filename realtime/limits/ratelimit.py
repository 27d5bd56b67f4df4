"""
Per-connection rate limits (docs/explanation/security.md).

Each connection has budgets, one per kind of message: every client message
spends from `message`; a feature registers budgets of its own for its costly
messages (the comments app: `comment`, spent by `new_comment` on top). A budget
is a token bucket: a burst, then a steady rate, both `REALTIME` keys. A message
that finds its budget empty is not handled and gets a `rate_limited` error
frame; a connection refused `RATE_LIMIT_STRIKES` times within
`RATE_LIMIT_STRIKE_SECONDS` is abusing the server and is closed with 4429.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtime.conf import realtime_settings


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    def describe(self) -> str:
        return f"{self.per_second:g} a second, in bursts of up to {self.burst}"


@dataclass(frozen=True)
class Budget:
    """A kind of message with its own rate, read from two `REALTIME` keys."""

    kind: str
    plural: str  # for people: "Too many comments"
    per_second_key: str
    burst_key: str

    def rate(self) -> Rate:
        return Rate(getattr(realtime_settings, self.per_second_key), getattr(realtime_settings, self.burst_key))


MESSAGE = Budget("message", "messages", "RATE_LIMIT_MESSAGES_PER_SECOND", "RATE_LIMIT_MESSAGES_BURST")

_budgets: dict[str, Budget] = {MESSAGE.kind: MESSAGE}


def register_budget(budget: Budget) -> None:
    known = _budgets.setdefault(budget.kind, budget)
    if known != budget:
        raise ValueError(f"A rate budget named {budget.kind!r} is already registered")


def budget(kind: str) -> Budget:
    try:
        return _budgets[kind]
    except KeyError:
        raise LookupError(f"No rate budget {kind!r}: register it with the feature that spends it") from None


class TokenBucket:
    __slots__ = ("burst", "per_second", "tokens", "updated")

    def __init__(self, rate: Rate, now: float) -> None:
        self.per_second = rate.per_second
        self.burst = float(rate.burst)
        self.tokens = self.burst
        self.updated = now

    def level(self, now: float) -> float:
        """The tokens there are now (below zero: a debt being paid back)."""
        return min(self.burst, self.tokens + (now - self.updated) * self.per_second)

    def is_full(self, now: float) -> bool:
        return self.level(now) >= self.burst

    def spend(self, amount: float, now: float) -> None:
        """Spend `amount` whether or not there is that much: the bucket may go below zero."""
        self.tokens = self.level(now) - amount
        self.updated = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one. Runs for every message: kept to plain arithmetic."""
        tokens = self.tokens + (now - self.updated) * self.per_second
        if tokens > self.burst:
            tokens = self.burst
        self.updated = now
        if tokens >= 1.0:
            self.tokens = tokens - 1.0
            return True
        self.tokens = tokens
        return False


class Budgets:
    """
    The budgets of one connection, and its strikes. The `message` bucket exists
    from the start (every message spends from it); the others on first use.
    """

    __slots__ = ("_buckets", "_strikes", "message")

    def __init__(self, now: float) -> None:
        self.message = TokenBucket(MESSAGE.rate(), now)
        self._buckets: dict[str, TokenBucket] = {MESSAGE.kind: self.message}
        self._strikes: TokenBucket | None = None

    def spend(self, kind: str, now: float) -> bool:
        bucket = self._buckets.get(kind)
        if bucket is None:
            bucket = self._buckets[kind] = TokenBucket(budget(kind).rate(), now)
        return bucket.take(now)

    def strike(self, now: float) -> bool:
        """Count a refusal; True while the connection may stay."""
        if self._strikes is None:
            strikes, window = realtime_settings.RATE_LIMIT_STRIKES, realtime_settings.RATE_LIMIT_STRIKE_SECONDS
            self._strikes = TokenBucket(Rate(per_second=strikes / window, burst=strikes), now)
        return self._strikes.take(now)

    @staticmethod
    def describe(kind: str) -> str:
        """'Too many comments: ... 1 a second, in bursts of up to 10'."""
        spent = budget(kind)
        return f"Too many {spent.plural}: this connection may send {spent.rate().describe()}"
