"""
SIGTERM to daphne under load: every acknowledged comment is stored, every client
gets a close it can act on (4012), and reconnecting with `since` loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import start_daphne

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

WRITERS = 5


ACKED_BEFORE_SIGTERM = 30


async def write_until_closed(
    ws: ClientConnection, writer: int, acked: dict[str, int], under_load: asyncio.Event
) -> tuple[int, str | None]:
    """Write comments, each after the ack of the last, until the server closes; its close code and the unacked one."""
    number = 0
    pending: str | None = None
    try:
        while True:
            pending = f"{writer}-{number}"
            await ws.send(json.dumps({"type": "new_comment", "body": f"comment {pending}", "client_id": pending}))
            while (frame := json.loads(await ws.recv()))["type"] != "comment_created":
                pass
            acked[frame["client_id"]] = frame["comment_id"]
            if len(acked) >= ACKED_BEFORE_SIGTERM:
                under_load.set()
            pending = None
            number += 1
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else 1006), pending


async def watch_until_closed(ws: ClientConnection, seen: list[int]) -> int:
    try:
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "comment":
                seen.append(frame["comment"]["id"])
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


async def test_a_restart_under_load_loses_nothing(
    django_db_setup: None, log_dir: Path, post: Post, django_user_model: Any
) -> None:
    users = [await django_user_model.objects.acreate(username=f"writer{n}") for n in range(WRITERS + 1)]
    tokens = [issue_token(user) for user in users]
    server = start_daphne(log_dir)
    url = f"{server.ws_url}/ws/live-comments/{post.pk}?token="
    acked: dict[str, int] = {}
    seen: list[int] = []
    writers = [await connect(url + token) for token in tokens[:WRITERS]]
    watcher = await connect(url + tokens[WRITERS])
    under_load = asyncio.Event()
    tasks = [asyncio.create_task(write_until_closed(ws, n, acked, under_load)) for n, ws in enumerate(writers)]
    watching = asyncio.create_task(watch_until_closed(watcher, seen))
    await asyncio.wait_for(under_load.wait(), timeout=20)
    server.process.send_signal(signal.SIGTERM)  # under load
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
    watcher_close = await asyncio.wait_for(watching, timeout=20)
    server.process.wait(timeout=20)

    assert [code for code, _ in outcomes] == [4012] * WRITERS
    assert watcher_close == 4012
    stored = {c.client_id: c.pk async for c in Comment.objects.filter(post=post)}
    assert {client_id: stored.get(client_id) for client_id in acked} == acked  # every ack is in the database

    restarted = start_daphne(log_dir)
    try:
        url = f"{restarted.ws_url}/ws/live-comments/{post.pk}?token="
        for (_, pending), token in zip(outcomes, tokens, strict=False):  # a write cut off retries, same client_id
            if pending is not None:
                async with connect(url + token) as ws:
                    await ws.send(json.dumps({"type": "new_comment", "body": "again", "client_id": pending}))
                    while json.loads(await ws.recv())["type"] != "comment_created":
                        pass
        last_seen = seen[-1] if seen else 0
        expected = [c async for c in Comment.objects.filter(post=post).order_by("id").values_list("id", flat=True)]
        async with connect(f"{url}{tokens[WRITERS]}&since={last_seen}") as again:
            while len(seen) < len(expected):
                frame = json.loads(await asyncio.wait_for(again.recv(), timeout=10))
                if frame["type"] == "comment":
                    seen.append(frame["comment"]["id"])
        assert seen == expected  # nothing lost, nothing twice, in order
        assert await Comment.objects.filter(post=post).acount() == len(set(acked) | {p for _, p in outcomes if p})
    finally:
        restarted.stop()
    assert "Exception inside application" not in server.log()


async def closed_with(ws: ClientConnection) -> int:
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006


IDLE_PATHS = ["/ws/echo", "/ws/notifications?token={token}", "/ws/?token={token}"]


@pytest.mark.parametrize("plain", [True, False], ids=["plain-daphne", "manage-py-serve"])
async def test_sigterm_closes_idle_connections_with_4012(
    log_dir: Path, post: Post, user: Any, token: str, plain: bool
) -> None:
    server = start_daphne(log_dir, plain=plain)
    # Idle, and the only connections daphne knows: start_daphne saw it listening without connecting (a
    # connection with no application, kept by daphne until its housekeeping a second later, made daphne
    # 4.2.3's own shutdown step fail with a KeyError, and so hid the 1006 it gives every open connection).
    idle = [await connect(f"{server.ws_url}{path.format(token=token)}") for path in IDLE_PATHS]
    server.process.send_signal(signal.SIGTERM)
    codes = await asyncio.wait_for(asyncio.gather(*(closed_with(ws) for ws in idle)), timeout=15)
    server.process.wait(timeout=10)

    assert codes == [4012, 4012, 4012]
    assert "Exception inside application" not in server.log()
