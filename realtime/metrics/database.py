"""
The database connections this process holds (PROTOCOL.md, "The database is shared fairly").

Under ASGI each HTTP request's database work runs in a thread of its own, so
the bound on connections is a pool's: Django's PostgreSQL pool (psycopg's
`psycopg_pool`, `OPTIONS["pool"]`). A collector reads each pool's figures when
Prometheus scrapes:

- `realtime_database_pool_max{database}`: the bound, the pool's `max_size`;
- `realtime_database_connections{database,state}`: the connections the pool
  holds, `in_use` or `idle`;
- `realtime_database_pool_waiting{database}`: requests waiting for a connection now;
- `realtime_database_pool_timeouts_total{database}`: requests that waited the
  pool's `timeout` in vain (an `OperationalError`: 503, or a close 4503).

A database without a pool (SQLite, or PostgreSQL without one: `manage.py check`
warns, realtime.W003) exports none of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connections
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

IN_USE, IDLE = "in_use", "idle"


def pool_of(alias: str) -> Any:
    """The connection pool of database `alias`, or None when it has none."""
    settings_dict = connections.settings[alias]
    if not settings_dict.get("OPTIONS", {}).get("pool"):
        return None
    return getattr(connections[alias], "pool", None)


def pools() -> Iterator[tuple[str, Any]]:
    for alias in connections.settings:
        pool = pool_of(alias)
        if pool is not None:
            yield alias, pool


class DatabasePoolCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        bound = GaugeMetricFamily(
            "realtime_database_pool_max", "Database connections this process may hold, by database", labels=["database"]
        )
        held = GaugeMetricFamily(
            "realtime_database_connections",
            "Database connections this process holds, by database and state (in_use, idle)",
            labels=["database", "state"],
        )
        waiting = GaugeMetricFamily(
            "realtime_database_pool_waiting", "Requests waiting for a database connection now", labels=["database"]
        )
        timeouts = CounterMetricFamily(
            "realtime_database_pool_timeouts",
            "Requests that waited for a database connection in vain (the pool's timeout)",
            labels=["database"],
        )
        for alias, pool in pools():
            stats = pool.get_stats()
            size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
            bound.add_metric([alias], pool.max_size)
            held.add_metric([alias, IN_USE], size - available)
            held.add_metric([alias, IDLE], available)
            waiting.add_metric([alias], stats.get("requests_waiting", 0))
            timeouts.add_metric([alias], stats.get("requests_errors", 0))
        yield from (bound, held, waiting, timeouts)

    def describe(self) -> Iterator[Metric]:
        return iter(())


REGISTRY.register(DatabasePoolCollector())
