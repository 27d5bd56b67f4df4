"""What a presence backend does (memory.py in one process, redis.py for many)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from realtime.presence.model import Change, PresentUser, State

# (topic, user): one record of a process.
Record = tuple[str, PresentUser]


@dataclass(frozen=True)
class KeepAlive:
    """What a process learns when it says it is alive: the users of dead processes that left, and whether it was one."""

    reaped: list[Change] = field(default_factory=list)
    # True when this process's records were gone (reaped as dead, or Redis lost them): it must write them again.
    lost: bool = False


class PresenceBackend(Protocol):
    async def apply(
        self, process: str, joins: Sequence[Record], leaves: Sequence[Record], *, now: float
    ) -> list[Change]:
        """Record `process`'s new records and end the ones it let go; the joins and leaves that made. Idempotent."""
        ...

    async def sync(self, process: str, held: Sequence[Record], *, now: float) -> list[Change]:
        """Make `process`'s records exactly `held` (after an outage); the joins and leaves that made."""
        ...

    async def keepalive(self, process: str, *, now: float, expires_after: float) -> KeepAlive:
        """`process` is alive at `now`; the records of processes not heard of for `expires_after` seconds end."""
        ...

    async def state(self, topic: str, limit: int) -> State:
        """The users present on `topic` (None when more than `limit`), and the version they are at."""
        ...

    async def versions(self, topics: Sequence[str]) -> dict[str, int]:
        """The version each of `topics` is at (0: never joined)."""
        ...

    async def allow_typing(self, topic: str, user_id: Any, *, interval: float, now: float) -> bool:
        """True at most once per `interval` seconds (of `now`, wall-clock time) for one user on one topic."""
        ...

    async def close(self) -> None: ...
