"""
Connection tokens (PROTOCOL.md, "Authentication").

A token is a JWT signed with HS256 and the `JWT_SECRET` key of `REALTIME` (by
default Django's `SECRET_KEY`); no other algorithm is accepted. `sub` names the
user's primary key (a string, or an integer), `exp` is required, `nbf` is
honoured when present, and the issuer sets `iat`. Tokens this library issues
also carry `pwh`, a fingerprint of the user's password: a password change ends
them. A token minted elsewhere, without `pwh`, is ended by the user's last
revocation instead (models.py): refused when its `iat` is older, or missing.
Expiry is judged on the
hub's clock (`now`), so that tests can move time instead of waiting.

A client presents it in one of three places, and the first one found wins:
the query string `?token=`, the header `Authorization: Bearer`, or the
subprotocols `realtime.v1` + `bearer.<jwt>`.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from realtime.conf import realtime_settings

ALGORITHM = "HS256"
SUBPROTOCOL = "realtime.v1"
BEARER_SUBPROTOCOL_PREFIX = "bearer."
DEFAULT_TTL = timedelta(hours=1)

_REQUIRED_CLAIMS = ["exp", "sub"]
FINGERPRINT_SALT = "realtime.auth.tokens.password_fingerprint"
FINGERPRINT_LENGTH = 16


class InvalidToken(Exception):
    """The token cannot be used; `str()` says why, without the token."""


@dataclass(frozen=True, slots=True)  # held by every connection's scope: no per-instance dict
class TokenClaims:
    user_id: Any
    expires_at: datetime
    # The `pwh` claim: the fingerprint of the password the user had when the token was issued
    # (None for a token minted elsewhere, which the user's last revocation ends instead).
    password: str | None = None
    # The `iat` claim, seconds since the epoch (None when the token has none).
    issued_at: float | None = None


def password_fingerprint(user: AbstractBaseUser) -> str:
    """
    A short keyed digest of the user's password hash: it changes with the password, so
    the tokens issued before a change are refused after it (as Django ends sessions).
    It reveals nothing of the password: an HMAC, keyed with SECRET_KEY, of its hash.
    """
    return salted_hmac(FINGERPRINT_SALT, user.password or "", algorithm="sha256").hexdigest()[:FINGERPRINT_LENGTH]


def still_valid_for(claims: TokenClaims, user: AbstractBaseUser, revoked_at: float | None = None) -> bool:
    """
    False when the token was issued before the user's password changed: its
    `pwh` is not the password's now, or, for a token without `pwh`, its `iat`
    is older than the user's last revocation (`revoked_at`, seconds since the
    epoch; None: never revoked), or it has no `iat` and there was one.
    """
    if claims.password is not None:
        return constant_time_compare(claims.password, password_fingerprint(user))
    return revoked_at is None or (claims.issued_at is not None and claims.issued_at >= revoked_at)


def issue_token(user: AbstractBaseUser, *, ttl: timedelta = DEFAULT_TTL) -> str:
    """A token for `user`, valid for at least `ttl` from now (`exp` is whole seconds, rounded up)."""
    return issue_token_expiring(user, ttl=ttl)[0]


def issue_token_expiring(user: AbstractBaseUser, *, ttl: timedelta = DEFAULT_TTL) -> tuple[str, datetime]:
    """`issue_token`, and the moment the token expires (its `exp`)."""
    now = timezone.now()
    expires = math.ceil((now + ttl).timestamp())
    claims = {"sub": str(user.pk), "iat": int(now.timestamp()), "exp": expires, "pwh": password_fingerprint(user)}
    return jwt.encode(claims, signing_secret(), algorithm=ALGORITHM), datetime.fromtimestamp(expires, tz=UTC)


def signing_secret() -> str:
    """The HS256 secret: `REALTIME["JWT_SECRET"]`, or Django's `SECRET_KEY` when that is None."""
    secret: str | None = realtime_settings.JWT_SECRET
    return settings.SECRET_KEY if secret is None else secret


def decode_token(token: str, *, now: float | None = None) -> TokenClaims:
    """The claims of a token valid at `now` (seconds since the epoch; default: the system clock), or `InvalidToken`."""
    if not token.isascii():  # a JWT is base64url and dots; anything else cannot be one
        raise InvalidToken("the token is invalid (DecodeError)")
    try:
        claims = jwt.decode(
            token,
            signing_secret(),
            algorithms=[ALGORITHM],
            # `sub` is checked below (PROTOCOL.md accepts an integer too), `exp` and `nbf` against `now`, `iat`
            # only for being a number: PyJWT would refuse an iat ahead of this machine's clock (an issuer's clock
            # a second ahead), and against the system clock, not `now`.
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_sub": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidTokenError as error:
        raise InvalidToken(f"the token is invalid ({type(error).__name__})") from None
    now = time.time() if now is None else now
    expires = _timestamp(claims, "exp")
    if expires <= now:
        raise InvalidToken("the token has expired")
    if "nbf" in claims and _timestamp(claims, "nbf") > now:
        raise InvalidToken("the token is not yet valid")
    try:
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise InvalidToken("the token's exp is out of range") from None
    fingerprint = claims.get("pwh")
    if fingerprint is not None and not isinstance(fingerprint, str):
        raise InvalidToken("the token's pwh is not a string")
    issued_at = _timestamp(claims, "iat") if "iat" in claims else None
    return TokenClaims(
        user_id=_user_id(claims["sub"]), expires_at=expires_at, password=fingerprint, issued_at=issued_at
    )


def _timestamp(claims: dict[str, Any], name: str) -> float:
    """A NumericDate claim (RFC 7519: a JSON number), or `InvalidToken`."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:  # NaN
        raise InvalidToken(f"the token's {name} is not a number")
    return float(value)


def _user_id(subject: object) -> Any:
    """The primary key `sub` names, as the user model's field has it; `InvalidToken` for anything it cannot hold."""
    if isinstance(subject, bool) or not isinstance(subject, (str, int)):
        raise InvalidToken("the token's sub is not a user id")
    field = get_user_model()._meta.pk
    assert field is not None
    try:
        user_id = field.to_python(subject)
    except ValidationError:
        raise InvalidToken("the token's sub is not a user id") from None
    if isinstance(user_id, int):
        low, high = _integer_range(field.get_internal_type())
        if (low is not None and user_id < low) or (high is not None and user_id > high):
            raise InvalidToken("the token's sub is out of range")
    return user_id


@functools.cache
def _integer_range(internal_type: str) -> tuple[int | None, int | None]:
    """
    The range of an integer field, read once: `connection` is context-local in
    async code, so reading it per handshake made a database wrapper (about 3 KiB)
    that every connection then kept.
    """
    low, high = connection.ops.integer_field_range(internal_type)
    return low, high


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The token a connection presents: query string, then header, then subprotocol."""
    query: dict[str, list[str]] = parse_qs(scope.get("query_string", b"").decode("latin1"))
    if query.get("token"):
        return query["token"][0]
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
    subprotocols: list[str] = scope.get("subprotocols", [])
    for subprotocol in subprotocols:
        if subprotocol.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return subprotocol[len(BEARER_SUBPROTOCOL_PREFIX) :]
    return None


def subprotocols_without_tokens(subprotocols: list[str]) -> list[str]:
    """The offered subprotocols minus `bearer.<jwt>`, so that nothing can echo a token back."""
    return [name for name in subprotocols if not name.startswith(BEARER_SUBPROTOCOL_PREFIX)]
