"""Hand-made tokens for tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import jwt
from django.utils import timezone

from realtime.auth.tokens import signing_secret


def signed(secret: str | None = None, algorithm: str = "HS256", **claims: Any) -> str:
    """A token with exactly `claims`, signed with `secret` (default: JWT_SECRET)."""
    return jwt.encode(claims, secret or signing_secret(), algorithm=algorithm)


def in_seconds(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


# Every reason a token is refused before accept, each building a token for `user`
# (PROTOCOL.md, "Authentication"). The inactive user needs database state and
# has tests of its own.
REFUSED_TOKENS: dict[str, Callable[[Any], str]] = {
    "malformed": lambda user: "not-a-jwt",
    "three-garbage-parts": lambda user: "abc.def.ghi",
    "bad-signature": lambda user: signed(
        secret="another-secret-of-32-bytes-or-more", sub=str(user.pk), exp=in_seconds(60)
    ),
    "hs512": lambda user: signed(algorithm="HS512", sub=str(user.pk), exp=in_seconds(60)),
    "alg-none": lambda user: jwt.encode({"sub": str(user.pk), "exp": in_seconds(60)}, "", algorithm="none"),
    "expired": lambda user: signed(sub=str(user.pk), exp=in_seconds(-5)),
    "not-yet-valid": lambda user: signed(sub=str(user.pk), exp=in_seconds(60), nbf=in_seconds(30)),
    "without-exp": lambda user: signed(sub=str(user.pk)),
    "without-sub": lambda user: signed(exp=in_seconds(60)),
    "sub-not-an-id": lambda user: signed(sub="alice", exp=in_seconds(60)),
    "sub-boolean": lambda user: signed(sub=True, exp=in_seconds(60)),
    "sub-list": lambda user: signed(sub=[user.pk], exp=in_seconds(60)),
    "missing-user": lambda user: signed(sub=str(user.pk + 1000), exp=in_seconds(60)),
    "exp-out-of-range": lambda user: signed(sub=str(user.pk), exp=10**13),
    "exp-numeric-string": lambda user: signed(sub=str(user.pk), exp=str(int(in_seconds(60).timestamp()))),
    "nbf-not-a-number": lambda user: signed(sub=str(user.pk), exp=in_seconds(60), nbf="soon"),
    "sub-above-2-to-the-63": lambda user: signed(sub=str(2**63), exp=in_seconds(60)),
    "sub-below-minus-2-to-the-63": lambda user: signed(sub=str(-(2**63) - 1), exp=in_seconds(60)),
    "non-ascii": lambda user: "eyJé.eyJ.sig",
}
