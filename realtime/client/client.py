"""
`RealtimeClient`: one connection to `/ws/` that follows many topics and
outlives the sockets under it (PROTOCOL.md, "Clients: Python and TypeScript").

The client is a state machine (`ClientState`): connecting (the first
connection, made by `connect()` or entering `async with`), connected,
reconnecting (after one of `RECONNECT_CODES`, waiting its backoff or trying),
then closed (by the application) or failed (`error` says why: a close code it
does not reconnect after, a 4401 or a refused handshake with a token it cannot
renew). One task reads the socket: it answers pings, routes each frame to the
subscription of its `topic` or to the `send` waiting for its `ref`, and, once
the socket is gone, connects again and sends every subscription's `subscribe`
with the last id it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from realtime.client.answers import Answers
from realtime.client.backfill import default_history_base, history_url
from realtime.client.backoff import MAX_DELAY, MIN_DELAY, STABLE_AFTER, Backoff
from realtime.client.credentials import REFRESH_AHEAD, Credentials, TokenSource, has_expired
from realtime.client.errors import (
    ClientClosed,
    ConnectionEnded,
    ConnectionLost,
    HandshakeRefused,
    RealtimeClientError,
    TokenExpired,
)
from realtime.client.logs import connection_logger
from realtime.client.positions import Position, default_position
from realtime.client.protocol import RECONNECT_CODES, Frame, decode, encode
from realtime.client.refresh import keep_token_fresh
from realtime.client.subscriptions import Subscription, SubscriptionState
from realtime.close_codes import CLOSE_ABNORMAL, CLOSE_NORMAL, CLOSE_TOKEN_EXPIRED

logger = logging.getLogger(__name__)

OPEN_TIMEOUT = 10.0


class ClientState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"
    FAILED = "failed"


_MOVES = {
    ClientState.IDLE: frozenset({ClientState.CONNECTING, ClientState.CLOSED}),
    ClientState.CONNECTING: frozenset({ClientState.CONNECTED, ClientState.FAILED, ClientState.CLOSED}),
    ClientState.CONNECTED: frozenset({ClientState.RECONNECTING, ClientState.FAILED, ClientState.CLOSED}),
    ClientState.RECONNECTING: frozenset({ClientState.CONNECTED, ClientState.FAILED, ClientState.CLOSED}),
}
_OPEN = frozenset({ClientState.CONNECTING, ClientState.CONNECTED, ClientState.RECONNECTING})


class RealtimeClient:
    """
    `async with RealtimeClient("ws://host/ws/", token=...) as client:` connects
    (raising `HandshakeRefused`, `OSError`... when the first connection cannot
    be made) and closes with 1000 at the end of the block.

    `token`: a string, or a callable or coroutine function giving a fresh one
    (credentials.py). `position`: the id of the entry a frame carries, for every
    subscription that names none (positions.py). `history_base`: where truncated
    replays are read from (default: `/realtime/history/` on the WebSocket URL's
    host). `min_delay`, `max_delay`, `stable_after`: the reconnect backoff
    (backoff.py). `refresh_ahead`: the fraction of a token's lifetime left when
    it is refreshed. `connect_options`: more keyword arguments for websockets'
    `connect` (`max_size`, `ping_interval`, `proxy`...).
    """

    def __init__(
        self,
        url: str,
        *,
        token: TokenSource,
        position: Position = default_position,
        history_base: str | None = None,
        min_delay: float = MIN_DELAY,
        max_delay: float = MAX_DELAY,
        stable_after: float = STABLE_AFTER,
        refresh_ahead: float = REFRESH_AHEAD,
        open_timeout: float = OPEN_TIMEOUT,
        connect_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.state = ClientState.IDLE
        # Why the client failed (state FAILED); None otherwise.
        self.error: Exception | None = None
        # Connections opened so far: 1 until the first reconnect.
        self.connections = 0
        self.history_base = history_base if history_base is not None else default_history_base(url)
        self._credentials = Credentials(token)
        self._position = position
        self._delays = (min_delay, max_delay, stable_after)
        self._backoff = Backoff(min_delay, max_delay, stable_after)
        self._refresh_ahead = refresh_ahead
        self._open_timeout = open_timeout
        self._connect_options = dict(connect_options or {})
        self._subscriptions: dict[str, Subscription] = {}
        self._answers = Answers()
        self._socket: ClientConnection | None = None
        self._generation = 0
        self._runner: asyncio.Task[None] | None = None
        self._chores: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<RealtimeClient {self.url} {self.state.value}>"

    async def __aenter__(self) -> RealtimeClient:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    # --- The application's side -------------------------------------------------------

    async def connect(self) -> None:
        """Open the first connection; then the client keeps one open until `close()`."""
        self._move(ClientState.CONNECTING)
        try:
            socket = await self._open()
        except InvalidStatus as refused:
            self._fail(HandshakeRefused(refused.response.status_code))
            raise self._failure() from None
        except BaseException as error:
            self._fail(error if isinstance(error, Exception) else ClientClosed("the first connect was interrupted"))
            raise
        self._connected(socket)
        self._runner = asyncio.create_task(self._run(socket), name=f"realtime client {self.url}")

    async def subscribe(
        self, topic: str, *, since: int | None = None, position: Position | None = None
    ) -> Subscription:
        """
        Follow `topic` ("comments:42", "notifications"), with the replay of its
        entries after `since` when given; returns once the server answered
        `subscribed` (`SubscriptionRefused` for an error frame). While the
        client reconnects, the subscription waits for the next connection.
        """
        if self.state not in _OPEN:
            raise RuntimeError(f"Expected a connected client (inside `async with`), but it is {self.state.value}")
        if topic in self._subscriptions:
            raise RuntimeError(f"Already subscribed to {topic!r}: unsubscribe() first (one subscription per topic)")
        subscription = Subscription(self, topic, since=since, position=position or self._position)
        self._subscriptions[topic] = subscription
        await self._send_subscribe(subscription)
        await subscription.answered()
        return subscription

    async def close(self) -> None:
        """Close the connection with 1000; every subscription's `async for` ends, every waiting `send` raises."""
        if self.state in (ClientState.CLOSED, ClientState.FAILED):
            return
        self._move(ClientState.CLOSED)
        socket = self._socket
        tasks = [task for task in [self._runner, *self._chores] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if socket is not None:
            await socket.close(CLOSE_NORMAL)
        self._end(None)

    # --- What subscriptions use (subscriptions.Link) -------------------------------------

    @property
    def generation(self) -> int | None:
        return self._generation if self._socket is not None else None

    def new_ref(self) -> str:
        return self._answers.new_ref()

    def expect(self, ref: str) -> asyncio.Future[Frame]:
        if self.state not in _OPEN:
            raise self._failure()
        return self._answers.expect(ref)

    def drop_answer(self, ref: str) -> None:
        self._answers.drop(ref)

    async def write(self, message: Frame) -> None:
        socket = self._socket
        if socket is None:
            raise ConnectionLost("not connected")
        try:
            await socket.send(encode(message))
        except ConnectionClosed:
            raise ConnectionLost("the connection dropped") from None

    def resubscribe_later(self, subscription: Subscription) -> None:
        async def later() -> None:
            await asyncio.sleep(self.new_backoff().next_delay())
            await self._send_subscribe(subscription)

        task = asyncio.create_task(later())
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    def forget(self, subscription: Subscription) -> None:
        if self._subscriptions.get(subscription.topic) is subscription:
            del self._subscriptions[subscription.topic]

    def history_url(self, topic: str) -> str:
        return history_url(self.history_base, topic)

    def current_token(self) -> str | None:
        return self._credentials.current

    @property
    def token_renewable(self) -> bool:
        return self._credentials.renewable

    def new_backoff(self) -> Backoff:
        return Backoff(*self._delays)

    # --- Connections ---------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        token = await self._credentials.fresh()
        return await connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=self._open_timeout,
            logger=connection_logger(),
            **self._connect_options,
        )

    async def _run(self, socket: ClientConnection | None) -> None:
        """Serve each connection, and connect again after it while its close code says to."""
        try:
            await self._follow(socket)
        except Exception as error:  # a bug, or the application's position callable: fail loudly, hang nobody
            logger.exception("The realtime client for %s stopped", self.url)
            self._fail(error)

    async def _follow(self, socket: ClientConnection | None) -> None:
        while socket is not None:
            opened_at = time.monotonic()
            code, reason = await self._serve(socket)
            self._disconnected()
            self._backoff.connection_lasted(time.monotonic() - opened_at)
            failure = self._failure_after(code, reason)
            if failure is not None:
                self._fail(failure)
                return
            logger.info("Connection to %s closed with %s; reconnecting", self.url, code)
            self._move(ClientState.RECONNECTING)
            socket = await self._reconnect()
            if socket is not None:
                self._connected(socket)

    def _connected(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._generation += 1
        self.connections += 1
        self._move(ClientState.CONNECTED)

    async def _serve(self, socket: ClientConnection) -> tuple[int, str]:
        """Subscribe every topic on `socket`, then read it until it closes: its close code and reason."""
        refresher = None
        if self._credentials.renewable:
            refresher = asyncio.create_task(keep_token_fresh(socket, self._credentials, ahead=self._refresh_ahead))
        try:
            for subscription in list(self._subscriptions.values()):
                await self._send_subscribe(subscription)
            async for data in socket:
                await self._route(socket, data)
        except (ConnectionClosed, ConnectionLost):
            pass
        except Exception:
            with contextlib.suppress(Exception):
                await socket.close(CLOSE_NORMAL)
            raise
        finally:
            self._socket = None
            if refresher is not None:
                refresher.cancel()
        return socket.close_code or CLOSE_ABNORMAL, socket.close_reason or ""

    async def _reconnect(self) -> ClientConnection | None:
        """A new connection, after a backoff delay for each attempt; None when the client failed instead."""
        while True:
            token = self._credentials.current
            if not self._credentials.renewable and token is not None and has_expired(token, now=time.time()):
                self._fail(TokenExpired("the token expired and is a string: give token= a callable to renew it"))
                return None
            await asyncio.sleep(self._backoff.next_delay())
            try:
                return await self._open()
            except InvalidStatus as refused:
                status = refused.response.status_code
                if not self._credentials.renewable:
                    self._fail(HandshakeRefused(status))
                    return None
                logger.warning("The server refused the handshake with HTTP %s; retrying with a new token", status)
            except (OSError, TimeoutError, WebSocketException) as error:
                logger.info("Could not connect to %s (%s); retrying", self.url, type(error).__name__)
            except Exception as error:  # the token callable failed: the site may be away too
                logger.warning("The token callable raised %s; retrying", type(error).__name__)

    def _failure_after(self, code: int, reason: str) -> RealtimeClientError | None:
        """What ends the client after a close with `code`; None to reconnect."""
        if code not in RECONNECT_CODES:
            return ConnectionEnded(code, reason)
        if code == CLOSE_TOKEN_EXPIRED and not self._credentials.renewable:
            return TokenExpired("the server closed with 4401 and the token is a string: give token= a callable")
        return None

    async def _send_subscribe(self, subscription: Subscription) -> None:
        """Send `subscription`'s `subscribe` on the open connection, once per connection."""
        generation = self.generation
        if generation is None or subscription.sent_on == generation:
            return
        if subscription.state is not SubscriptionState.SUBSCRIBING:
            return
        subscription.sent_on = generation
        with contextlib.suppress(ConnectionLost):  # sent again on the next connection
            await self.write(subscription.subscribe_message())

    async def _route(self, socket: ClientConnection, data: str | bytes) -> None:
        frame = decode(data)
        if frame is None:
            logger.warning("Ignored a frame that is not a JSON object")
            return
        kind = frame.get("type")
        if kind == "ping":
            await socket.send(encode({"type": "pong"}))
            return
        topic = frame.get("topic")
        if self._answers.resolve(frame):
            return
        if isinstance(topic, str) and topic in self._subscriptions:
            self._subscriptions[topic].receive(frame)
        elif kind == "error":
            logger.warning("The server sent an error: %s: %s", frame.get("code"), frame.get("message"))
        else:
            logger.debug("A frame about no followed topic: %s", kind)

    # --- States ---------------------------------------------------------------------------

    def _disconnected(self) -> None:
        """The socket is gone: answers still awaited cannot come, subscriptions wait for the next one."""
        self._answers.fail_all(ConnectionLost("the connection dropped before the answer"))
        for subscription in list(self._subscriptions.values()):
            subscription.disconnected()

    def _fail(self, error: Exception) -> None:
        logger.warning("Realtime client for %s failed: %s", self.url, error)
        self.error = error
        self._move(ClientState.FAILED)
        for task in self._chores:
            task.cancel()
        self._end(error)

    def _failure(self) -> Exception:
        return self.error if self.error is not None else ClientClosed("the client was closed")

    def _end(self, error: Exception | None) -> None:
        self._answers.fail_all(error or ClientClosed("the client was closed"))
        subscriptions, self._subscriptions = list(self._subscriptions.values()), {}
        for subscription in subscriptions:
            subscription.end(error)

    def _move(self, to: ClientState) -> None:
        allowed = _MOVES.get(self.state, frozenset())
        if to not in allowed:
            expected = " or ".join(sorted(state.value for state in allowed)) or "nothing (it is over)"
            raise RuntimeError(f"Expected a move to {expected} from {self.state.value}, but got {to.value}")
        self.state = to
