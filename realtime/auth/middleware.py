"""
The token middleware in front of every authenticated endpoint.

It finds the connection's token (tokens.py), checks it and looks the user up,
all before the consumer exists, in one trip to the database thread that also
reads what the endpoint needs before it accepts (a per-feed endpoint's
high-water mark: `TokenAuthMiddleware.read_at_handshake`). A connection it cannot authenticate is refused
before accept with close code 1008 (daphne answers the handshake with HTTP 403).
An authenticated one reaches the consumer with `scope["user"]` and
`scope["token_claims"]`, and with any `bearer.<jwt>` subprotocol removed,
unless its user already has `MAX_CONNECTIONS_PER_USER` connections open
(limits/connections.py): that one is refused before accept with 4429. When the
database cannot be reached to look the user up, the connection is refused
with 4503 (come back later), not crashed.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError, connection

from realtime.auth.revocation import last_revocation
from realtime.auth.tokens import (
    InvalidToken,
    TokenClaims,
    decode_token,
    still_valid_for,
    subprotocols_without_tokens,
    token_from_scope,
)
from realtime.close_codes import CLOSE_POLICY_VIOLATION, CLOSE_RATE_LIMITED, CLOSE_UNAVAILABLE
from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.handshake import refuse
from realtime.hub import hub
from realtime.limits import connections
from realtime.metrics.catalog import REFUSED_TOKEN
from realtime.metrics.connections import handshake_refused
from realtime.outage import log_database_failure
from realtime.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

# What an endpoint reads at the handshake (TokenAuthMiddleware), and where the consumer finds it.
HandshakeRead = Callable[[AbstractBaseUser], Any]
ScopeRead = Callable[[Scope, AbstractBaseUser], Any]
HANDSHAKE_READ = "realtime.handshake_read"


def active_user(user_id: Any, *, with_revocation: bool = False) -> tuple[AbstractBaseUser | None, float | None]:
    """
    The user `user_id` names, if it exists and is active, and (`with_revocation`,
    for a token minted elsewhere) the moment of the user's last revocation. Sync:
    in the database thread. The user is one raw query (Django's converters still
    apply), because compiling the ORM's `get()` costs more than the query itself
    (bench/RESULTS.md).
    """
    user_model = get_user_model()
    quote = connection.ops.quote_name
    table, pk = quote(user_model._meta.db_table), quote(user_model._meta.pk.column)
    users = list(user_model._default_manager.raw(f"SELECT * FROM {table} WHERE {pk} = %s", [user_id]))
    if not users or not getattr(users[0], "is_active", True):
        return None, None
    return users[0], (last_revocation(users[0].pk) if with_revocation else None)


@database_sync_to_async
def read_handshake(claims: TokenClaims, then: HandshakeRead | None = None) -> tuple[AbstractBaseUser, Any]:
    """
    The one trip to the database thread a handshake makes: the active user the
    token names (`InvalidToken` when there is none, or the token is older than
    the user's password), then, when the endpoint reads something of its own at
    the handshake (`then`: a per-feed endpoint's high-water mark), that too.
    """
    # A token of this library's is tied to the password by its fingerprint; one minted elsewhere, to the revocations.
    user, revoked_at = active_user(claims.user_id, with_revocation=claims.password is None)
    if user is None:
        raise InvalidToken("the token's user does not exist or is inactive")
    if not still_valid_for(claims, user, revoked_at):
        raise InvalidToken("the token was issued before the user's password changed")
    return user, (None if then is None else then(user))


async def authenticate(
    token: str | None, *, now: float, then: HandshakeRead | None = None
) -> tuple[AbstractBaseUser, TokenClaims, Any]:
    """
    The active user a token valid at `now` names, its claims, and what `then`
    read in the same trip to the database thread; `InvalidToken` otherwise.
    """
    if token is None:
        raise InvalidToken("no token was presented")
    claims = decode_token(token, now=now)
    user, read = await read_handshake(claims, then)
    return user, claims, read


class TokenAuthMiddleware(BaseMiddleware):
    """
    In front of a token endpoint. `read_at_handshake` (a sync function of the
    connection's scope and user) is what the endpoint reads from the database
    before it accepts: it runs in the user's trip to the database thread, and
    what it returns reaches the consumer as `scope[HANDSHAKE_READ]`.
    """

    def __init__(self, inner: ASGIApp, *, read_at_handshake: ScopeRead | None = None) -> None:
        super().__init__(inner)
        self.read_at_handshake = read_at_handshake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admitted, slot = await self._admit(scope, receive, send)
        if not admitted:
            return
        try:
            await self.inner(scope, receive, send)
        finally:
            if slot is not None:
                await connections.slots().give_back(hub(), slot)

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> tuple[bool, str | None]:
        """
        Whether the connection may go on (else it was refused), and the per-user slot it holds. The user, the
        claims and what the endpoint read go into `scope` itself: the scope Channels' router made for this
        route, the connection's own, held for its whole life (a copy would be one more dict per connection).
        What was needed only to get there goes with this frame.
        """
        here = hub()
        reads = self.read_at_handshake
        then = None if reads is None else functools.partial(reads, scope)
        try:
            user, claims, read = await authenticate(token_from_scope(scope), now=here.clock.wall(), then=then)
        except InvalidToken as reason:
            logger.info("Refused %s: %s", scope.get("path", "?"), reason)
            handshake_refused(scope, REFUSED_TOKEN)
            await refuse(receive, send, CLOSE_POLICY_VIOLATION)
            return False, None
        except DatabaseError as error:
            log_database_failure(logger, error, "Refused %s", scope.get("path", "?"))
            await refuse(receive, send, CLOSE_UNAVAILABLE)
            return False, None
        slot = None
        cap = realtime_settings.MAX_CONNECTIONS_PER_USER
        if cap:
            slot = uuid.uuid4().hex
            if not await connections.slots().take(here, user.pk, slot, cap):
                logger.info("Refused %s: user %s already has %s connections open", scope.get("path", "?"), user.pk, cap)
                await refuse(receive, send, CLOSE_RATE_LIMITED)
                return False, None
        scope["user"], scope["token_claims"] = user, claims
        scope["subprotocols"] = subprotocols_without_tokens(scope.get("subprotocols", []))
        if read is not None:
            scope[HANDSHAKE_READ] = read
        return True, slot
