"""
A password change ends every token the secret signs, over the wire
(PROTOCOL.md, "Secrets and revocation"): those minted elsewhere, without the
library's password fingerprint, too. The password changes in this test
process (another process than the server's): the server learns it from the
database, at the next handshake and within REVOCATION_CHECK_INTERVAL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.live import LiveServer, start_daphne
from tests.support.tokens import in_seconds, signed

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

CHECK_INTERVAL = "0.2"


@pytest.fixture(scope="module")
def revoking_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(log_dir, env={"REVOCATION_CHECK_INTERVAL": CHECK_INTERVAL}, plain=True)
    yield server
    server.stop()


def minted_elsewhere(user: Any, *, iat: int | None) -> str:
    claims: dict[str, Any] = {"sub": str(user.pk), "exp": in_seconds(60)}
    if iat is not None:
        claims["iat"] = iat
    return signed(**claims)


@pytest.mark.parametrize("iat", ["older", "missing"])
async def test_a_password_change_closes_and_then_refuses_a_token_minted_elsewhere(
    revoking_server: LiveServer, user: Any, iat: str
) -> None:
    token = minted_elsewhere(user, iat=int(time.time()) - 5 if iat == "older" else None)
    url = f"{revoking_server.ws_url}/ws/notifications?token={token}"
    async with connect(url) as ws:
        await ws.send('{"type": "ping"}')
        assert await ws.recv() == '{"type":"pong"}'
        user.set_password("a new password")
        await user.asave()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401

    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    assert refused.value.response.status_code == 403
