"""
Server-Sent Events through deploy/'s nginx, in front of two daphne processes on
PostgreSQL and Redis: the stream's events reach the client as they happen (nginx
buffers none of them), and a message POSTed to the stream is taken by the stream's
process when nginx hands the POST to the other one (it balances by connections: the
stream's process has one more).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from comments.models import Post
from realtime.auth.tokens import issue_token
from tests.support import sse
from tests.support.live import LiveServer, free_port, start_daphne
from tests.support.nginx import Nginx, start_nginx
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.services, pytest.mark.nginx, pytest.mark.django_db(transaction=True)]

SERVER_ENV = {"TRUSTED_PROXIES": "127.0.0.1", "DJANGO_SERVE_STATIC": "off"}
POSTS = 6
SSE = {"endpoint": "/realtime/sse"}


@pytest.fixture
def deployment(log_dir: Path, tmp_path: Path) -> Iterator[tuple[Nginx, list[LiveServer]]]:
    servers = [start_daphne(log_dir, env=SERVER_ENV), start_daphne(log_dir, env=SERVER_ENV)]
    proxy = start_nginx(tmp_path / "nginx", upstreams=[s.port for s in servers], port=free_port(), static_root=tmp_path)
    yield proxy, servers
    proxy.stop()
    for server in servers:
        server.stop()


async def test_a_stream_through_nginx_gets_each_event_as_it_happens_and_posts_reach_it_from_any_process(
    deployment: tuple[Nginx, list[LiveServer]], post: Post, user: Any
) -> None:
    proxy, servers = deployment
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    topic = f"comments:{post.pk}"
    stream = await sse.open_stream("127.0.0.1", proxy.port, f"/realtime/sse?topic={topic}", headers)
    assert stream.status == 200
    name = (await stream.next_event()).frame["stream"]  # type: ignore[union-attr]
    await stream.frames_until("presence_state")
    for number in range(POSTS):
        message = {"type": "new_comment", "topic": topic, "body": f"#{number}", "client_id": f"c{number}"}
        status, _ = await asyncio.to_thread(sse.post, f"{proxy.http_url}/realtime/sse/{name}", message, headers)
        assert status == 202
        # Each comment arrives while the stream is open, before the next is written: nothing waits in a buffer.
        frames = await stream.frames_until("comment", wait=5)
        assert [f["type"] for f in frames if f["type"] != "presence_diff"] == ["comment_created", "comment"]
        assert frames[-1]["comment"]["body"] == f"#{number}"
    streams = [value(await asyncio.to_thread(scrape, server), "realtime_connections", SSE) for server in servers]
    stream.close()
    assert sorted(streams) == [0, 1]
    other = servers[streams.index(0)]
    assert "POST /realtime/sse/" in other.log(), "nginx gave every POST to the stream's own process: nothing proven"
