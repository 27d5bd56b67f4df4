"""
The database is shared fairly (PROTOCOL.md, "Slow and hostile clients"): a
flood of anonymous HTTP requests with made-up session cookies, more at once
than the pool has connections, against a plain daphne on PostgreSQL. The
process holds at most the pool's 20 connections however many requests run,
`/readyz` keeps answering 200 and a signed-in user's history keeps answering,
and `/metrics` shows the bound.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from realtime.auth.tokens import issue_token
from tests.support.http import get
from tests.support.live import LiveServer, database_url_for_tests, start_daphne
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.services, pytest.mark.django_db(transaction=True)]

POOL_MAX = 20
FLOODERS = 48  # more requests at once than the pool has connections
FLOOD_REQUESTS = 1200
PROBES = 12
APPLICATION_NAME = "realtime-flood-test"


@pytest.fixture
def server(log_dir: Path) -> Iterator[LiveServer]:
    url = f"{database_url_for_tests()}?application_name={APPLICATION_NAME}"
    live = start_daphne(log_dir, env={"DATABASE_URL": url}, plain=True)
    yield live
    live.stop()


def connections_held() -> int:
    """The server's connections to PostgreSQL now (its application_name)."""
    with psycopg.connect(database_url_for_tests().replace(f"/{_database()}", "/postgres")) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
        ).fetchone()
    assert row is not None
    return int(row[0])


def _database() -> str:
    return database_url_for_tests().rsplit("/", 1)[1]


def anonymous_request(server: LiveServer) -> int:
    request = urllib.request.Request(
        f"{server.http_url}/realtime/history/notifications", headers={"Cookie": f"sessionid={secrets.token_hex(16)}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def flood(server: LiveServer, done: threading.Event) -> list[int]:
    with ThreadPoolExecutor(FLOODERS) as pool:
        statuses = list(pool.map(lambda _: anonymous_request(server), range(FLOOD_REQUESTS)))
    done.set()
    return statuses


async def test_a_flood_of_anonymous_requests_holds_at_most_the_pools_connections_and_others_are_answered(
    server: LiveServer, user: Any
) -> None:
    token = issue_token(user)
    done = threading.Event()
    flooding = asyncio.ensure_future(asyncio.to_thread(flood, server, done))
    held: list[int] = []
    readiness: list[int] = []
    history: list[tuple[int, Any]] = []
    while not done.is_set() and len(readiness) < PROBES:
        held.append(await asyncio.to_thread(connections_held))
        readiness.append((await asyncio.to_thread(get, f"{server.http_url}/readyz", None, 30)).status)
        answer = await asyncio.to_thread(
            get, f"{server.http_url}/realtime/history/notifications", {"Authorization": f"Bearer {token}"}, 30
        )
        history.append((answer.status, json.loads(answer.body)))
        await asyncio.sleep(0.05)
    statuses = await flooding
    held.append(await asyncio.to_thread(connections_held))

    assert set(statuses) == {401}, f"the flood was answered {sorted(set(statuses))}"
    assert len(readiness) >= 3, "the flood ended before the probes could run"
    assert max(held) <= POOL_MAX, f"the server held {max(held)} connections"
    assert set(readiness) == {200}
    assert all(answer == (200, {"items": [], "next_after": None}) for answer in history), history
    samples = await asyncio.to_thread(scrape, server)
    assert value(samples, "realtime_database_pool_max", {"database": "default"}) == POOL_MAX
    assert value(samples, "realtime_database_pool_timeouts_total", {"database": "default"}) == 0
