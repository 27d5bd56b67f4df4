"""Live comments over a real daphne with real clients."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer
from tests.support.presence import receive_presence_state_over_the_wire

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]


def url(server: LiveServer, post: Post | int, token: str, query: str = "") -> str:
    post_id = post if isinstance(post, int) else post.pk
    return f"{server.ws_url}/ws/live-comments/{post_id}?token={token}{query}"


async def next_frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def test_two_clients_see_each_others_comments(
    daphne_server: LiveServer, post: Post, user: Any, other_user: Any
) -> None:
    async with (
        connect(url(daphne_server, post, issue_token(user))) as alice,
        connect(url(daphne_server, post, issue_token(other_user))) as bob,
    ):
        for ws, who in ((alice, user), (bob, other_user)):
            await receive_presence_state_over_the_wire(ws, f"comments:{post.pk}", who)
        await alice.send(json.dumps({"type": "new_comment", "body": "Hi Bob, ça va?", "client_id": "a1"}))
        ack = await next_frame(alice)
        assert ack["type"] == "comment_created"
        assert (await next_frame(alice))["comment"]["body"] == "Hi Bob, ça va?"
        seen_by_bob = await next_frame(bob)
        assert seen_by_bob["comment"] == {**seen_by_bob["comment"], "id": ack["comment_id"], "author": "alice"}

        await bob.send(json.dumps({"type": "new_comment", "body": "Très bien!"}))
        assert (await next_frame(bob))["type"] == "comment_created"
        assert [(await next_frame(bob))["comment"]["body"], (await next_frame(alice))["comment"]["body"]] == [
            "Très bien!",
            "Très bien!",
        ]
    assert [(c.author.username, c.body) async for c in Comment.objects.select_related("author").order_by("id")] == [
        ("alice", "Hi Bob, ça va?"),
        ("bob", "Très bien!"),
    ]


async def test_a_reconnecting_client_gets_what_it_missed_with_since(
    daphne_server: LiveServer, post: Post, user: Any, other_user: Any
) -> None:
    alice_token, bob_token = issue_token(user), issue_token(other_user)
    async with connect(url(daphne_server, post, bob_token)) as bob:
        await receive_presence_state_over_the_wire(bob, f"comments:{post.pk}", other_user)
        await bob.send(json.dumps({"type": "new_comment", "body": "before"}))
        await next_frame(bob)
        last_seen = (await next_frame(bob))["comment"]["id"]
    async with connect(url(daphne_server, post, alice_token)) as alice:
        await receive_presence_state_over_the_wire(alice, f"comments:{post.pk}", user)
        for body in ("missed one", "missed two"):
            await alice.send(json.dumps({"type": "new_comment", "body": body}))
            await next_frame(alice)
            await next_frame(alice)
    async with connect(url(daphne_server, post, bob_token, f"&since={last_seen}")) as bob:
        await receive_presence_state_over_the_wire(bob, f"comments:{post.pk}", other_user)
        assert [(await next_frame(bob))["comment"]["body"] for _ in range(2)] == ["missed one", "missed two"]


async def test_a_post_that_does_not_exist_gets_http_403(daphne_server: LiveServer, user: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(daphne_server, 987654, issue_token(user))):
            pass
    assert refused.value.response.status_code == 403
