"""
The conformance battery (PROTOCOL.md, "On every ASGI server"): the same
over-the-wire tests against daphne, uvicorn, hypercorn and granian, each
started by its plain command on the project's application (and the test-only
routes of tests/support/wire_app.py), with small limits so that each bound
shows within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import pytest

from comments.models import Post
from tests.support.comments import numbered_comments
from tests.support.live import SERVERS, WIRE_APPLICATION, LiveServer, database_url_for_tests, start_server

# A heartbeat of 2 + 1 s: a client that reads nothing is given up after 3 s (a paced replay's patience).
BATTERY_LIMITS = {
    "WEBSOCKET_MAX_MESSAGE_SIZE": "4096",
    "HEARTBEAT_INTERVAL": "2",
    "HEARTBEAT_TIMEOUT": "1",
    "FEED_CHECK_INTERVAL": "0.25",
    "REPLAY_LIMIT": "10000",
    "HTTP_SEND_TIMEOUT": "3",
    # A dropped stream's EventSource would reconnect after a quarter of a second (the `retry:` field).
    "SSE_RETRY": "0.25",
}
# A replay larger than every buffer between a server and a client that reads nothing (kernel buffers of
# several MiB on loopback): 8,000 comments of 700 bytes.
LONG_REPLAY, BODY = 8000, "x" * 700


@pytest.fixture(scope="session")
def battery(django_db_setup: None, log_dir: Path) -> Iterator[dict[str, LiveServer]]:
    """The four servers, started together (each start mostly waits on its own process's imports)."""
    env = {"DATABASE_URL": database_url_for_tests(), **BATTERY_LIMITS}
    with ThreadPoolExecutor(len(SERVERS)) as pool:
        starting = {
            name: pool.submit(start_server, log_dir, name, application=WIRE_APPLICATION, env=env) for name in SERVERS
        }
        wait(starting.values())
    started = {name: future.result() for name, future in starting.items() if future.exception() is None}
    failed = [error for future in starting.values() if (error := future.exception()) is not None]
    if failed:  # the others stop too, then the first failure (with the server's log) is the error
        for server in started.values():
            server.stop()
        raise failed[0]
    yield started
    for server in started.values():
        server.stop_later()


@pytest.fixture(scope="session", params=SERVERS)
def any_server(request: pytest.FixtureRequest, battery: dict[str, LiveServer]) -> LiveServer:
    return battery[request.param]


@pytest.fixture
def long_post(user: Any) -> Post:
    post = Post.objects.create(title="Long")
    numbered_comments(post, user, LONG_REPLAY, BODY)
    return post
