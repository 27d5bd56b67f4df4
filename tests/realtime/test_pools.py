"""
Database pools fail fast while the database is away (realtime/pools.py): after an
outage every pool waits at most FAIL_FAST for a connection, and the next connection
made gives it its own timeout back. On PostgreSQL, whose pool the settings configure.
"""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError, connection

from realtime import pools
from realtime.outage import log_database_failure

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_an_outage_makes_the_pool_fail_fast_and_the_next_connection_restores_it() -> None:
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
