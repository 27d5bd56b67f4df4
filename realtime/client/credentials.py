"""
Where the client's tokens come from, and when each one is due for a refresh.

`token=` is a string, used for every connect: the client can neither refresh
it nor reconnect after 4401 with it. Or it is a callable (run in a thread, so
that it may block on HTTP) or a coroutine function, asked for a fresh token at
every connect and before the current one expires. A token's `exp` and `iat` are
read from the JWT payload without verifying the signature: the client only
needs to know when to ask again; the server is the one that verifies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias

TokenSource: TypeAlias = str | Callable[[], str] | Callable[[], Awaitable[str]]

# Refresh when this fraction of the token's lifetime is left (the JavaScript client's refreshAhead).
REFRESH_AHEAD = 0.2


class Credentials:
    """The client's token source, and the last token it gave (for the history endpoint)."""

    def __init__(self, source: TokenSource) -> None:
        if not isinstance(source, str) and not callable(source):
            raise TypeError(f"token must be a string, a callable or a coroutine function, not {type(source).__name__}")
        self._source = source
        self.current: str | None = source if isinstance(source, str) else None

    @property
    def renewable(self) -> bool:
        """True when a fresh token can be asked for (a callable was given)."""
        return not isinstance(self._source, str)

    async def fresh(self) -> str:
        """A token to connect or refresh with: the string given, or a new one from the callable."""
        source = self._source
        if isinstance(source, str):
            return source
        result: object = await source() if inspect.iscoroutinefunction(source) else await asyncio.to_thread(source)
        if inspect.isawaitable(result):  # a plain function that returns a coroutine
            result = await result
        if not isinstance(result, str):
            raise TypeError(f"the token callable returned {type(result).__name__}, not a string")
        self.current = result
        return result


@dataclass(frozen=True)
class TokenTimes:
    """A token's `exp` and `iat` claims, seconds since the epoch (None when missing or not numbers)."""

    expires_at: float | None
    issued_at: float | None


def token_times(token: str) -> TokenTimes:
    """The `exp` and `iat` of a JWT, read from its payload (base64url JSON) without verifying it."""
    parts = token.split(".")
    if len(parts) != 3:
        return TokenTimes(None, None)
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        return TokenTimes(None, None)
    if not isinstance(claims, dict):
        return TokenTimes(None, None)
    return TokenTimes(_number(claims.get("exp")), _number(claims.get("iat")))


def has_expired(token: str, *, now: float) -> bool:
    """True when the token's `exp` has passed (False when it has none that can be read)."""
    expires_at = token_times(token).expires_at
    return expires_at is not None and expires_at <= now


def refresh_delay(token: str, *, now: float, received_at: float, ahead: float = REFRESH_AHEAD) -> float | None:
    """
    Seconds from `now` until `token` should be replaced: when `ahead` of its
    lifetime (from `iat`, or from `received_at` without one) is left. None for a
    token without a readable `exp`: the server will end its connection with
    4401 at its expiry, if it has one, and the client reconnects then.
    """
    times = token_times(token)
    if times.expires_at is None:
        return None
    start = times.issued_at if times.issued_at is not None else received_at
    lifetime = max(0.0, times.expires_at - start)
    return max(0.0, times.expires_at - ahead * lifetime - now)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
