"""The site's token endpoint: session users get a short-lived token, never cached; anonymous ones get 401."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient, Client
from django.utils import timezone

from project.asgi import application
from realtime.auth.tokens import SUBPROTOCOL, decode_token

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/realtime/token/"


@pytest.fixture
def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_signed_in_user_gets_a_token_for_themselves_valid_for_the_configured_ttl(
    signed_in: Client, user: Any, realtime_settings: Any
) -> None:
    realtime_settings.TOKEN_HTTP_TTL = 120
    before = timezone.now()
    response = signed_in.post(URL)
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["expires_at", "expires_in", "token"]
    claims = decode_token(body["token"])
    assert claims.user_id == user.pk
    assert before + timedelta(seconds=120) <= claims.expires_at <= timezone.now() + timedelta(seconds=121)
    assert body["expires_at"] == claims.expires_at.isoformat()
    assert body["expires_in"] in (120, 121)


def test_the_answer_is_never_cached(signed_in: Client) -> None:
    response = signed_in.post(URL)
    assert response["Cache-Control"] == "no-store"
    assert response["Vary"] == "Cookie"


def test_an_anonymous_request_gets_401_and_no_token() -> None:
    response = Client().post(URL)
    assert response.status_code == 401
    assert response.json() == {"error": "login_required", "message": "Sign in to get a token."}
    assert response["Cache-Control"] == "no-store"


def test_get_is_not_allowed(signed_in: Client) -> None:
    assert signed_in.get(URL).status_code == 405


def test_a_post_without_the_csrf_token_is_refused(user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(URL)
    assert response.status_code == 403
    assert b"token" not in response.content.replace(b"csrf", b"").replace(b"CSRF", b"")


def test_a_post_with_the_csrf_cookie_token_gets_a_token(user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/")  # the demo page sets the CSRF cookie for the script
    csrf = page.cookies["csrftoken"].value
    response = client.post(URL, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200
    assert decode_token(response.json()["token"]).user_id == user.pk


async def test_the_token_opens_a_websocket_through_the_subprotocol(user: Any) -> None:
    client = AsyncClient()
    await client.aforce_login(user)
    issued = (await client.post(URL)).json()["token"]
    communicator = WebsocketCommunicator(
        application, "/ws/notifications", subprotocols=[SUBPROTOCOL, f"bearer.{issued}"]
    )
    assert await communicator.connect() == (True, SUBPROTOCOL)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()
