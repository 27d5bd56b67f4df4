"""The token middleware: who gets in, who is refused before accept, and how the token may be presented."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings

from notifications.consumers import NotificationsConsumer
from project.asgi import application
from realtime.auth.tokens import issue_token, signing_secret
from tests.support.tokens import REFUSED_TOKENS, in_seconds, signed

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/notifications"


def presenting(token: str, where: str) -> WebsocketCommunicator:
    """A communicator to /ws/notifications that presents `token` in one place."""
    if where == "query":
        return WebsocketCommunicator(application, f"{PATH}?token={token}")
    if where == "header":
        return WebsocketCommunicator(application, PATH, headers=[(b"authorization", f"Bearer {token}".encode())])
    return WebsocketCommunicator(application, PATH, subprotocols=["realtime.v1", f"bearer.{token}"])


@pytest.mark.parametrize("where", ["query", "header"])
@pytest.mark.parametrize("make_token", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
async def test_connection_with_unusable_token_is_refused_with_1008(
    user: Any, make_token: Callable[[Any], str], where: str
) -> None:
    communicator = presenting(make_token(user), where)
    assert await communicator.connect() == (False, 1008)


@pytest.mark.parametrize("where", ["query", "header"])
async def test_connection_for_inactive_user_is_refused_with_1008(user: Any, where: str) -> None:
    token = issue_token(user)
    user.is_active = False
    await user.asave(update_fields=["is_active"])
    assert await presenting(token, where).connect() == (False, 1008)


@pytest.mark.parametrize("where", ["query", "header"])
async def test_token_signed_with_django_secret_key_is_refused_when_jwt_secret_differs(
    user: Any, where: str, settings: Any, realtime_settings: Any
) -> None:
    realtime_settings.JWT_SECRET = "a-separate-jwt-secret-of-enough-length"
    token = signed(secret=settings.SECRET_KEY, sub=str(user.pk), exp=in_seconds(60))
    assert await presenting(token, where).connect() == (False, 1008)


async def test_connection_without_token_is_refused_with_1008(user: Any) -> None:
    assert await WebsocketCommunicator(application, PATH).connect() == (False, 1008)


@pytest.mark.parametrize("where", ["query", "header"])
async def test_a_refused_connection_never_creates_the_consumer(
    user: Any, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[object] = []
    monkeypatch.setattr(NotificationsConsumer, "__init__", lambda self, *a, **k: created.append(self))
    assert await presenting("not-a-jwt", where).connect() == (False, 1008)
    assert created == []


@pytest.mark.parametrize(
    ("where", "subprotocol"),
    [("query", None), ("header", None), ("subprotocol", "realtime.v1")],
    ids=["query", "header", "subprotocol"],
)
async def test_a_valid_token_is_accepted_wherever_it_is_presented(
    token: str, where: str, subprotocol: str | None
) -> None:
    communicator = presenting(token, where)
    assert await communicator.connect() == (True, subprotocol)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_an_integer_sub_is_accepted(user: Any) -> None:
    communicator = presenting(signed(sub=user.pk, exp=in_seconds(60)), "query")
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_a_token_from_an_issuer_whose_clock_runs_ahead_is_accepted(user: Any) -> None:
    # iat is when the issuer thinks it minted the token: a clock a little ahead is no reason to refuse it
    # (exp and nbf are what say when a token is valid, checked against this server's clock).
    communicator = presenting(signed(sub=str(user.pk), iat=in_seconds(30), exp=in_seconds(300)), "query")
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_an_iat_that_is_not_a_number_is_refused(user: Any) -> None:
    communicator = presenting(signed(sub=str(user.pk), iat="yesterday", exp=in_seconds(300)), "query")
    assert await communicator.connect() == (False, 1008)


async def test_the_bearer_scheme_is_case_insensitive(token: str) -> None:
    communicator = WebsocketCommunicator(application, PATH, headers=[(b"authorization", f"bearer {token}".encode())])
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_the_first_token_found_wins_even_when_a_later_one_is_valid(token: str) -> None:
    communicator = WebsocketCommunicator(
        application, f"{PATH}?token=not-a-jwt", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    assert await communicator.connect() == (False, 1008)


async def test_the_query_token_wins_over_a_bad_header(token: str) -> None:
    communicator = WebsocketCommunicator(
        application, f"{PATH}?token={token}", headers=[(b"authorization", b"Bearer not-a-jwt")]
    )
    assert await communicator.connect() == (True, None)
    await communicator.disconnect()


async def test_the_consumer_sees_the_user_and_no_bearer_subprotocol(
    user: Any, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    original_connect = NotificationsConsumer.connect

    async def recording_connect(self: NotificationsConsumer) -> None:
        seen.update(user=self.scope["user"], subprotocols=self.scope["subprotocols"])
        await original_connect(self)

    monkeypatch.setattr(NotificationsConsumer, "connect", recording_connect)
    communicator = WebsocketCommunicator(application, PATH, subprotocols=["other", "realtime.v1", f"bearer.{token}"])
    assert await communicator.connect() == (True, "realtime.v1")
    assert seen == {"user": user, "subprotocols": ["other", "realtime.v1"]}
    await communicator.disconnect()


def test_jwt_secret_defaults_to_the_django_secret_key() -> None:
    assert signing_secret() == settings.SECRET_KEY
