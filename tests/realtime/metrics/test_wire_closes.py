"""
Closes counted by who sent them, over the wire (PROTOCOL.md, "Observing it"):
clients choose their own close codes, so a client's 1011 is not the server's
crash, and the alert on the server's 1011 cannot be raised from outside.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from tests.support.live import LiveServer
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

ECHO = {"endpoint": "/ws/echo"}
CLIENTS = 5


async def closes(server: LiveServer, code: str, by: str) -> float:
    samples = await asyncio.to_thread(scrape, server)
    return value(samples, "realtime_closes_total", {**ECHO, "code": code, "by": by})


async def until_counted(server: LiveServer, code: str, by: str, expected: float) -> float:
    """The counter once the server has seen every close (each arrives a moment after the client's frame)."""
    for _ in range(100):
        found = await closes(server, code, by)
        if found >= expected:
            return found
        await asyncio.sleep(0.05)
    return await closes(server, code, by)


async def test_anonymous_clients_closing_with_1011_raise_the_clients_count_not_the_servers(
    daphne_server: LiveServer,
) -> None:
    by_server, by_client = await closes(daphne_server, "1011", "server"), await closes(daphne_server, "1011", "client")
    for number in range(CLIENTS):
        async with connect(f"{daphne_server.ws_url}/ws/echo") as ws:
            await ws.send(f"hello {number}")
            assert await ws.recv() == f"Echo: hello {number}"
            await ws.close(code=1011, reason="the client says it crashed")

    assert await until_counted(daphne_server, "1011", "client", by_client + CLIENTS) == by_client + CLIENTS
    assert await closes(daphne_server, "1011", "server") == by_server
