"""
Database pools fail fast while the database is away (realtime/pools.py): after an
outage every pool waits at most FAIL_FAST for a connection, and the next connection
made gives it its own timeout back. On PostgreSQL, whose pool the settings configure.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from django.db import OperationalError, connection

from realtime import pools
from realtime.outage import log_database_failure

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_an_outage_makes_the_pool_fail_fast_and_the_next_connection_restores_it(monkeypatch: Any) -> None:
    monkeypatch.setattr(pools, "_start_probe", lambda: None)  # the next test's
    pool = getattr(connection, "pool", None)  # PostgreSQL's wrapper has one
    assert pool is not None
    configured = pool.timeout
    assert configured > pools.FAIL_FAST

    log_database_failure(logging.getLogger("test"), OperationalError("server closed the connection"), "Writing")
    assert pool.timeout == pools.FAIL_FAST

    connection.close()
    connection.ensure_connection()  # the database answers: a connection is made
    assert pool.timeout == configured


def test_a_failure_that_is_no_outage_leaves_the_pool_as_it_is() -> None:
    from django.db import IntegrityError

    pool = getattr(connection, "pool", None)  # PostgreSQL's wrapper has one
    assert pool is not None
    configured = pool.timeout
    log_database_failure(logging.getLogger("test"), IntegrityError("duplicate key"), "Writing")
    assert pool.timeout == configured


def test_while_the_database_is_away_a_probe_replaces_the_pool_once_it_answers(monkeypatch: Any) -> None:
    """The pool waits out a backoff that doubles at each failed try; the probe's pool connects at once."""
    monkeypatch.setattr(pools, "PROBE_INTERVAL", 0.05)
    stuck = getattr(connection, "pool", None)
    assert stuck is not None
    configured = stuck.timeout
    log_database_failure(logging.getLogger("test"), OperationalError("server closed the connection"), "Writing")
    assert stuck.timeout == pools.FAIL_FAST
    # No connection is made here: only the probe can find that the database answers.
    for _ in range(200):
        if getattr(connection, "pool", None) is not stuck:
            break
        time.sleep(0.05)
    fresh: Any = getattr(connection, "pool", None)
    assert fresh is not stuck
    assert stuck.closed
    assert fresh.timeout == configured
    assert pools._lowered == {}


def test_a_readiness_probe_that_finds_the_database_back_starts_a_lowered_pool_afresh(monkeypatch: Any) -> None:
    """The probe connects outside the pool (its backoff says nothing of the database), then renews it."""
    from realtime.health.probes import database_answers_now

    monkeypatch.setattr(pools, "_start_probe", lambda: None)  # only the readiness probe here
    stuck: Any = getattr(connection, "pool", None)
    assert stuck is not None
    log_database_failure(logging.getLogger("test"), OperationalError("server closed the connection"), "Writing")
    assert stuck.timeout == pools.FAIL_FAST
    database_answers_now()
    assert getattr(connection, "pool", None) is not stuck
    assert stuck.closed
    assert pools._lowered == {}
