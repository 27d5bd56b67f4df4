"""
Database pools that fail fast while the database is away, and recover as soon as it is back
(PROTOCOL.md, "The database is shared fairly").

Django's PostgreSQL pool makes a request that finds every connection lent wait
its turn, up to the pool's `timeout`: the right thing under load, when a
connection comes back within milliseconds. While the database is away none
comes back: every operation would wait the whole timeout, one after another
in the one thread that serves every connection's database work
(realtime/db.py), and the whole process would stall behind them. So once an
operation met an outage (realtime/outage.py), every pool waits at most
`FAIL_FAST` seconds, and the next connection made (the database answers
again) gives each pool back its own timeout.

The pool itself (psycopg_pool) retries a connection it could not make after a
delay that doubles at each failure: after a minute's outage its next try may
be a minute away, and every request until then would fail. So while the
database is away, one probe thread tries a connection of its own every
`PROBE_INTERVAL` seconds; the first that succeeds replaces each pool (Django
makes a new one on the next request, which connects at once) and ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

# Seconds a request waits for a pooled connection while the database is known to be away.
FAIL_FAST = 0.1
# Seconds between the probe's tries while the database is away, and the longest one may take.
PROBE_INTERVAL = 0.5
PROBE_CONNECT_TIMEOUT = 2

# id(pool) -> the pool's own timeout, while it is lowered.
_lowered: dict[int, float] = {}
_probe_lock = threading.Lock()
_probe: threading.Thread | None = None


def _pools() -> list[tuple[str, Any]]:
    pools = []
    for alias in connections.settings:
        if connections.settings[alias].get("OPTIONS", {}).get("pool"):
            pool = getattr(connections[alias], "pool", None)
            if pool is not None:
                pools.append((alias, pool))
    return pools


def database_away() -> None:
    """An operation met an outage: requests fail within FAIL_FAST instead of each waiting the pool's timeout."""
    lowered = False
    for _alias, pool in _pools():
        if id(pool) not in _lowered:
            _lowered[id(pool)] = pool.timeout
            pool.timeout = min(pool.timeout, FAIL_FAST)
            lowered = True
    if lowered:
        _start_probe()


def database_back(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """A pool made a connection (Django's `connection_created`): every pool waits its own timeout again."""
    if not _lowered or (connection is not None and getattr(connection, "pool", None) is None):
        return  # a connection of its own (the readiness probe's) says nothing of the pool
    for _alias, pool in _pools():
        timeout = _lowered.pop(id(pool), None)
        if timeout is not None:
            pool.timeout = timeout


def answers(pool: Any) -> bool:
    """Whether the pool's database accepts a connection now (one made and closed outside the pool)."""
    try:
        probe = pool.connection_class.connect(
            pool.conninfo, **{**pool.kwargs, "connect_timeout": PROBE_CONNECT_TIMEOUT}
        )
    except Exception:
        return False
    probe.close()
    return True


def _start_probe() -> None:
    global _probe
    with _probe_lock:
        if _probe is not None and _probe.is_alive():
            return
        _probe = threading.Thread(target=_probe_until_back, name="realtime-database-probe", daemon=True)
        _probe.start()


def _probe_until_back() -> None:
    while _lowered:
        time.sleep(PROBE_INTERVAL)  # the pool's own first retry comes first
        away = [(alias, pool) for alias, pool in _pools() if id(pool) in _lowered]
        if not away:
            return
        for alias, pool in away:
            if answers(pool):
                _start_afresh(alias, pool)


def database_answered(alias: str) -> None:
    """The database `alias` answered a connection of its own (readiness): its pool, if lowered, starts afresh now."""
    for found, pool in _pools():
        if found == alias and id(pool) in _lowered:
            _start_afresh(alias, pool)


def _start_afresh(alias: str, pool: Any) -> None:
    # The pool may be waiting out its backoff: a new one connects at once.
    logger.info("The database %r answers again: its connection pool starts afresh", alias)
    _lowered.pop(id(pool), None)
    with contextlib.suppress(KeyError):  # replaced meanwhile
        connections[alias].close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper


def forget() -> None:
    """
    Forget an outage (tests, between tests): every pool back to its own timeout, and
    no probe left to replace a pool under the next test once the database answers.
    """
    database_back()
    _lowered.clear()
    probe = _probe
    if probe is not None:
        probe.join(timeout=4 * PROBE_INTERVAL)  # it ends at its next look, finding nothing lowered
