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
from tests.support.presence import receive_presence_state_over_the_wire

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
    headers = [(b"host", b"localhost:8000"), (b"origin", origin)]
    communicator = WebsocketCommunicator(application, path_for(endpoint, token, post), headers=headers)
    with mock.patch("realtime.auth.middleware.authenticate") as authenticate:
        assert await communicator.connect() == (False, 1008)
    authenticate.assert_not_called()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_the_sites_own_origin_is_accepted(endpoint: str, token: str, post: Post) -> None:
    headers = [(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")]
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
    async with connect(url, origin=Origin(f"http://{daphne_server.host}:{daphne_server.port}")) as ws:
        if endpoint == "live-comments":
            await receive_presence_state_over_the_wire(ws, f"comments:{post.pk}", user)
        sent, answer = PROBES[endpoint]
        await ws.send(sent)
        assert await ws.recv() == answer


async def echo_from(
    origin: bytes, host: bytes = b"localhost:8000", *more: tuple[bytes, bytes]
) -> tuple[bool, int | None]:
    headers = [(b"host", host), (b"origin", origin), *more]
    communicator = WebsocketCommunicator(application, "/ws/echo", headers=headers)
    connected: tuple[bool, int | None] = await communicator.connect()
    await communicator.disconnect()
    return connected


ACCEPTED, REFUSED = (True, None), (False, 1008)


@pytest.mark.parametrize(
    ("origin", "host", "outcome"),
    [
        (b"http://localhost:8000", b"localhost:8000", ACCEPTED),
        (b"http://localhost:8001", b"localhost:8000", REFUSED),
        (b"https://localhost:8000", b"localhost:8000", REFUSED),
        (b"http://localhost", b"localhost:8000", REFUSED),
        (b"http://evil.example", b"evil.example", REFUSED),
    ],
    ids=["same-origin", "other-port", "other-scheme", "no-port", "host-not-allowed"],
)
async def test_an_origin_must_be_the_requests_own_scheme_host_and_port(
    origin: bytes, host: bytes, outcome: tuple[bool, int | None]
) -> None:
    assert await echo_from(origin, host) == outcome


@pytest.mark.parametrize(
    ("origin", "outcome"),
    [
        (b"https://app.example.com", ACCEPTED),
        (b"https://eu.cdn.example.com", ACCEPTED),
        (b"https://cdn.example.com", ACCEPTED),  # as Django's CSRF check: the wildcard covers its own domain
        (b"http://eu.cdn.example.com", REFUSED),
        (b"https://app.example.com:8443", REFUSED),
    ],
    ids=["listed", "subdomain-of-a-wildcard", "the-wildcards-domain", "wildcard-other-scheme", "other-port"],
)
async def test_csrf_trusted_origins_are_accepted_as_django_accepts_them(
    settings: Any, origin: bytes, outcome: tuple[bool, int | None]
) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com", "https://*.cdn.example.com"]
    assert await echo_from(origin) == outcome


async def test_behind_a_tls_proxy_the_https_origin_is_the_sites_own(settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    forwarded = (b"x-forwarded-proto", b"https")
    assert await echo_from(b"https://localhost:8000", b"localhost:8000", forwarded) == ACCEPTED
    assert await echo_from(b"http://localhost:8000", b"localhost:8000", forwarded) == REFUSED


@pytest.mark.parametrize(
    ("debug", "origin", "host", "accepted"),
    [
        (True, b"http://localhost:8000", b"localhost:8000", True),
        (True, b"http://app.localhost:8000", b"app.localhost:8000", True),
        (True, b"http://[::1]:8000", b"[::1]:8000", True),
        (True, b"http://evil.example", b"evil.example", False),
        (False, b"http://localhost:8000", b"localhost:8000", False),
    ],
    ids=["debug-localhost", "debug-subdomain-of-localhost", "debug-ipv6-loopback", "debug-foreign", "no-debug"],
)
async def test_an_empty_allowed_hosts_follows_djangos_debug_rule(
    settings: Any, debug: bool, origin: bytes, host: bytes, accepted: bool
) -> None:
    settings.DEBUG, settings.ALLOWED_HOSTS = debug, []
    assert await echo_from(origin, host) == (ACCEPTED if accepted else REFUSED)


async def test_a_refused_origin_is_logged_with_its_reason(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="realtime.limits.origins"):
        assert await echo_from("http://evil.example/\u2028".encode()) == REFUSED
    assert [r.getMessage() for r in caplog.records if r.name == "realtime.limits.origins"] == [
        "Refused /ws/echo: origin 'http://evil.example/\\xe2\\x80\\xa8' is neither this site's "
        "('http://localhost:8000', if ALLOWED_HOSTS has it) nor in CSRF_TRUSTED_ORIGINS"
    ]
