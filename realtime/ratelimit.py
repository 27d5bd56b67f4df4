"""
Per-connection rate limits (README, "Security").

Each connection has budgets, one per kind of message: every client message
spends from `message`, every `new_comment` from `comment` as well. A budget is a
token bucket: a burst, then a steady rate. A message that finds its budget
empty is not handled and gets a `rate_limited` error frame; a connection refused
`strikes` times within `strike_seconds` is abusing the server and is closed
with 4429. Limits come from settings, read when the connection opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    def describe(self) -> str:
        return f"{self.per_second:g} a second, in bursts of up to {self.burst}"


class TokenBucket:
    __slots__ = ("burst", "per_second", "tokens", "updated")

    def __init__(self, rate: Rate, now: float) -> None:
        self.per_second = rate.per_second
        self.burst = float(rate.burst)
        self.tokens = self.burst
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
    """The budgets of one connection, and its strikes."""

    def __init__(self, rates: dict[str, Rate], *, strikes: int, strike_seconds: float, now: float) -> None:
        self.rates = rates
        self._buckets = {kind: TokenBucket(rate, now) for kind, rate in rates.items()}
        self._strikes = TokenBucket(Rate(per_second=strikes / strike_seconds, burst=strikes), now)

    def spend(self, kind: str, now: float) -> bool:
        return self._buckets[kind].take(now)

    def bucket(self, kind: str) -> TokenBucket:
        return self._buckets[kind]

    def strike(self, now: float) -> bool:
        """Count a refusal; True while the connection may stay."""
        return self._strikes.take(now)


def budgets_from_settings(now: float) -> Budgets:
    return Budgets(
        {
            "message": Rate(settings.RATE_LIMIT_MESSAGES_PER_SECOND, settings.RATE_LIMIT_MESSAGES_BURST),
            "comment": Rate(settings.RATE_LIMIT_COMMENTS_PER_SECOND, settings.RATE_LIMIT_COMMENTS_BURST),
        },
        strikes=settings.RATE_LIMIT_STRIKES,
        strike_seconds=settings.RATE_LIMIT_STRIKE_SECONDS,
        now=now,
    )


NAMES: dict[str, Any] = {"message": "messages", "comment": "comments"}
