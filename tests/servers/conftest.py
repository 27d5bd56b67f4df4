"""
The conformance battery (PROTOCOL.md, "On every ASGI server"): the same
over-the-wire tests against daphne, uvicorn, hypercorn and granian, each
started by its plain command on the project's application (and the test-only
routes of tests/support/wire_app.py), with small limits so that each bound
shows within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from comments.models import Post
from tests.support.comments import numbered_comments
from tests.support.live import SERVERS, WIRE_APPLICATION, LiveServer, start_server

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


@pytest.fixture(scope="session", params=SERVERS)
def any_server(request: pytest.FixtureRequest, django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_server(log_dir, request.param, application=WIRE_APPLICATION, env=BATTERY_LIMITS)
    yield server
    server.stop()


@pytest.fixture
def long_post(user: Any) -> Post:
    post = Post.objects.create(title="Long")
    numbered_comments(post, user, LONG_REPLAY, BODY)
    return post
