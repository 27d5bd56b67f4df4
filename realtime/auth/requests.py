"""
Who an HTTP request of the library's is from: the user the request's
`Authorization: Bearer <jwt>` names (the same tokens, and the same checks, as
the WebSocket endpoints), or else the user signed in to the Django site.
"""

from __future__ import annotations

import time

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from realtime.auth.middleware import authenticate
from realtime.auth.tokens import InvalidToken

BEARER = "bearer"


class Unauthenticated(Exception):
    """Neither a usable bearer token nor a signed-in session; `str()` says which."""


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == BEARER else None


async def request_user(request: HttpRequest) -> AbstractBaseUser:
    """
    A bearer token, when the request presents one, decides (an invalid one is
    refused even with a session); without one, the session's user.
    """
    token = bearer_token(request)
    if token is not None:
        try:
            user, _, _ = await authenticate(token, now=time.time())
        except InvalidToken as invalid:
            raise Unauthenticated(f"The bearer token was refused: {invalid}.") from None
        return user
    session_user = await request.auser()
    if not session_user.is_authenticated:
        raise Unauthenticated("Sign in, or send Authorization: Bearer <token>.")
    assert isinstance(session_user, AbstractBaseUser)
    return session_user
