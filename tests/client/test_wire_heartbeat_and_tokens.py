"""
`RealtimeClient` keeps its connection: it answers the server's heartbeat pings
and refreshes a token it can renew before the server's expiry (PROTOCOL.md,
"Heartbeat", "Authentication"); with a string token, a 4401 ends it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import connect

from realtime.auth.tokens import issue_token
from realtime.client import ClientState, HandshakeRefused, RealtimeClient, TokenExpired, token_times
from tests.client.conftest import BRISK
from tests.client.helpers import WAIT, ws_url
from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

SHORT_TTL = timedelta(seconds=2)
# Long enough for several heartbeats, each given up without a pong after HEARTBEAT_TIMEOUT.
HEARTBEATS = 5 * (float(BRISK["HEARTBEAT_INTERVAL"]) + float(BRISK["HEARTBEAT_TIMEOUT"]))


async def test_a_connection_that_answers_no_ping_is_closed_with_4408(brisk_server: LiveServer, user: Any) -> None:
    """What the client's pongs prevent: the server gives a silent connection up."""
    async with connect(ws_url(brisk_server), additional_headers={"Authorization": f"Bearer {issue_token(user)}"}) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"type": "ping"}
        await asyncio.wait_for(ws.wait_closed(), WAIT)
    assert ws.close_code == 4408


async def test_the_client_answers_pings_and_keeps_its_connection(brisk_server: LiveServer, user: Any) -> None:
    async with RealtimeClient(ws_url(brisk_server), token=issue_token(user)) as client:
        await client.subscribe("notifications")
        await asyncio.sleep(HEARTBEATS)
        assert (client.state, client.connections) == (ClientState.CONNECTED, 1)


async def test_a_token_callable_is_refreshed_before_the_server_would_close_with_4401(
    brisk_server: LiveServer, user: Any
) -> None:
    issued: list[str] = []

    def fresh_token() -> str:
        issued.append(issue_token(user, ttl=SHORT_TTL))
        return issued[-1]

    async with RealtimeClient(ws_url(brisk_server), token=fresh_token) as client:
        await client.subscribe("notifications")
        first_expiry = token_times(issued[0]).expires_at
        assert first_expiry is not None
        await asyncio.sleep(first_expiry - time.time() + 0.5)
        assert (client.state, client.connections) == (ClientState.CONNECTED, 1)
    assert len(issued) >= 2


async def test_a_string_token_that_expires_ends_the_subscription_with_token_expired(
    brisk_server: LiveServer, user: Any
) -> None:
    async with RealtimeClient(ws_url(brisk_server), token=issue_token(user, ttl=SHORT_TTL)) as client:
        subscription = await client.subscribe("notifications")

        async def follow() -> None:
            async for _ in subscription:
                pass

        with pytest.raises(TokenExpired):
            await asyncio.wait_for(follow(), WAIT)
        assert (client.state, client.connections) == (ClientState.FAILED, 1)


async def test_a_first_connect_the_server_refuses_raises_handshake_refused(brisk_server: LiveServer) -> None:
    client = RealtimeClient(ws_url(brisk_server), token="not-a-jwt")
    with pytest.raises(HandshakeRefused) as refused:
        await client.connect()
    assert (refused.value.status, client.state) == (403, ClientState.FAILED)
