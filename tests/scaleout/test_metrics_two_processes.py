"""
Two daphne processes on PostgreSQL and Redis, each scraped on its own port (docs/how-to/observe.md:
one target per process): the figures summed over both are exactly
what the clients did.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from comments.models import Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, start_daphne
from tests.support.scrape import scrape, total

pytestmark = [pytest.mark.services, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

ECHOES = (3, 2)  # /ws/echo connections on each process
MESSAGES_PER_ECHO = 4
WATCHERS = (2, 1)  # /ws/live-comments watchers on each process
COMMENTS = 3
ECHO = {"endpoint": "/ws/echo"}
COMMENTS_ENDPOINT = {"endpoint": "/ws/live-comments/<post_id>"}


@pytest.fixture
def servers(log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    pair = (start_daphne(log_dir), start_daphne(log_dir))
    yield pair
    for server in pair:
        server.stop()


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    return frame


async def test_the_figures_of_two_processes_add_up_to_what_the_clients_did(
    servers: tuple[LiveServer, LiveServer], post: Post, django_user_model: Any
) -> None:
    token = issue_token(await django_user_model.objects.acreate(username="watcher"))
    echoes = [
        await connect(f"{server.ws_url}/ws/echo") for server, n in zip(servers, ECHOES, strict=True) for _ in range(n)
    ]
    watchers = [
        await connect(f"{server.ws_url}/ws/live-comments/{post.pk}?token={token}")
        for server, n in zip(servers, WATCHERS, strict=True)
        for _ in range(n)
    ]
    for ws in echoes:
        for n in range(MESSAGES_PER_ECHO):
            await ws.send(f"m{n}")
            assert await ws.recv() == f"Echo: m{n}"
    writer = watchers[0]
    for n in range(COMMENTS):
        await writer.send(json.dumps({"type": "new_comment", "body": f"c{n}", "client_id": f"c{n}"}))
    for ws in watchers:
        comments = 0
        while comments < COMMENTS:
            comments += (await next_frame(ws))["type"] == "comment"

    open_now = [scrape(server) for server in servers]
    for ws in [*echoes, *watchers]:
        await ws.close()
    after = [scrape(server) for server in servers]
    async with asyncio.timeout(10):  # the servers learn of the closes as their packets arrive
        while total(after, "realtime_connections", ECHO) + total(after, "realtime_connections", COMMENTS_ENDPOINT):
            await asyncio.sleep(0.05)
            after = [scrape(server) for server in servers]

    connections = sum(ECHOES) + sum(WATCHERS)
    assert [total(open_now, "realtime_connections", labels) for labels in (ECHO, COMMENTS_ENDPOINT)] == [
        sum(ECHOES),
        sum(WATCHERS),
    ]
    assert [
        total(after, "realtime_handshakes_total", {**labels, "outcome": "accepted"})
        for labels in (ECHO, COMMENTS_ENDPOINT)
    ] == [sum(ECHOES), sum(WATCHERS)]
    assert total(after, "realtime_messages_received_total", ECHO) == sum(ECHOES) * MESSAGES_PER_ECHO
    assert total(after, "realtime_messages_sent_total", ECHO) == sum(ECHOES) * MESSAGES_PER_ECHO
    assert total(after, "realtime_messages_received_total", COMMENTS_ENDPOINT) == COMMENTS
    assert total(after, "realtime_delivery_seconds_count", {"kind": "comments"}) == sum(WATCHERS) * COMMENTS
    assert (
        sum(
            total(after, "realtime_closes_total", {**labels, "code": "1000", "by": "client"})
            for labels in (ECHO, COMMENTS_ENDPOINT)
        )
        == connections
    )
