"""
The seed's WebSocket (starlette's `WebSocket`) as a Channels consumer.

`WebSocketConsumer` is an `AsyncJsonWebsocketConsumer` whose every ASGI message
passes through starlette's state machine (consumers/state.py): `client_state`
and `application_state` follow each transition, and an illegal one raises
`RuntimeError` with starlette's words. Around that it adds what the seed leaves
to its reader:

- JSON comes from text frames and from binary frames holding UTF-8 JSON; a frame
  that is not usable JSON is answered with an error frame, never a crash.
- Messages are handled one at a time, whatever their source (client frames,
  channel-layer events, local timers through `dispatch`), and without stock
  Channels' per-message thread hop: database work belongs in
  `database_sync_to_async`, which already closes stale connections around each
  call.
- Once the application has sent its close, only the client's disconnect is
  still handled; anything else that arrives is dropped. A client that does not
  answer the close within `CLOSE_TIMEOUT` seconds is gone (its socket was lost
  where the server could not tell the application, PROTOCOL.md "No ghosts"):
  the consumer ends as if it had disconnected with 1006.
- Every accepted connection is in the process's hub (realtime/hub.py) until it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, ClassVar

from asgiref.sync import markcoroutinefunction
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from realtime import codec, lifecycle
from realtime.clock import Timer
from realtime.close_codes import (
    CLOSE_ABNORMAL,
    CLOSE_FELL_BEHIND,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    CLOSE_SERVER_RESTARTING,
)
from realtime.conf import realtime_settings
from realtime.consumers.outgoing import (
    MAX_BYTES_PER_CHARACTER,
    handler_name,
    takes_two_arguments,
    too_large,
    too_large_instead,
)
from realtime.consumers.state import (
    WebSocketDisconnect,
    WebSocketState,
    after_receive,
    after_send,
)
from realtime.consumers.turns import Turns
from realtime.frames import ErrorCode, error_frame
from realtime.hub import Hub, hub
from realtime.layers.backlog import backlog
from realtime.layers.health import report_lost, report_working
from realtime.limits import stalls
from realtime.limits.flow import flow_of
from realtime.limits.ratelimit import Budgets
from realtime.metrics import catalog as metrics
from realtime.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

FELL_BEHIND: Message = {"type": "realtime.fell_behind"}
# Seconds a client has to answer the server's close before it counts as gone (1006).
CLOSE_TIMEOUT = 5.0
CLOSE_UNANSWERED: Message = {"type": "realtime.close_unanswered"}
DISCONNECT = "websocket.disconnect"
# Seconds to wait before reading a failed channel layer again, doubling up to the maximum.
LAYER_RETRY_FIRST = 0.5
LAYER_RETRY_MAX = 10.0

# The endings (group leaves, the channel's own) that outlive the cancelling of their consumer, until they end.
_OUTLIVING: set[asyncio.Future[Any]] = set()


async def outlive_cancellation(work: Awaitable[Any]) -> None:
    """
    Await `work`, which goes on to its end even if the caller is cancelled
    meanwhile: the caller gets its CancelledError at once. daphne cancels an
    application instance that takes longer than its close timeout to end (under
    load, its group leaves wait on Redis); cancelled half-way, a connection's
    channel stayed subscribed in its groups, with nobody reading it (C100k,
    bench/RESULTS.md).
    """
    future = asyncio.ensure_future(work)
    _OUTLIVING.add(future)
    future.add_done_callback(_OUTLIVING.discard)
    await asyncio.shield(future)


class WebSocketConsumer(AsyncJsonWebsocketConsumer):
    """
    Base class of every endpoint: starlette's `WebSocket` API on Channels.

    Subclasses keep Channels' contract: `connect`, `receive_json`,
    `disconnect(code)` (or `disconnect(code, reason)`), `groups`, channel-layer
    handlers, `send_json(content, close=...)`. Set `channel_layer_alias = None`
    on a consumer that needs no channel layer: it then gets no channel name and
    pays nothing for one.
    """

    channel_layer_alias: ClassVar[str | None] = "default"

    # What every connection holds, in slots (8 bytes each) rather than in its `__dict__`:
    # CPython shares one table of keys among the instances of a class only up to 30
    # attributes, and past them each connection's `__dict__` costs about 1.6 KiB
    # (bench/RESULTS.md, "Memory per connection"). Channels' and the subclasses' own
    # attributes stay in `__dict__`, a few keys, shared.
    __slots__ = (
        "_background",
        "_backlog_limit",
        "_budgets",
        "_close_timer",
        "_finished",
        "_flow",
        "_main",
        "_max_message_size",
        "_send_started",
        "_stop_error",
        "_stopping",
        "_transport_send",
        "_turns",
        "application_state",
        "channel_layer",
        "channel_name",
        "client_state",
        "current_message",
        "hub",
        "last_client_message_at",
        "scope",
        "waiting_for_client",
    )

    scope: Scope
    groups: list[str]
    client_state: WebSocketState
    application_state: WebSocketState
    hub: Hub
    # The message whose handler runs now (a channel-layer event's commit stamp: realtime/metrics/delivery.py).
    current_message: Message | None

    # True when a subclass overrides Channels' JSON hooks; the base ones do no I/O
    # and are called as plain functions, without a coroutine per message.
    _custom_json: ClassVar[bool] = False
    # True when the subclass's `disconnect` takes the close reason too.
    _disconnect_takes_reason: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._custom_json = any(
            inspect.getattr_static(cls, hook) is not vars(WebSocketConsumer)[hook]
            for hook in ("decode_json", "encode_json")
        )
        cls._disconnect_takes_reason = takes_two_arguments(cls.disconnect)

    @classmethod
    def as_asgi(cls, **initkwargs: Any) -> ASGIApp:
        """
        Channels' `as_asgi`, except that its application returns the consumer's own
        coroutine rather than awaiting it: one coroutine frame fewer held for each
        connection's life. Still an ASGI 3 application to whoever asks (servers, routers).
        """

        def app(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
            consumer: Awaitable[None] = cls(**initkwargs)(scope, receive, send)
            return consumer

        app.consumer_class = cls  # type: ignore[attr-defined]  # as Channels' own
        app.consumer_initkwargs = initkwargs  # type: ignore[attr-defined]
        functools.update_wrapper(app, cls, updated=())
        return markcoroutinefunction(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.hub = hub()
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self.current_message = None
        # Set by the reader, for the heartbeat: when the client's last message was
        # read, and whether the reader has read all that arrived and waits for more.
        self.last_client_message_at = self._now()
        self.waiting_for_client = False
        self._transport_send = send
        self._turns = Turns()
        # Background work (local events waiting their turn), made when there is some.
        self._background: set[asyncio.Task[Any]] | None = None
        # The task that reads the client (this one); `stop()` ends it, with the error that stopped the consumer.
        self._main = asyncio.current_task()
        self._stopping = False
        self._stop_error: BaseException | None = None
        self._finished = False
        self._close_timer: Timer | None = None
        self._send_started: float | None = None
        self._max_message_size: int = realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE
        self._backlog_limit: int = realtime_settings.CHANNEL_BACKLOG_LIMIT
        self._budgets = Budgets(self._now())
        self._flow = flow_of(scope)
        # An instance copy: `groups` is often a class attribute, and joining and leaving change it.
        # (Set in `__dict__`: a name Channels' classes define cannot be a slot.)
        self.__dict__["groups"] = list(self.groups or [])
        self.channel_layer = None
        if self.channel_layer_alias is not None:
            self.channel_layer = get_channel_layer(self.channel_layer_alias)
        layer_reader: asyncio.Task[None] | None = None
        if self.channel_layer is not None:
            try:
                self.channel_name = await self.channel_layer.new_channel()
            except Exception:
                self._lose_channel_layer("could not open a channel")
            else:
                layer_reader = asyncio.ensure_future(self._read_channel_layer())
                layer_reader.add_done_callback(self._layer_reader_done)
        now = self._now
        try:
            # The client is read here, in this task (no coroutine of its own held for the connection's
            # life); the channel layer in one more (two tasks a connection).
            while True:
                self.waiting_for_client = True
                message = await receive()
                self.waiting_for_client = False
                self.last_client_message_at = now()
                if self.client_state is WebSocketState.DISCONNECTED:
                    # Already ended as gone by another task (a send that failed, a heartbeat timed out), which
                    # is leaving its groups now: the server's own word of the disconnect adds nothing.
                    break
                if message["type"] != "websocket.receive" or self.client_state is not WebSocketState.CONNECTED:
                    self.client_state = after_receive(self.client_state, message["type"])
                await self.dispatch(message)
                del message  # not held while waiting for the next
        except StopConsumer:
            pass
        except asyncio.CancelledError:
            main = self._main
            if not self._stopping or main is None or main.uncancel() > 0:
                # Cancelled from outside: the server is stopping (hypercorn's workers learn no other way).
                if not await self._closed_as_the_server_stops():
                    raise
            elif self._stop_error is not None:
                raise self._stop_error from None
        finally:
            self.hub.closed(self)
            stalls.unwatch(self.hub, self)
            self._forget_close_timer()
            # However the consumer stopped (a disconnect, a crash, daphne cancelling it on
            # shutdown): stop timers first, so that nothing starts new work, then end the
            # background work, then leave the groups, so that no push piles up for a channel
            # that nobody reads.
            self._finished = True
            self.connection_finished()
            background = [*(self._background or ()), *([layer_reader] if layer_reader is not None else [])]
            for task in background:
                task.cancel()
            # The layer's reader unsubscribes the channel as it ends, then the groups are left: both to the end,
            # even if the server cancels the consumer meanwhile.
            if background or (self.groups and self.channel_layer is not None):
                await outlive_cancellation(self._end(background))

    async def _closed_as_the_server_stops(self) -> bool:
        """
        Cancelled from outside while open: close with 4012 (waiting at most CLOSE_GRACE for
        the frame to go) and end quietly; True when it did. A connection not open is left to the server.
        """
        if self.application_state is not WebSocketState.CONNECTED or self.client_state is WebSocketState.DISCONNECTED:
            return False
        self.application_state = WebSocketState.DISCONNECTED
        closing = {"type": "websocket.close", "code": CLOSE_SERVER_RESTARTING, "reason": ""}
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(self._transport_send(closing), lifecycle.CLOSE_GRACE)
        logger.info(
            "WebSocket %s closed with %s: the server is stopping", self.scope.get("path", "?"), CLOSE_SERVER_RESTARTING
        )
        return True

    def _forget_close_timer(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None

    def connection_finished(self) -> None:
        """
        Called once the consumer has stopped, however it stopped (a disconnect,
        a crash, or the server cancelling it on shutdown, when `disconnect` is
        not called). Release timers and other per-connection resources here.
        """

    def run_in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        """
        Run `work` beside the message loop; it is cancelled when the connection
        ends. If it raises, the consumer stops as if a handler had raised.
        """
        if self._finished:
            work.close()
            return
        task = asyncio.ensure_future(work)
        if self._background is None:
            self._background = set()
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def handle_local_event(self, event: Message) -> None:
        """Hand an event of this process (a timer's, the hub's) to `dispatch`, in the background."""
        self.run_in_background(self.dispatch(event))

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        if self._background is not None:
            self._background.discard(task)
            if not self._background:
                self._background = None  # an idle connection holds no empty set
        if not task.cancelled() and (error := task.exception()) is not None:
            self.stop(None if isinstance(error, StopConsumer) else error)

    def _layer_reader_done(self, task: asyncio.Task[Any]) -> None:
        """The channel layer's reader ended (a handler stopped the consumer, or failed): so does the consumer."""
        if not task.cancelled():
            error = task.exception()
            self.stop(None if isinstance(error, StopConsumer) else error)

    def stop(self, error: BaseException | None = None) -> None:
        """
        End the consumer from outside its reading of the client (a background
        task that stopped it, or failed with `error`, which the consumer then
        raises as if a handler had).
        """
        if self._stopping or self._finished or self._main is None:
            return
        self._stopping, self._stop_error = True, error
        self._main.cancel()

    # --- Groups ---------------------------------------------------------------

    async def join_group(self, group: str) -> None:
        """
        Join `group` now; it is left when the connection ends, like the groups in
        `groups`. If the channel layer fails, the connection goes on without it.
        """
        if self.channel_layer_alias is None:
            raise RuntimeError(f"{type(self).__name__} has no channel layer (channel_layer_alias = None).")
        if self.channel_layer is None:
            return
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            self._lose_channel_layer(f"could not join {group}")
            return
        self.groups.append(group)

    async def leave_group(self, group: str) -> None:
        """Leave `group` now (it is no longer left when the connection ends)."""
        if group not in self.groups:
            return
        self.groups.remove(group)
        if self.channel_layer is None:
            return
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception as error:  # the layer is down: one report of the outage; its group expiry drops the channel
            report_lost(f"leaving {group}", error)

    def _lose_channel_layer(self, what: str) -> None:
        """
        Go on without the channel layer (Redis is away): no live events reach this
        connection through it; feeds still get theirs from the feed checks
        (realtime/feeds/checks.py). The next connection tries the layer again.
        """
        report_lost(what)
        logger.debug("%s goes on without the channel layer", self.scope.get("path"))
        self.channel_layer = None

    async def _end(self, background: list[asyncio.Task[Any]]) -> None:
        """Wait for the background work cancelled, then leave every group."""
        if background:
            await asyncio.gather(*background, return_exceptions=True)
        await self._leave_each_group()

    async def _leave_groups(self) -> None:
        """Leave every group joined, once, to the end even if the consumer is cancelled meanwhile."""
        if self.groups and self.channel_layer is not None:
            await outlive_cancellation(self._leave_each_group())

    async def _leave_each_group(self) -> None:
        while self.groups and self.channel_layer is not None:
            group = self.groups.pop()
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except (
                Exception
            ) as error:  # the layer is down: one report of the outage; its group expiry drops the channel
                report_lost(f"leaving {group}", error)

    # --- Sources of messages ------------------------------------------------

    async def _read_channel_layer(self) -> None:
        layer, failures = self.channel_layer, 0
        assert layer is not None
        try:
            while True:
                try:
                    message = await layer.receive(self.channel_name)
                except Exception as error:  # the layer lost Redis: wait, then read again
                    failures += 1
                    report_lost("reading a channel", error)
                    await asyncio.sleep(min(LAYER_RETRY_MAX, LAYER_RETRY_FIRST * 2 ** (failures - 1)))
                    continue
                if failures:
                    report_working()
                failures = 0
                if (
                    self.application_state is WebSocketState.CONNECTED
                    and backlog(self.channel_layer, self.channel_name) > self._backlog_limit
                ):
                    await self.dispatch(FELL_BEHIND)
                await self.dispatch(message)
                del message  # not held while waiting for the next
        except StopConsumer:
            pass

    async def dispatch(self, message: Message) -> None:
        """
        Run the handler for `message`, one message at a time.

        Client frames, channel-layer events and local events (a heartbeat, a
        token deadline) all come through here, so no two handlers of one
        connection ever interleave.
        """
        turns = self._turns
        if not turns.try_take():
            await turns.wait()
        try:
            await self.handle_in_turn(message)
        finally:
            turns.give_back()

    async def handle_in_turn(self, message: Message) -> None:
        """Run the handler of `message`; the caller holds the turn."""
        if self.application_state is WebSocketState.DISCONNECTED and message["type"] not in _AFTER_CLOSE:
            logger.debug("Dropped %s: the connection is closing", message["type"])
            return
        self.current_message = message
        # Chosen in its turn: what the handlers before it did (a subscription) decides where it goes.
        handler = getattr(self, handler_name(message["type"]), None) or self.route(message)
        try:
            await handler(message)
        except WebSocketDisconnect as gone:
            self.client_state = WebSocketState.DISCONNECTED
            await self.websocket_disconnect({"type": "websocket.disconnect", "code": gone.code, "reason": gone.reason})
        finally:
            self.current_message = None  # not held while the connection waits for the next one

    async def handle_local_event_now(self, event: Message) -> None:
        """
        `handle_local_event`, in the caller's task when no handler holds the turn:
        one process-wide loop (a presence tick) delivering to thousands of
        connections makes no task per connection. When a handler is running, the
        event waits its turn in the background, as `handle_local_event` does; a
        handler that fails stops the consumer either way.
        """
        if self._finished or not self._turns.try_take():
            self.handle_local_event(event)
            return
        try:
            await self.handle_in_turn(event)
        except StopConsumer:
            self.stop()
        except Exception as error:
            self.stop(error)
        finally:
            self._turns.give_back()

    # --- The state machine --------------------------------------------------

    def route(self, message: Message) -> Callable[[Message], Awaitable[None]]:
        """The handler of a message no method is named for (a topic kind's events, consumers/feed.py)."""
        raise ValueError(f"No handler for message type {message['type']}")

    @property
    def base_send(self) -> Callable[[Message], Awaitable[None]]:
        """Channels' own send paths (accept, close, send) all end in base_send."""
        return self.send_message

    def _now(self) -> float:
        return self.hub.clock.monotonic()

    async def send_message(self, message: Message) -> None:
        """Send one ASGI message, enforcing starlette's `WebSocket.send` transitions."""
        message_type = message["type"]
        if self.application_state is WebSocketState.CONNECTED and message_type == "websocket.send":
            limit = self._max_message_size
            # Only a frame that could be too large is measured.
            if ((text := message.get("text")) is None or len(text) > limit // MAX_BYTES_PER_CHARACTER) and too_large(
                message, limit
            ):
                message = too_large_instead(message, limit, self.scope.get("path", "?"))
            await self._send_on_open_connection(message)
            return
        previous = self.application_state
        self.application_state = after_send(previous, message_type, more_body=message.get("more_body", False))
        if previous is WebSocketState.CONNECTED:  # a close on an open connection
            self._close_timer = self.hub.clock.call_later(CLOSE_TIMEOUT, self.handle_local_event, CLOSE_UNANSWERED)
            await self._send_on_open_connection(message)
        else:
            await self._transport_send(message)

    async def _send_on_open_connection(self, message: Message) -> None:
        try:
            if self._flow is not None:  # the server's send never waits (daphne's, measured by its flow control)
                await self._transport_send(message)
                return
            self._send_started = self._now()  # it may wait for the client (limits/stalls.py watches)
            try:
                await self._transport_send(message)
            finally:
                self._send_started = None
        except OSError:
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(code=CLOSE_ABNORMAL) from None

    def send_waiting_since(self) -> float | None:
        """When the send under way began, or None (limits/stalls.py)."""
        return self._send_started

    def send_stalled(self, waited: float) -> None:
        """A send waited a heartbeat for the client, which reads nothing: the connection is given up."""
        metrics.fell_behind.labels(metrics.STALLED_SEND).inc()
        logger.warning(
            "WebSocket %s fell behind: a send waited %.1f s for the client to read; giving the connection up",
            self.scope.get("path", "?"),
            waited,
        )
        self.stop()

    # --- The seed's API -----------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        if self.client_state is WebSocketState.CONNECTING:
            raise RuntimeError('Cannot call "accept" before the "websocket.connect" message has been received.')
        await super().accept(subprotocol=subprotocol, headers=headers)
        self.hub.opened(self)
        if self._flow is None:
            stalls.watch(self.hub, self)

    async def send_text(self, data: str) -> None:
        await self.send_message({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send_message({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text", close: bool | int = False) -> None:
        """
        Send `data` as compact JSON, in a text frame or (`mode="binary"`) as
        UTF-8 bytes. `close` is Channels' flag: true, or a close code, closes
        the connection after the frame.
        """
        if mode not in ("text", "binary"):
            raise RuntimeError('The "mode" argument should be "text" or "binary".')
        text = await self.encode_json(data) if self._custom_json else codec.encode(data)
        if mode == "text":
            await self.send_text(text)
        else:
            await self.send_bytes(text.encode("utf-8"))
        if close:
            await self.close(close)

    async def close(self, code: int | bool | None = CLOSE_NORMAL, reason: str | None = None) -> None:
        """Close with `code` (Channels' `None` and `True` mean 1000)."""
        if code is None or code is True:
            code = CLOSE_NORMAL
        await self.send_message({"type": "websocket.close", "code": int(code), "reason": reason or ""})

    def client_keeps_up(self) -> bool:
        """Whether the client has read what was sent, near enough (always, without the server's flow control)."""
        flow = self._flow
        return flow is None or flow.writable()

    async def until_writable(self) -> None:
        """
        Wait while the client is behind on reading what was sent (a replay goes
        as fast as the client reads it, never faster). A client that has not
        caught up within a heartbeat (HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT) is
        closed with 4410, and the connection's work stops: it comes back with `since`.
        """
        flow = self._flow
        if flow is None or flow.writable():
            return
        patience = realtime_settings.HEARTBEAT_INTERVAL + realtime_settings.HEARTBEAT_TIMEOUT
        drained = asyncio.ensure_future(flow.drained())
        waited = asyncio.ensure_future(self.hub.clock.sleep(patience))
        try:
            await asyncio.wait({drained, waited}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drained.cancel()
            waited.cancel()
        if flow.writable():
            return
        metrics.fell_behind.labels(metrics.UNREAD_REPLAY).inc()
        logger.warning(
            "WebSocket %s fell behind: %s bytes unread for %s s; closing with %s",
            self.scope.get("path", "?"),
            flow.buffered(),
            patience,
            CLOSE_FELL_BEHIND,
        )
        await self.close(CLOSE_FELL_BEHIND)
        raise WebSocketDisconnect(CLOSE_FELL_BEHIND, "fell behind")

    async def send_error(self, code: str, message: str) -> None:
        """Answer an unusable input with an error frame; the connection stays open."""
        await self.send_json(error_frame(code, message))

    # --- Rate limits (realtime/limits/ratelimit.py) ----------------------------

    def within_budget(self, kind: str) -> bool:
        """Spend from this connection's `kind` budget ("message", or a feature's); False when it is empty."""
        return self._budgets.spend(kind, self._now())

    def strike(self) -> bool:
        """Count a refusal of this connection's; False once it has been refused too often (close it with 4429)."""
        return self._budgets.strike(self._now())

    async def over_budget(self, kind: str) -> None:
        """A message found its budget empty: an error frame, or, for repeated abuse, close with 4429."""
        metrics.rate_limited.labels(kind).inc()
        if not self.strike():
            logger.warning("WebSocket %s closed with %s: too many %s", self.scope.get("path"), CLOSE_RATE_LIMITED, kind)
            await self.close(CLOSE_RATE_LIMITED)
            return
        await self.send_error(
            ErrorCode.RATE_LIMITED, f"{Budgets.describe(kind)}. This one was not handled; wait, then send it again."
        )

    # --- Channels' hooks ----------------------------------------------------

    async def websocket_receive(self, message: Message) -> None:
        """A client message: over WEBSOCKET_MAX_MESSAGE_SIZE, close 1009; else spend from the budget, `receive` it."""
        limit = self._max_message_size
        # Only a message that could be too large is measured (a character is at most four bytes).
        if ((text := message.get("text")) is None or len(text) > limit // MAX_BYTES_PER_CHARACTER) and too_large(
            message, limit
        ):
            logger.info(
                "WebSocket %s closed with %s: a message over %s bytes",
                self.scope.get("path", "?"),
                CLOSE_MESSAGE_TOO_BIG,
                limit,
            )
            await self.close(CLOSE_MESSAGE_TOO_BIG)
        elif not self._budgets.message.take(self._now()):
            await self.over_budget("message")
        elif message.get("text") is not None:
            await self.receive(text_data=message["text"])
        else:
            await self.receive(bytes_data=message["bytes"])

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Decode a text frame, or a binary frame of UTF-8 JSON, and pass it to `receive_json`."""
        try:
            if text_data is None:
                text_data = codec.text_from_bytes(bytes_data or b"")
            content = await self.decode_json(text_data) if self._custom_json else codec.decode_text(text_data)
        except codec.InvalidJSON as error:
            await self.send_error(ErrorCode.INVALID_JSON, str(error))
            return
        await self.receive_json(content, **kwargs)

    async def realtime_fell_behind(self, event: Message) -> None:
        """More live events wait for this connection than `CHANNEL_BACKLOG_LIMIT`: it cannot keep up."""
        metrics.fell_behind.labels(metrics.BACKLOG).inc()
        logger.warning(
            "WebSocket %s fell behind: more than %s live events waiting; closing with %s",
            self.scope.get("path", "?"),
            self._backlog_limit,
            CLOSE_FELL_BEHIND,
        )
        await self.close(CLOSE_FELL_BEHIND)

    async def realtime_close_unanswered(self, event: Message) -> None:
        """The client did not answer the server's close in time: it is gone."""
        if self.client_state is not WebSocketState.DISCONNECTED:
            await self.client_gone()

    async def client_gone(self) -> None:
        """End the connection as if the client had disconnected without a close frame (1006): it is gone."""
        await self.websocket_disconnect({"type": DISCONNECT, "code": CLOSE_ABNORMAL})

    async def server_restarting(self, event: Message) -> None:
        """The server is stopping (realtime/server/shutdown.py): close with 4012; the client comes back with since."""
        await self.close(CLOSE_SERVER_RESTARTING)

    async def websocket_disconnect(self, message: Message) -> None:
        """The client closed (or the transport failed): leave groups, call `disconnect`, stop."""
        self.client_state = WebSocketState.DISCONNECTED
        code = message.get("code", CLOSE_NO_STATUS)
        reason = message.get("reason") or ""
        closer = "the server" if self.application_state is WebSocketState.DISCONNECTED else "the client"
        logger.info("WebSocket %s closed by %s with code %s", self.scope.get("path", "?"), closer, code)
        await self._leave_groups()
        if self._disconnect_takes_reason:
            await self.disconnect(code, reason)
        else:
            await self.disconnect(code)
        raise StopConsumer()

    async def disconnect(self, code: int, reason: str = "") -> None:
        """The connection ended with the client's `code` and `reason` (starlette's `WebSocketDisconnect`)."""

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return codec.decode_text(text_data)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return codec.encode(content)


# What a connection still handles after the application sent its close.
_AFTER_CLOSE = frozenset({DISCONNECT, CLOSE_UNANSWERED["type"]})
