"""
The hub: this process's open connections, in one registry (after centrifuge's
`hub.go`).

There is one hub per event loop: a server process has one, a test one per
test. It holds what the library's process-wide behaviours need to know, so
that each of them reads one place:

- every accepted connection, which shutdown closes with 4012 (server/shutdown.py);
- indexes of connections by key: by user, which revocation closes with 4401
  (auth/revocation.py), and by feed, which the feed checks catch up
  (feeds/checks.py);
- the per-user connection slots the token middleware holds (limits/connections.py),
  and the connections per client address (limits/addresses.py);
- the periodic checks over those indexes, each running while its index has
  members, none dying silently: an error is logged and the loop goes on;
- each user's replay budget (limits/replays.py);
- the clock that everything reads (clock.py), which tests replace.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterator
from itertools import islice
from typing import Any

from django.db import DatabaseError

from realtime.clock import Clock, LoopClock
from realtime.limits.replays import ReplayBudgets
from realtime.outage import log_database_failure

logger = logging.getLogger(__name__)

# The index of connections by user id.
USERS = "users"
# A periodic check whose interval cannot be read waits this long before it tries again.
FALLBACK_INTERVAL = 10.0
# Keys read per database query by a periodic check.
KEYS_PER_QUERY = 1000

# An index's members of one key: a tuple while they are few (most keys have one: a user's one connection,
# a connection's own key; a 1-tuple is 48 B, a set 216 B), a set past SMALL (joins and leaves in O(1)).
Members = dict[Hashable, tuple[Any, ...] | set[Any]]
SMALL = 8


class PeriodicCheck:
    """`run(hub, members)` every `interval()` seconds while the hub's `index` has members."""

    def __init__(
        self,
        name: str,
        index: Hashable,
        interval: Callable[[], float],
        run: Callable[[Hub, Members], Awaitable[None]],
    ) -> None:
        self.name = name
        self.index = index
        self.interval = interval
        self.run = run


_checks: dict[Hashable, list[PeriodicCheck]] = collections.defaultdict(list)


def every(check: PeriodicCheck) -> PeriodicCheck:
    """Run `check` in every hub whose `check.index` has members."""
    if check not in _checks[check.index]:
        _checks[check.index].append(check)
    return check


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.clock: Clock = LoopClock(loop)
        self.connections: set[Any] = set()
        self._indexes: dict[Hashable, Members] = {}
        self._running: dict[PeriodicCheck, asyncio.Task[None]] = {}
        # Per-user slots held by handshakes and open connections: connection id -> user id.
        self._slots: dict[str, Any] = {}
        self._slots_per_user: collections.Counter[Any] = collections.Counter()
        # WebSocket connections per client address (limits/addresses.py).
        self._per_address: collections.Counter[str] = collections.Counter()
        # Entries each user's replays may read (limits/replays.py).
        self.replays = ReplayBudgets()

    # --- Accepted connections ------------------------------------------------------

    def opened(self, connection: Any) -> None:
        self.connections.add(connection)

    def closed(self, connection: Any) -> None:
        self.connections.discard(connection)

    # --- Indexes -------------------------------------------------------------------

    def join(self, index: Hashable, key: Hashable, member: Any) -> None:
        """`member` cares about `key` of `index` from now on; the index's checks run while it has members."""
        members = self._indexes.get(index)
        if members is None:
            members = self._indexes[index] = {}
            for check in _checks.get(index, ()):
                self._running[check] = asyncio.ensure_future(self._every(check))
        keyed = members.get(key)
        if keyed is None:
            members[key] = (member,)
        elif isinstance(keyed, set):
            keyed.add(member)
        elif member not in keyed:
            members[key] = (*keyed, member) if len(keyed) < SMALL else {*keyed, member}

    def leave(self, index: Hashable, key: Hashable, member: Any) -> None:
        """`member` is done with `key`; the last member of an index stops its checks."""
        members = self._indexes.get(index)
        if members is None:
            return
        keyed = members.get(key)
        if isinstance(keyed, set):
            keyed.discard(member)
        elif keyed is not None:
            keyed = members[key] = tuple(each for each in keyed if each != member)
        if keyed is not None and not keyed:
            del members[key]
        if not members:
            del self._indexes[index]
            for check in _checks.get(index, ()):
                task = self._running.pop(check, None)
                if task is not None:
                    task.cancel()

    def members(self, index: Hashable) -> Members:
        """The keys of `index` and their members (live: copy before awaiting)."""
        return self._indexes.get(index, {})

    def of(self, index: Hashable, key: Hashable) -> set[Any]:
        return set(self._indexes.get(index, {}).get(key, ()))

    # --- Per-user slots (limits/connections.py) --------------------------------------

    def take_slot(self, connection_id: str, user_id: Any, cap: int) -> bool:
        """Hold one of `user_id`'s `cap` slots for `connection_id`, if one is free in this process."""
        if self._slots_per_user[user_id] >= cap:
            return False
        self.hold_slot(connection_id, user_id)
        return True

    def hold_slot(self, connection_id: str, user_id: Any) -> None:
        """Record a slot taken elsewhere (a Redis lease) as held by this process."""
        self._slots[connection_id] = user_id
        self._slots_per_user[user_id] += 1

    def give_back_slot(self, connection_id: str) -> Any:
        """Free `connection_id`'s slot; returns its user id (None when it held none)."""
        user_id = self._slots.pop(connection_id, None)
        if user_id is not None:
            self._slots_per_user[user_id] -= 1
            if self._slots_per_user[user_id] <= 0:
                del self._slots_per_user[user_id]
        return user_id

    def held_slots(self) -> dict[str, Any]:
        return dict(self._slots)

    # --- Connections per client address (limits/addresses.py) -------------------------

    def take_address(self, address: str, cap: int) -> bool:
        if self._per_address[address] >= cap:
            return False
        self._per_address[address] += 1
        return True

    def give_back_address(self, address: str) -> None:
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]

    def open_from(self, address: str) -> int:
        return self._per_address[address]

    # --- Periodic checks -----------------------------------------------------------

    async def _every(self, check: PeriodicCheck) -> None:
        members = self._indexes[check.index]
        while True:
            try:
                delay = float(check.interval())
            except Exception:
                logger.exception("The %s cannot read its interval; trying again in %s s", check.name, FALLBACK_INTERVAL)
                delay = FALLBACK_INTERVAL
            await self.clock.sleep(delay)
            try:
                await check.run(self, members)
            except DatabaseError as error:
                log_database_failure(logger, error, "The %s failed; trying again in %s s", check.name, delay)
            except Exception:
                logger.exception("The %s failed; trying again in %s s", check.name, delay)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = Hub(loop)
    return found


def hubs() -> list[Hub]:
    """Every hub of the process (one per event loop that opened connections)."""
    return list(_hubs.values())


def in_chunks(keys: list[Hashable]) -> Iterator[list[Hashable]]:
    """`keys`, KEYS_PER_QUERY at a time: one query each."""
    remaining = iter(keys)
    while chunk := list(islice(remaining, KEYS_PER_QUERY)):
        yield chunk
