"""
Browsers from other sites are refused on every endpoint, before anything of the
connection runs, even when they carry a valid token (PROTOCOL.md, "Operating it").
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from comments.models import Post
from project.asgi import application
from tests.support.live import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)

FOREIGN_ORIGINS = [b"http://evil.example", b"null", b"http://localhost.evil.example", b"http://[::1"]
ENDPOINTS = ["echo", "json", "notifications", "live-comments"]
PROBES = {
    "echo": ("hi", "Echo: hi"),
    "json": ("[1]", '{"received":[1],"status":"ok"}'),
    "notifications": ('{"type": "ping"}', '{"type":"pong"}'),
    "live-comments": ('{"type": "ping"}', '{"type":"pong"}'),
}


def path_for(endpoint: str, token: str, post: Post) -> str:
    return {
        "echo": "/ws/echo",
        "json": "/ws/json",
        "notifications": f"/ws/notifications?token={token}",
        "live-comments": f"/ws/live-comments/{post.pk}?token={token}",
    }[endpoint]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS, ids=["other-site", "null", "suffix-trick", "unparsable"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_foreign_origin_is_refused_with_1008_before_the_token_is_read(
    endpoint: str, origin: bytes, token: str, post: Post
) -> None:
    communicator = WebsocketCommunicator(application, path_for(endpoint, token, post), headers=[(b"origin", origin)])
    with mock.patch("realtime.auth.middleware.authenticate") as authenticate:
        assert await communicator.connect() == (False, 1008)
    authenticate.assert_not_called()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_sites_own_origin_is_accepted(endpoint: str, token: str, post: Post) -> None:
    headers = [(b"origin", b"http://localhost:8000")]
    communicator = WebsocketCommunicator(application, path_for(endpoint, token, post), headers=headers)
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


@pytest.mark.wire
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_foreign_origin_gets_http_403_over_the_wire(
    daphne_server: LiveServer, endpoint: str, token: str, post: Post, user: Any
) -> None:
    url = daphne_server.ws_url + path_for(endpoint, token, post)
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, origin=Origin("http://evil.example")):
            pass
    assert refused.value.response.status_code == 403
    async with connect(url, origin=Origin(f"http://localhost:{daphne_server.port}")) as ws:
        sent, answer = PROBES[endpoint]
        await ws.send(sent)
        assert await ws.recv() == answer


async def echo_from(origin: bytes) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(application, "/ws/echo", headers=[(b"origin", origin)])
    connected: tuple[bool, int | None] = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    ("debug", "origin", "accepted"),
    [
        (True, b"http://localhost:8000", True),
        (True, b"http://app.localhost:8000", True),
        (True, b"http://[::1]:8000", True),
        (True, b"http://evil.example", False),
        (False, b"http://localhost:8000", False),
    ],
    ids=["debug-localhost", "debug-subdomain-of-localhost", "debug-ipv6-loopback", "debug-foreign", "no-debug"],
)
async def test_an_empty_allowed_hosts_follows_djangos_debug_rule(
    settings: Any, debug: bool, origin: bytes, accepted: bool
) -> None:
    settings.DEBUG, settings.ALLOWED_HOSTS = debug, []
    assert await echo_from(origin) == ((True, None) if accepted else (False, 1008))


async def test_a_refused_origin_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="realtime.limits.origins"):
        assert await echo_from("http://evil.example/\u2028".encode()) == (False, 1008)
    assert [r.getMessage() for r in caplog.records if r.name == "realtime.limits.origins"] == [
        "Refused /ws/echo: origin 'http://evil.example/\\xe2\\x80\\xa8' is not an allowed host (ALLOWED_HOSTS)"
    ]
