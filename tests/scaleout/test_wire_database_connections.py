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
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from comments.models import Comment, Post
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


# --- A response waiting for its client holds no database connection ----------------------------------

LONG_BODY = "x" * 4000
PAGE_REQUESTS = 12  # pipelined per socket: more than the kernel's buffers hold (pages of 256 KiB)
STALLED_SOCKETS = 4


@pytest.fixture
def small_pool_server(log_dir: Path) -> Iterator[LiveServer]:
    env = {"DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_TIMEOUT": "3", "HTTP_SEND_TIMEOUT": "60"}
    live = start_daphne(log_dir, env=env, plain=True)
    yield live
    live.stop()


@pytest.fixture
def session_cookie(user: Any) -> str:
    """The session cookie of `user`, signed in."""
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    assert store.session_key is not None
    return store.session_key


def stalled_pages(server: LiveServer, path: str, cookie: str) -> socket.socket:
    """A signed-in client (its session read from the database) that pipelines long history pages, reading nothing."""
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.connect((server.host, server.port))
    request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: sessionid={cookie}\r\n\r\n"
    connection.sendall(request.encode() * PAGE_REQUESTS)
    return connection


@pytest.fixture
def long_post(user: Any) -> Post:
    post = Post.objects.create(title="Long")
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(post=post, author=user, body=f"{n} {LONG_BODY}", seq=n, created_at=now) for n in range(1, 501)
    )
    Post.objects.filter(pk=post.pk).update(last_comment_seq=500)
    return post


async def test_responses_waiting_for_clients_that_read_nothing_hold_no_database_connection(
    small_pool_server: LiveServer, long_post: Post, session_cookie: str, other_user: Any
) -> None:
    post = long_post
    path = f"/realtime/history/comments/{post.pk}?limit=500"
    stalled = [stalled_pages(small_pool_server, path, session_cookie) for _ in range(STALLED_SOCKETS)]
    await asyncio.sleep(2)  # each has its first pages in the kernel's buffers and waits on the next

    bearer = {"Authorization": f"Bearer {issue_token(other_user)}"}
    answers = [
        await asyncio.to_thread(get, f"{small_pool_server.http_url}{path[:-9]}?limit=1", bearer) for _ in range(3)
    ]
    ready = await asyncio.to_thread(get, f"{small_pool_server.http_url}/readyz")
    samples = await asyncio.to_thread(scrape, small_pool_server)
    for connection in stalled:
        connection.close()

    assert [answer.status for answer in answers] == [200, 200, 200]
    assert ready.status == 200
    assert small_pool_server.log().count(f"GET {path}") < STALLED_SOCKETS * PAGE_REQUESTS  # some do wait
    assert value(samples, "realtime_database_connections", {"database": "default", "state": "in_use"}) == 0
