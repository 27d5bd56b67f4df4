"""
Server-Sent Events over the wire, on every server (PROTOCOL.md, "Server-Sent
Events: when WebSockets are blocked"): the same frames as `/ws/`, the `connected`
and `close` events, POSTed messages answered on the stream, the `id:` cursor that
resumes every topic, session and bearer authentication, CSRF, heartbeat comments,
and a client that reads nothing given up.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from websockets.asyncio.client import connect

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.servers.conftest import BATTERY_LIMITS
from tests.support import sse
from tests.support.live import LiveServer, shift_clock
from tests.support.scrape import scrape, value
from tests.support.tokens import signed

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

INTERVAL = float(BATTERY_LIMITS["HEARTBEAT_INTERVAL"])
PATIENCE = INTERVAL + float(BATTERY_LIMITS["HEARTBEAT_TIMEOUT"])


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user)}"}


async def opened(server: LiveServer, query: str, headers: dict[str, str], **options: Any) -> sse.Stream:
    stream = await sse.open_stream(server.host, server.port, f"/realtime/sse{query}", headers, **options)
    assert stream.status == 200, stream.body
    assert (stream.headers["content-type"], stream.headers["cache-control"]) == ("text/event-stream", "no-store")
    return stream


async def post_to(server: LiveServer, name: str, message: dict[str, Any], headers: dict[str, str]) -> tuple[int, bytes]:
    return await asyncio.to_thread(sse.post, f"{server.http_url}/realtime/sse/{name}", message, headers)


def without_presence(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] not in ("presence_state", "presence_diff")]


async def test_a_stream_carries_the_frames_of_ws_and_answers_posted_messages_on_it(
    any_server: LiveServer, post: Post, user: Any
) -> None:
    topic = f"comments:{post.pk}"
    stream = await opened(any_server, f"?topic={topic}", bearer(user))
    connected = await stream.next_event()
    assert connected is not None
    assert (connected.frame["type"], connected.id) == ("connected", None)
    assert connected.retry == 1000 * float(BATTERY_LIMITS["SSE_RETRY"])  # SSE_RETRY, for EventSource's reconnect
    subscribed = await stream.next_event()
    assert subscribed is not None
    assert subscribed.frame == {"type": "subscribed", "topic": topic}
    assert subscribed.id is not None  # a topic with stored entries: its position
    assert (await stream.next_event()).frame["type"] == "presence_state"  # type: ignore[union-attr]

    message = {"type": "new_comment", "topic": topic, "body": "over SSE", "client_id": "sse-1", "ref": "r1"}
    assert await post_to(any_server, connected.frame["stream"], message, bearer(user)) == (202, b"")
    frames = without_presence(await stream.frames_until("comment"))
    stream.close()
    stored = await Comment.objects.aget(client_id="sse-1")
    assert frames == [
        {"type": "comment_created", "comment_id": stored.pk, "client_id": "sse-1", "topic": topic, "ref": "r1"},
        {
            "type": "comment",
            "comment": {
                "id": stored.pk,
                "post_id": post.pk,
                "author": user.get_username(),
                "body": "over SSE",
                "created_at": stored.created_at.isoformat(),
            },
            "topic": topic,
        },
    ]


async def test_the_cursor_resumes_every_topic_with_nothing_lost_and_nothing_twice(
    any_server: LiveServer, post: Post, user: Any, other_user: Any
) -> None:
    topic = f"comments:{post.pk}"
    first = await Comment.objects.acreate(post=post, author=other_user, body="before", seq=1)
    await Post.objects.filter(pk=post.pk).aupdate(last_comment_seq=1)
    stream = await opened(any_server, f"?topic={topic}", bearer(user))
    await stream.frames_until("presence_state")
    cursor = stream.last_event_id
    stream.close()
    missed = await Comment.objects.acreate(post=post, author=other_user, body="while away", seq=2)
    await Post.objects.filter(pk=post.pk).aupdate(last_comment_seq=2)

    again = await opened(any_server, "", {**bearer(user), "Last-Event-ID": cursor or ""})  # no topic in the URL
    frames = without_presence(await again.frames_until("replay_complete"))
    again.close()
    assert [frame["type"] for frame in frames] == ["connected", "subscribed", "comment", "replay_complete"]
    assert frames[2]["comment"]["id"] == missed.pk != first.pk
    assert frames[3] == {"type": "replay_complete", "topic": topic, "last_id": missed.pk, "truncated": False}


async def test_without_credentials_a_stream_is_refused_with_401(any_server: LiveServer) -> None:
    stream = await sse.open_stream(any_server.host, any_server.port, "/realtime/sse?topic=notifications")
    stream.close()
    assert stream.status == 401
    assert b'"error":"login_required"' in stream.body


async def test_a_stream_that_is_another_users_or_none_is_404(
    any_server: LiveServer, user: Any, other_user: Any
) -> None:
    stream = await opened(any_server, "?topic=notifications", bearer(user))
    name = (await stream.next_event()).frame["stream"]  # type: ignore[union-attr]
    ping = {"type": "ping"}
    assert (await post_to(any_server, name, ping, bearer(other_user)))[0] == 404
    assert (await post_to(any_server, name + "x", ping, bearer(user)))[0] == 404
    assert (await post_to(any_server, name, ping, bearer(user))) == (202, b"")
    assert (await stream.frames_until("pong"))[-1] == {"type": "pong"}
    stream.close()


async def test_a_token_that_expires_ends_the_stream_with_a_close_event(any_server: LiveServer, user: Any) -> None:
    token = signed(sub=str(user.pk), exp=time.time() + 1.5)
    stream = await opened(any_server, "?topic=notifications", {"Authorization": f"Bearer {token}"})
    frames = await stream.frames_until("close")
    assert frames[-1] == {"type": "close", "code": 4401, "reason": ""}
    assert await stream.next_event() is None  # the response ended
    stream.close()


async def test_an_idle_stream_gets_a_heartbeat_comment_and_stays_open(any_server: LiveServer, user: Any) -> None:
    """
    `: ping` every HEARTBEAT_INTERVAL (2 s here); a stream cannot answer it and is not closed for that.
    The server's monotonic clock moves on a quarter of an interval at each look instead of waiting.
    """
    await asyncio.to_thread(shift_clock, any_server, 0, wall=False)  # the stream's timers on a clock we move
    stream = await opened(any_server, "?topic=notifications", bearer(user))
    name = (await stream.next_event()).frame["stream"]  # type: ignore[union-attr]
    for _ in range(40):  # two heartbeats at most, each checked by a round trip that reads the stream up to it
        await asyncio.to_thread(shift_clock, any_server, INTERVAL / 4, wall=False)
        assert await post_to(any_server, name, {"type": "ping"}, bearer(user)) == (202, b"")
        assert without_presence(await stream.frames_until("pong"))[-1] == {"type": "pong"}
        if len(stream.comments) >= 2:
            break
    assert stream.comments[:2] == ["ping", "ping"]
    stream.close()


@pytest.fixture
def session(user: Any) -> tuple[str, str]:
    """A signed-in session of `user`, and a CSRF token: (sessionid, csrftoken)."""
    from django.middleware.csrf import _get_new_csrf_string

    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    assert store.session_key is not None
    return store.session_key, _get_new_csrf_string()


async def test_a_signed_in_browser_streams_with_its_session_and_posts_with_its_csrf_token(
    any_server: LiveServer, session: tuple[str, str]
) -> None:
    sessionid, csrf = session
    cookie = {"Cookie": f"sessionid={sessionid}; csrftoken={csrf}"}
    stream = await opened(any_server, "?topic=notifications", cookie)
    name = (await stream.next_event()).frame["stream"]  # type: ignore[union-attr]
    assert (await post_to(any_server, name, {"type": "ping"}, cookie))[0] == 403  # no CSRF token
    assert await post_to(any_server, name, {"type": "ping"}, {**cookie, "X-CSRFToken": csrf}) == (202, b"")
    assert (await stream.frames_until("pong"))[-1] == {"type": "pong"}
    stream.close()


async def test_a_stream_from_another_sites_page_is_refused_with_403(
    any_server: LiveServer, session: tuple[str, str]
) -> None:
    sessionid, _ = session
    headers = {"Cookie": f"sessionid={sessionid}", "Origin": "https://elsewhere.example"}
    stream = await sse.open_stream(any_server.host, any_server.port, "/realtime/sse?topic=notifications", headers)
    stream.close()
    assert (stream.status, json.loads(stream.body)["error"]) == (403, "forbidden")


async def test_a_session_stream_is_opened_by_eventsource_alone(
    any_server: LiveServer, session: tuple[str, str]
) -> None:
    """An <img> or <script> of a page of the same site sends the cookie and no Origin: refused with 403."""
    sessionid, _ = session
    for accept in ("image/avif,image/webp,*/*", "*/*"):
        stream = await sse.open_stream(
            any_server.host,
            any_server.port,
            "/realtime/sse?topic=notifications",
            {"Cookie": f"sessionid={sessionid}", "Accept": accept},
        )
        stream.close()
        assert (stream.status, json.loads(stream.body)["error"]) == (403, "forbidden")


async def test_a_stream_counts_as_a_connection_and_one_over_the_users_cap_is_refused_with_429(
    any_server: LiveServer, user: Any
) -> None:
    cap = 20  # MAX_CONNECTIONS_PER_USER's default
    streams = [await opened(any_server, "?topic=notifications", bearer(user)) for _ in range(cap - 1)]
    async with connect(f"{any_server.ws_url}/ws/?token={issue_token(user)}"):  # the 20th
        refused = await sse.open_stream(
            any_server.host, any_server.port, "/realtime/sse?topic=notifications", bearer(user)
        )
        refused.close()
    assert (refused.status, json.loads(refused.body)) == (
        429,
        {"error": "rate_limited", "code": 4429, "message": "Too many connections."},
    )
    for stream in streams:
        stream.close()


async def test_a_stream_that_reads_nothing_is_given_up_and_stops_counting(
    any_server: LiveServer, long_post: Post, user: Any
) -> None:
    endpoint = {"endpoint": "/realtime/sse"}
    await asyncio.to_thread(shift_clock, any_server, 0, wall=False)  # the stream's timers on a clock we move
    before = value(await asyncio.to_thread(scrape, any_server), "realtime_connections", endpoint)
    stream = await sse.open_stream(
        any_server.host,
        any_server.port,
        f"/realtime/sse?topic=comments:{long_post.pk}",
        {**bearer(user), "Last-Event-ID": _from_the_start(long_post)},
        receive_buffer=4096,
    )
    assert stream.status == 200
    counted = []
    for _ in range(80):  # it reads nothing of its replay: given up after a heartbeat's patience (3 s)
        counted.append(value(await asyncio.to_thread(scrape, any_server), "realtime_connections", endpoint))
        if counted[-1] == before and len(counted) > 1:
            break
        await asyncio.sleep(0.05)
        # The server's patience passes a quarter at a time, without waiting (its monotonic clock only).
        await asyncio.to_thread(shift_clock, any_server, PATIENCE / 4, wall=False)
    stream.close()
    assert counted[0] == before + 1
    assert counted[-1] == before, f"still counted: {counted}"


def _from_the_start(post: Post) -> str:
    """A cursor that resumes `post`'s comments from before the first."""
    from realtime.sse import cursor

    return cursor.encode({f"comments:{post.pk}": ("i", 0)})
