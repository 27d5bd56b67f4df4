"""Tokens (realtime/client/credentials.py): `exp` read without verifying, refresh times, token sources."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from realtime.client import token_times
from realtime.client.credentials import Credentials, has_expired, refresh_delay


def unsigned(**claims: object) -> str:
    """A JWT-shaped token with `claims`; its signature is never looked at by the client."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.signature"


@pytest.mark.parametrize(
    ("token", "times"),
    [
        (unsigned(sub="1", exp=2000, iat=1000), (2000.0, 1000.0)),
        (unsigned(sub="1", exp=2000.5), (2000.5, None)),
        (unsigned(sub="1", exp="2000"), (None, None)),
        (unsigned(sub="1", exp=True), (None, None)),
        ("not-a-jwt", (None, None)),
        ("a.%%%.c", (None, None)),
        (f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c", (None, None)),
    ],
    ids=["exp-and-iat", "exp-only", "exp-a-string", "exp-a-boolean", "one-part", "not-base64", "not-an-object"],
)
def test_token_times_reads_exp_and_iat_from_the_payload(token: str, times: tuple[float | None, float | None]) -> None:
    assert (token_times(token).expires_at, token_times(token).issued_at) == times


def test_a_token_is_refreshed_when_a_fifth_of_its_lifetime_is_left() -> None:
    token = unsigned(exp=1100, iat=1000)
    assert refresh_delay(token, now=1010, received_at=1010) == pytest.approx(70)


def test_without_iat_the_lifetime_counts_from_receipt() -> None:
    token = unsigned(exp=1100)
    assert refresh_delay(token, now=1050, received_at=1050) == pytest.approx(40)


def test_a_token_without_exp_is_never_refreshed() -> None:
    assert refresh_delay(unsigned(sub="1"), now=0, received_at=0) is None


def test_has_expired_compares_exp_with_now() -> None:
    token = unsigned(exp=1000)
    assert [has_expired(token, now=999), has_expired(token, now=1000), has_expired("opaque", now=10**10)] == [
        False,
        True,
        False,
    ]


async def test_a_string_token_is_given_as_it_is_and_cannot_be_renewed() -> None:
    credentials = Credentials("the-token")
    assert (await credentials.fresh(), credentials.renewable, credentials.current) == ("the-token", False, "the-token")


async def test_a_callable_is_asked_each_time_in_a_thread() -> None:
    calls: list[bool] = []

    def source() -> str:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            calls.append(True)  # no event loop here: a worker thread
        else:
            calls.append(False)
        return f"token-{len(calls)}"

    credentials = Credentials(source)
    assert [await credentials.fresh(), await credentials.fresh()] == ["token-1", "token-2"]
    assert (calls, credentials.renewable, credentials.current) == ([True, True], True, "token-2")


async def test_a_coroutine_function_is_awaited() -> None:
    async def source() -> str:
        return "from-a-coroutine"

    assert await Credentials(source).fresh() == "from-a-coroutine"


async def test_a_callable_that_returns_no_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="returned int"):
        await Credentials(lambda: 42).fresh()  # type: ignore[arg-type]  # the mistake under test
