"""
Logging a database failure met while serving a connection.

An outage (the database refused or dropped the connection: `OperationalError`,
`InterfaceError`) is expected while PostgreSQL restarts, and under load it is
met by many connections at once, so it gets one warning line each. Any other
`DatabaseError` is a bug and keeps its traceback. Either way the caller answers
the client (4503, or an `unavailable` error frame) instead of crashing.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, InterfaceError, OperationalError

from realtime import pools
from realtime.metrics import catalog as metrics

OUTAGES = (OperationalError, InterfaceError)


def log_database_failure(logger: logging.Logger, error: DatabaseError, message: str, *args: object) -> None:
    """Log `message % args` and why the database failed: one line for an outage, a traceback otherwise."""
    metrics.database_failures.labels(metrics.OUTAGE if isinstance(error, OUTAGES) else metrics.OTHER_ERROR).inc()
    if isinstance(error, OUTAGES):
        pools.database_away()
        logger.warning(f"{message}: the database is unavailable (%s)", *args, type(error).__name__)
    else:
        logger.error(message, *args, exc_info=error)
