"""
Presence on two real daphne processes over Redis (PROTOCOL.md, "Presence and
typing: across processes and crashes"): a user with tabs on both is one user
and leaves with their last tab; the users of a process killed with SIGKILL
leave once its records expire (PRESENCE_TTL); typing crosses processes; a Redis
outage leaves connections open and comments flowing, then presence heals.

Timings are the environment's (a diff every 0.2 s, a TTL of 2 s); the waits
below are guards against a hung test, not measurements (bench/presence.py
measures).
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from comments.models import Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, start_daphne
from tests.support.proxy import TcpProxy, redis_url_via

pytestmark = [pytest.mark.services, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

PRESENCE = {"PRESENCE_INTERVAL": "0.2", "PRESENCE_TTL": "2", "TYPING_INTERVAL": "1"}
GUARD = 15.0


@pytest.fixture
def people(django_user_model: Any) -> dict[str, Any]:
    return {name: django_user_model.objects.create_user(username=name) for name in ("alice", "bob", "carol")}


@pytest.fixture
def servers(django_db_setup: None, log_dir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    pair = (start_daphne(log_dir, env=PRESENCE), start_daphne(log_dir, env=PRESENCE))
    yield pair
    for server in pair:
        server.stop()


def entry(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "username": user.get_username()}


async def frame(ws: ClientConnection) -> dict[str, Any]:
    received: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=GUARD))
    return received


KNOWN: dict[ClientConnection, dict[Any, dict[str, Any]]] = {}


async def follow(server: LiveServer, user: Any, post: Post) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(f"{server.ws_url}/ws/?token={issue_token(user)}")
    await ws.send(json.dumps({"type": "subscribe", "topic": f"comments:{post.pk}"}))
    assert await frame(ws) == {"type": "subscribed", "topic": f"comments:{post.pk}"}
    state = await frame(ws)
    assert state["type"] == "presence_state"
    KNOWN[ws] = {user["id"]: user for user in state["users"]}
    return ws, state


async def presence_until(ws: ClientConnection, users: list[Any]) -> list[dict[str, Any]]:
    """
    The presence frames `ws` gets until the users it knows of (from its state and
    the diffs since) are exactly `users`; they must all be presence frames.
    """
    known = KNOWN[ws]
    got = []
    wanted = sorted(entry(user)["id"] for user in users)
    while sorted(known) != wanted:
        item = await frame(ws)
        assert item["type"] in ("presence_state", "presence_diff"), item
        got.append(item)
        if item["type"] == "presence_state":
            known.clear()
            known.update({user["id"]: user for user in item["users"]})
        for user in item.get("leaves", []):
            known.pop(user["id"])
        for user in item.get("joins", []):
            known[user["id"]] = user
        assert item["count"] == len(known)
    return got


async def test_a_user_on_both_processes_is_one_user_and_leaves_with_the_last_tab(
    servers: tuple[LiveServer, LiveServer], post: Post, people: dict[str, Any]
) -> None:
    first, second = servers
    carol, _ = await follow(first, people["carol"], post)
    tab_on_first, _ = await follow(first, people["alice"], post)
    tab_on_second, state = await follow(second, people["alice"], post)
    assert state == {
        "type": "presence_state",
        "topic": f"comments:{post.pk}",
        "count": 2,
        "users": [entry(people["alice"]), entry(people["carol"])],
    }
    assert await presence_until(carol, [people["carol"], people["alice"]]) == [
        {
            "type": "presence_diff",
            "topic": f"comments:{post.pk}",
            "count": 2,
            "joins": [entry(people["alice"])],
            "leaves": [],
        }
    ]
    await tab_on_first.close()
    bob, _ = await follow(second, people["bob"], post)  # a change after alice's first tab left: the next diff
    diffs = await presence_until(carol, [people["carol"], people["alice"], people["bob"]])
    assert [(d["joins"], d["leaves"]) for d in diffs] == [([entry(people["bob"])], [])]  # alice did not leave
    await tab_on_second.close()
    diffs = await presence_until(carol, [people["carol"], people["bob"]])
    assert [(d["joins"], d["leaves"]) for d in diffs] == [([], [entry(people["alice"])])]
    for ws in (carol, bob):
        await ws.close()


async def test_the_users_of_a_killed_process_leave_once_its_records_expire(
    servers: tuple[LiveServer, LiveServer], post: Post, people: dict[str, Any]
) -> None:
    first, second = servers
    carol, _ = await follow(first, people["carol"], post)
    alice_on_first, _ = await follow(first, people["alice"], post)
    _alice_on_second, _ = await follow(second, people["alice"], post)
    _bob, _ = await follow(second, people["bob"], post)
    await presence_until(carol, [people["alice"], people["bob"], people["carol"]])
    second.process.send_signal(signal.SIGKILL)
    second.process.wait(timeout=10)
    diffs = await presence_until(carol, [people["alice"], people["carol"]])
    assert [(d["joins"], d["leaves"]) for d in diffs] == [([], [entry(people["bob"])])]  # alice is still on the first
    for ws in (carol, alice_on_first):
        await ws.close()


async def test_typing_reaches_the_other_process(
    servers: tuple[LiveServer, LiveServer], post: Post, people: dict[str, Any]
) -> None:
    first, second = servers
    carol, _ = await follow(first, people["carol"], post)
    alice, _ = await follow(second, people["alice"], post)
    await alice.send(json.dumps({"type": "typing", "topic": f"comments:{post.pk}"}))
    while (item := await frame(carol))["type"] != "typing":
        assert item["type"] == "presence_diff"
    assert item == {"type": "typing", "topic": f"comments:{post.pk}", "user": entry(people["alice"])}
    for ws in (carol, alice):
        await ws.close()


@pytest.fixture
def servers_behind_redis_proxy(
    redis_proxy: TcpProxy, django_db_setup: None, log_dir: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {**PRESENCE, "REDIS_URL": redis_url_via(redis_proxy), "FEED_CHECK_INTERVAL": "0.25"}
    pair = (start_daphne(log_dir, env=env), start_daphne(log_dir, env=env))
    yield pair
    for server in pair:
        server.stop()


async def test_a_redis_outage_keeps_connections_and_comments_and_presence_heals(
    servers_behind_redis_proxy: tuple[LiveServer, LiveServer],
    redis_proxy: TcpProxy,
    post: Post,
    people: dict[str, Any],
) -> None:
    first, second = servers_behind_redis_proxy
    topic = f"comments:{post.pk}"
    carol, _ = await follow(first, people["carol"], post)
    alice, _ = await follow(second, people["alice"], post)
    await presence_until(carol, [people["alice"], people["carol"]])

    redis_proxy.cut()
    await alice.close()  # a leave nobody can be told of while Redis is away
    await alice.wait_closed()
    writer = await connect(f"{second.ws_url}/ws/?token={issue_token(people['bob'])}")
    await writer.send(json.dumps({"type": "subscribe", "topic": topic}))
    await writer.send(json.dumps({"type": "new_comment", "topic": topic, "body": "during", "client_id": "d"}))
    answers = [await frame(writer) for _ in range(3)]  # subscribed, a presence_state of its own process, the ack
    assert [a["type"] for a in answers] == ["subscribed", "presence_state", "comment_created"]
    while (item := await frame(carol))["type"] != "comment":  # the feed checks deliver it without Redis
        assert item["type"].startswith("presence_")
    assert item["comment"]["body"] == "during"

    redis_proxy.restore()
    # Healed: a fresh presence_state (or diffs) leading to what is true now: carol and bob.
    await presence_until(carol, [people["carol"], people["bob"]])
    for ws in (carol, writer):
        await ws.close()
    for server in (first, second):
        log = server.log()
        assert "Exception inside application" not in log
        assert "Traceback" not in log  # channels-redis' tracebacks too are one line of the outage
        assert log.count("Presence unavailable") <= 1
