"""
The base of every token endpoint (PROTOCOL.md, "Authentication", "Heartbeat").

`TokenConsumer` runs behind `TokenAuthMiddleware`, so `scope["user"]` is an
active user and `scope["token_claims"]` holds the token's deadline. On top of
`WebSocketConsumer` it:

- accepts with the `realtime.v1` subprotocol when the client offered it;
- routes client messages by their `"type"` (`client_messages`), answering
  anything it cannot use with an error frame: `ping` gets `pong`, `pong` only
  feeds the heartbeat, `refresh` moves the token deadline;
- runs the heartbeat (close 4408) and the token deadline (close 4401), and
  closes with 4401 when the user is deactivated or deleted (auth/revocation.py);
- closes with 4503 (before accept: refuses) when a handler meets a database
  that cannot be reached, instead of crashing with 1011: the client reconnects
  later with `since` and loses nothing. A handler that can answer such a
  failure with an error frame (`new_comment`) catches it itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DatabaseError

from realtime.auth import revocation
from realtime.auth.deadline import TokenDeadline
from realtime.auth.middleware import authenticate
from realtime.auth.tokens import SUBPROTOCOL, InvalidToken, password_fingerprint
from realtime.close_codes import CLOSE_HEARTBEAT_TIMEOUT, CLOSE_RATE_LIMITED, CLOSE_TOKEN_EXPIRED, CLOSE_UNAVAILABLE
from realtime.conf import realtime_settings
from realtime.consumers.base import WebSocketConsumer
from realtime.consumers.state import WebSocketState
from realtime.frames import PING, PONG, ErrorCode, RefreshedFrame, error_frame
from realtime.hub import USERS
from realtime.limits.heartbeat import Heartbeat
from realtime.limits.replays import REPLAY, ReplayBudgets
from realtime.metrics import catalog as metrics
from realtime.outage import log_database_failure
from realtime.types import Message, Scope

logger = logging.getLogger(__name__)

# Client-chosen text quoted back in an error frame is cut to this length.
QUOTE_LIMIT = 40


class TokenConsumer(WebSocketConsumer):
    # Client message "type" -> the method that handles it. Subclasses extend it:
    # `client_messages = {**TokenConsumer.client_messages, "new_comment": "on_new_comment"}`.
    client_messages: ClassVar[dict[str, str]] = {"ping": "on_ping", "pong": "on_pong", "refresh": "on_refresh"}

    user: AbstractBaseUser
    # The fingerprint of the password this connection is for: its token's `pwh` claim, or, for a token
    # minted elsewhere, the user's password when it connected (realtime/auth/revocation.py).
    password: str | None = None
    _in_users_index = False
    heartbeat: Heartbeat | None = None
    deadline: TokenDeadline | None = None

    @classmethod
    def read_at_handshake(cls, scope: Scope, user: AbstractBaseUser) -> Any:
        """
        What the endpoint reads from the database before it accepts, in the token
        middleware's trip for the user (sync; realtime/auth/middleware.py); the
        consumer finds it in `scope[HANDSHAKE_READ]` unless it is None. Nothing
        here; a per-feed endpoint reads its feed (FeedConsumer).
        """
        return None

    async def connect(self) -> None:
        """
        Join the user's group (revocations from other processes) and the hub's
        index of users (revocation checks), accept, then start the heartbeat
        and the token deadline.
        """
        self.user = self.scope["user"]
        self.password = self.scope["token_claims"].password or password_fingerprint(self.user)
        await self.join_group(revocation.user_group(self.user.pk))
        self.hub.join(USERS, self.user.pk, self)
        self._in_users_index = True
        offered = self.scope.get("subprotocols", [])
        await self.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
        clock = self.hub.clock
        self.heartbeat = Heartbeat(
            self,
            clock,
            interval=realtime_settings.HEARTBEAT_INTERVAL,
            timeout=realtime_settings.HEARTBEAT_TIMEOUT,
        )
        self.heartbeat.start()
        self.deadline = TokenDeadline(self.handle_local_event, clock, self.scope["token_claims"].expires_at)
        self.deadline.start()

    async def handle_in_turn(self, message: Message) -> None:
        try:
            await super().handle_in_turn(message)
        except DatabaseError as error:
            path, code, event = self.scope.get("path", "?"), CLOSE_UNAVAILABLE, message["type"]
            log_database_failure(logger, error, "Closing %s with %s during %s", path, code, event)
            if self.application_state is not WebSocketState.DISCONNECTED:
                await self.close(CLOSE_UNAVAILABLE)

    def connection_finished(self) -> None:
        if self._in_users_index:
            self.hub.leave(USERS, self.user.pk, self)
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.deadline is not None:
            self.deadline.stop()

    # --- Client messages ------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error(ErrorCode.INVALID_MESSAGE, 'A message must be a JSON object with a string "type".')
            return
        handler_name = self.client_messages.get(content["type"])
        handler = getattr(self, handler_name) if handler_name is not None else self.message_handler(content["type"])
        if handler is None:
            accepted = ", ".join(self.accepted_messages())
            await self.send_error(
                ErrorCode.UNKNOWN_TYPE,
                f"Unknown message type {quote(content['type'])}; this endpoint accepts: {accepted}.",
            )
            return
        await handler(content)

    def message_handler(self, message_type: str) -> Callable[[dict[str, Any]], Awaitable[None]] | None:
        """The handler of a client message `client_messages` does not name (a topic kind's, say); None: unknown."""
        return None

    def accepted_messages(self) -> list[str]:
        """The client message types this endpoint handles, for the `unknown_type` error."""
        return list(self.client_messages)

    async def reply(self, frame: dict[str, Any], message: dict[str, Any]) -> None:
        """Answer `message` with `frame` (on `/ws/`, with the message's `ref`)."""
        await self.send_json(frame)

    async def reply_error(self, code: str, text: str, message: dict[str, Any], *, topic: str | None = None) -> None:
        """Answer `message` with an error frame (about `topic`, when it names one: on `/ws/`)."""
        frame: dict[str, Any] = dict(error_frame(code, text))
        await self.send_json(frame if topic is None else {**frame, "topic": topic})

    async def on_ping(self, message: dict[str, Any]) -> None:
        await self.send_json(PONG)

    async def on_pong(self, message: dict[str, Any]) -> None:
        """An answer to the heartbeat, which noted its arrival already."""

    async def on_refresh(self, message: dict[str, Any]) -> None:
        token = message.get("token")
        if not isinstance(token, str):
            await self.send_error(ErrorCode.INVALID_TOKEN, 'A refresh needs "token": a JWT string.')
            return
        try:
            user, claims, _ = await authenticate(token, now=self.hub.clock.wall())
        except InvalidToken as reason:
            await self.send_error(ErrorCode.INVALID_TOKEN, f"The token was not accepted: {reason}.")
            return
        if user.pk != self.user.pk:
            await self.send_error(ErrorCode.INVALID_TOKEN, "The token names another user.")
            return
        assert self.deadline is not None
        self.deadline.move(claims.expires_at)
        self.password = claims.password or password_fingerprint(user)
        refreshed: RefreshedFrame = {"type": "refreshed", "expires_at": claims.expires_at.isoformat()}
        await self.send_json(refreshed)

    # --- Local events -----------------------------------------------------------

    async def heartbeat_ping(self, event: Message) -> None:
        await self.send_json(PING)
        assert self.heartbeat is not None
        self.heartbeat.ping_sent()

    async def heartbeat_timeout(self, event: Message) -> None:
        """
        Nothing arrived for a heartbeat: the client is gone, or as good as gone.
        Closed with 4408, and ended at once rather than after waiting for an
        answer (its socket may be lost where the server cannot tell): nothing
        stays counted past HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT (PROTOCOL.md, "No ghosts").
        """
        await self.close(CLOSE_HEARTBEAT_TIMEOUT)
        await self.client_gone()

    async def user_revoked(self, event: Message) -> None:
        """The user was deactivated, deleted, or changed password (realtime/auth/revocation.py)."""
        if self.revoked_by(event.get("password")):
            await self.close(CLOSE_TOKEN_EXPIRED)

    def revoked_by(self, fingerprint: str | None) -> bool:
        """
        True when the user lost access (`fingerprint` None), or when this connection
        is for another password than the one with `fingerprint`.
        """
        return fingerprint is None or self.password != fingerprint

    # --- Replay budgets (realtime/limits/replays.py) ----------------------------

    def may_replay(self) -> bool:
        """Whether this connection's user may start a replay now; if not, nothing may read the database for one."""
        return self.hub.replays.allows(self.user.pk, self._now())

    async def replay_refused(self, message: dict[str, Any], *, topic: str | None = None) -> None:
        """A replay past the user's budget: a `rate_limited` error frame, or, for repeated abuse, close with 4429."""
        metrics.rate_limited.labels(REPLAY).inc()
        if not self.strike():
            logger.warning("WebSocket %s closed with %s: too many replays", self.scope.get("path"), CLOSE_RATE_LIMITED)
            await self.close(CLOSE_RATE_LIMITED)
            return
        await self.reply_error(ErrorCode.RATE_LIMITED, ReplayBudgets.describe(), message, topic=topic)

    async def token_expired(self, event: Message) -> None:
        # A refresh may have moved the deadline while this event waited its turn.
        if self.deadline is not None and self.deadline.has_passed():
            await self.close(CLOSE_TOKEN_EXPIRED)


def quote(text: str) -> str:
    """`text` for an error message: repr'd and cut to QUOTE_LIMIT characters."""
    return repr(text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…")
