"""
Database pools that fail fast while the database is away (PROTOCOL.md, "The database is shared fairly").

Django's PostgreSQL pool makes a request that finds every connection lent wait
its turn, up to the pool's `timeout`: the right thing under load, when a
connection comes back within milliseconds. While the database is away none
comes back: every operation would wait the whole timeout, one after another
in the one thread that serves every connection's database work
(realtime/db.py), and the whole process would stall behind them. So once an
operation met an outage (realtime/outage.py), every pool waits at most
`FAIL_FAST` seconds, and the next connection made (the database answers
again) gives each pool back its own timeout.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

# Seconds a request waits for a pooled connection while the database is known to be away.
FAIL_FAST = 0.1

# id(pool) -> the pool's own timeout, while it is lowered.
_lowered: dict[int, float] = {}


def _pools() -> list[Any]:
    pools = []
    for alias in connections.settings:
        if connections.settings[alias].get("OPTIONS", {}).get("pool"):
            pool = getattr(connections[alias], "pool", None)
            if pool is not None:
                pools.append(pool)
    return pools


def database_away() -> None:
    """An operation met an outage: requests fail within FAIL_FAST instead of each waiting the pool's timeout."""
    for pool in _pools():
        if id(pool) not in _lowered:
            _lowered[id(pool)] = pool.timeout
            pool.timeout = min(pool.timeout, FAIL_FAST)


def database_back(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """A connection was made (Django's `connection_created`): every pool waits its own timeout again."""
    if not _lowered:
        return
    for pool in _pools():
        timeout = _lowered.pop(id(pool), None)
        if timeout is not None:
            pool.timeout = timeout
