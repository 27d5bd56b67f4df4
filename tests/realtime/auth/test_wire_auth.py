"""Token endpoints over a real daphne: HTTP 403 refusals, subprotocols, pushes, heartbeat and expiry codes, logs."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from realtime.auth.tokens import issue_token
from tests.support.live import LiveServer, start_daphne
from tests.support.tokens import REFUSED_TOKENS, signed

HALF_A_SECOND = 0.5

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]


def presenting(server: LiveServer, token: str, where: str, **kwargs: Any) -> Any:
    url = f"{server.ws_url}/ws/notifications"
    if where == "query":
        return connect(f"{url}?token={token}", **kwargs)
    if where == "header":
        return connect(url, additional_headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return connect(url, subprotocols=[Subprotocol("realtime.v1"), Subprotocol(f"bearer.{token}")], **kwargs)


async def refused_status(server: LiveServer, token: str, where: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with presenting(server, token, where):
            pass
    return int(refused.value.response.status_code)


@pytest.mark.parametrize("where", ["query", "header"])
@pytest.mark.parametrize("make_token", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
async def test_an_unusable_token_gets_http_403(
    daphne_server: LiveServer, user: Any, make_token: Callable[[Any], str], where: str
) -> None:
    assert await refused_status(daphne_server, make_token(user), where) == 403


@pytest.mark.parametrize("where", ["query", "header"])
async def test_an_inactive_users_token_gets_http_403(daphne_server: LiveServer, user: Any, where: str) -> None:
    token = issue_token(user)
    user.is_active = False
    await user.asave(update_fields=["is_active"])
    assert await refused_status(daphne_server, token, where) == 403


async def test_no_token_gets_http_403(daphne_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{daphne_server.ws_url}/ws/notifications"):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(("where", "subprotocol"), [("query", None), ("header", None), ("subprotocol", "realtime.v1")])
async def test_a_valid_token_connects_from_every_place(
    daphne_server: LiveServer, token: str, where: str, subprotocol: str | None
) -> None:
    async with presenting(daphne_server, token, where) as ws:
        assert ws.subprotocol == subprotocol
        await ws.send('{"type": "ping"}')
        assert await ws.recv() == '{"type":"pong"}'


async def test_the_handshake_never_echoes_the_token(daphne_server: LiveServer, token: str) -> None:
    async with presenting(daphne_server, token, "subprotocol") as ws:
        assert ws.response is not None
        assert ws.response.headers.get_all("Sec-WebSocket-Protocol") == ["realtime.v1"]
        assert token not in str(ws.response.headers)


async def test_manage_py_notify_reaches_an_open_connection(daphne_server: LiveServer, token: str) -> None:
    """The command runs in this process: another process than daphne's, whose in-memory layer it cannot reach."""

    def notify_from_the_shell() -> None:
        try:
            call_command("notify", "alice", "hello from the shell", stdout=io.StringIO())
        finally:
            connections.close_all()

    async with presenting(daphne_server, token, "query") as ws:
        await asyncio.to_thread(notify_from_the_shell)
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
    assert (frame["type"], frame["payload"]) == ("notification", {"text": "hello from the shell"})


# --- Heartbeat and expiry over the wire -------------------------------------------


@pytest.fixture(scope="module")
def observed_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    """
    A heartbeat every 0.3 s, and daphne at its most verbose (-v 2: DEBUG for
    every logger) with the access log on: the heartbeat tests run here, and the
    log test reads all they and it made the server write.
    """
    server = start_daphne(
        log_dir,
        args=("-v", "2", "--access-log", "-"),
        env={"HEARTBEAT_INTERVAL": "0.3", "HEARTBEAT_TIMEOUT": "0.3", "DJANGO_LOG_LEVEL": "DEBUG"},
    )
    yield server
    server.stop()


async def test_a_silent_client_is_closed_with_4408(observed_server: LiveServer, token: str) -> None:
    async with presenting(observed_server, token, "query") as ws:
        assert json.loads(await ws.recv()) == {"type": "ping"}
        code = await closed_with(ws)
    assert code == 4408


async def test_a_client_answering_pings_stays_open(observed_server: LiveServer, token: str) -> None:
    async with presenting(observed_server, token, "query") as ws:
        for _ in range(2):
            assert json.loads(await ws.recv()) == {"type": "ping"}
            await ws.send('{"type": "pong"}')
        await ws.send('{"type": "ping"}')
        while (frame := json.loads(await ws.recv())) == {"type": "ping"}:
            await ws.send('{"type": "pong"}')
        assert frame == {"type": "pong"}


async def test_an_expired_token_closes_the_connection_with_4401(daphne_server: LiveServer, user: Any) -> None:
    # A NumericDate may have a fraction (RFC 7519): this token is valid for half a second.
    token = signed(sub=str(user.pk), exp=time.time() + HALF_A_SECOND)
    async with presenting(daphne_server, token, "query") as ws:
        assert await closed_with(ws) == 4401


async def closed_with(ws: ClientConnection) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


# --- Tokens never reach a log line ------------------------------------------------


async def test_no_token_reaches_any_log_line(observed_server: LiveServer, user: Any, other_user: Any) -> None:
    valid, for_inactive_soon = issue_token(user), issue_token(other_user)
    expired = issue_token(user, ttl=timedelta(seconds=-10))
    for where in ("query", "header", "subprotocol"):
        async with presenting(observed_server, valid, where) as ws:
            await ws.send(json.dumps({"type": "refresh", "token": valid}))
            await ws.recv()
            await ws.send(json.dumps({"type": "refresh", "token": expired}))
            await ws.recv()
        await refused_status(observed_server, expired, where)
        await refused_status(observed_server, valid + "tampered", where)
    other_user.is_active = False
    await other_user.asave(update_fields=["is_active"])
    await refused_status(observed_server, for_inactive_soon, "query")
    for path in (f"/ws/notifications?token={valid}", f"/admin/login/?token={valid}&next=/"):
        await asyncio.to_thread(_http_get, f"{observed_server.http_url}{path}")
    await asyncio.sleep(0.5)
    log = observed_server.log()
    assert "WSCONNECT /ws/notifications" in log  # the access log is there, at debug level
    for token in (valid, for_inactive_soon, expired):
        signature = token.rsplit(".", 1)[1]
        assert signature not in log


def _http_get(url: str) -> None:
    with contextlib.suppress(OSError):  # an HTTP error status is fine: only the log matters
        urllib.request.urlopen(url, timeout=5).read()
