"""
WebSocketConsumer keeps the seed's (starlette's) state machine on Channels.

Each test drives a small consumer through the communicator and asserts the
exact ASGI messages, states and errors.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from channels.testing import ApplicationCommunicator, WebsocketCommunicator

from realtime.consumers import WebSocketConsumer, WebSocketDisconnect, WebSocketState

PATH = "/ws/test"


class Recorder(WebSocketConsumer):
    """Accepts, records what it sees, and answers JSON with its states."""

    seen: list[tuple[str, Any]]

    async def connect(self) -> None:
        self.seen = [("connect", (self.client_state, self.application_state))]
        await self.accept()
        self.seen.append(("accepted", (self.client_state, self.application_state)))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"got": content})

    async def disconnect(self, code: int, reason: str = "") -> None:
        self.seen.append(("disconnect", (code, self.client_state)))
        self.reason = reason


def communicator_for(consumer_class: type[WebSocketConsumer], **kwargs: Any) -> tuple[WebsocketCommunicator, Any]:
    """A communicator for a new instance of `consumer_class`, and that instance."""
    consumer = consumer_class()
    return WebsocketCommunicator(consumer, PATH, **kwargs), consumer


async def connected(consumer_class: type[WebSocketConsumer]) -> tuple[WebsocketCommunicator, Any]:
    communicator, consumer = communicator_for(consumer_class)
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator, consumer


# --- States -------------------------------------------------------------------


async def test_states_follow_connect_and_accept() -> None:
    communicator, consumer = await connected(Recorder)
    assert consumer.seen == [
        ("connect", (WebSocketState.CONNECTED, WebSocketState.CONNECTING)),
        ("accepted", (WebSocketState.CONNECTED, WebSocketState.CONNECTED)),
    ]
    await communicator.disconnect()


async def test_client_close_code_reaches_disconnect_with_client_state_disconnected() -> None:
    communicator, consumer = await connected(Recorder)
    await communicator.disconnect(code=4321)
    assert consumer.seen[-1] == ("disconnect", (4321, WebSocketState.DISCONNECTED))


async def test_the_clients_close_reason_reaches_disconnect() -> None:
    communicator, consumer = await connected(Recorder)
    await communicator.send_input({"type": "websocket.disconnect", "code": 4000, "reason": "tab closed"})
    await communicator.wait()
    assert (consumer.seen[-1], consumer.reason) == (("disconnect", (4000, WebSocketState.DISCONNECTED)), "tab closed")


async def test_a_close_without_a_reason_reaches_disconnect_with_an_empty_one() -> None:
    communicator, consumer = await connected(Recorder)
    await communicator.disconnect(code=1001)
    assert consumer.reason == ""


class ChannelsStyleDisconnect(Recorder):
    """A consumer written for Channels: `disconnect(code)`, no reason."""

    async def disconnect(self, code: int) -> None:  # type: ignore[override]  # Channels' signature, still accepted
        self.seen.append(("disconnect", (code, self.client_state)))


async def test_a_disconnect_taking_only_the_code_still_gets_it() -> None:
    communicator, consumer = await connected(ChannelsStyleDisconnect)
    await communicator.send_input({"type": "websocket.disconnect", "code": 4000, "reason": "tab closed"})
    await communicator.wait()
    assert consumer.seen[-1] == ("disconnect", (4000, WebSocketState.DISCONNECTED))


async def test_disconnect_without_code_reports_1005() -> None:
    communicator, consumer = await connected(Recorder)
    await communicator.send_input({"type": "websocket.disconnect"})
    await communicator.wait()
    assert consumer.seen[-1] == ("disconnect", (1005, WebSocketState.DISCONNECTED))


async def test_disconnect_is_logged_with_its_code(caplog: pytest.LogCaptureFixture) -> None:
    communicator, _ = await connected(Recorder)
    with caplog.at_level("INFO", logger="realtime.consumers.base"):
        await communicator.disconnect(code=1001)
    assert [r.getMessage() for r in caplog.records] == [f"WebSocket {PATH} closed by the client with code 1001"]


async def test_a_close_the_server_sent_is_logged_as_the_servers(caplog: pytest.LogCaptureFixture) -> None:
    communicator, consumer = await connected(Recorder)
    await consumer.close(4321)
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4321, "reason": ""}
    with caplog.at_level("INFO", logger="realtime.consumers.base"):
        await communicator.send_input({"type": "websocket.disconnect", "code": 4321})
        await communicator.wait()
    assert [r.getMessage() for r in caplog.records] == [f"WebSocket {PATH} closed by the server with code 4321"]


# --- Illegal transitions --------------------------------------------------------


class SendsBeforeAccept(WebSocketConsumer):
    async def connect(self) -> None:
        await self.send_text("too early")


async def test_send_before_accept_raises_the_seed_error() -> None:
    communicator = WebsocketCommunicator(SendsBeforeAccept.as_asgi(), PATH)
    with pytest.raises(RuntimeError) as error:
        await communicator.connect(timeout=0.1)  # the application has crashed: no answer will come
    assert str(error.value) == (
        'Expected ASGI message "websocket.accept", "websocket.close" or '
        "\"websocket.http.response.start\", but got 'websocket.send'"
    )


class ClosesThen(WebSocketConsumer):
    """Closes on its first frame, then does what the frame says."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close()
        if text_data == "send":
            await self.send_text("after close")
        elif text_data == "close":
            await self.close()


@pytest.mark.parametrize("then", ["send", "close"], ids=["send", "close"])
async def test_send_or_close_once_closed_raises_the_seed_error(then: str) -> None:
    communicator, consumer = await connected(ClosesThen)
    await communicator.send_to(text_data=then)
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1000, "reason": ""}
    with pytest.raises(RuntimeError) as error:
        await communicator.wait()
    assert str(error.value) == 'Cannot call "send" once a close message has been sent.'
    assert consumer.application_state is WebSocketState.DISCONNECTED


async def test_a_first_message_other_than_connect_raises() -> None:
    communicator = ApplicationCommunicator(Recorder.as_asgi(), {"type": "websocket", "path": PATH})
    await communicator.send_input({"type": "websocket.receive", "text": "hi"})
    with pytest.raises(RuntimeError) as error:
        await communicator.wait()
    assert str(error.value) == "Expected ASGI message \"websocket.connect\", but got 'websocket.receive'"


# --- Closing --------------------------------------------------------------------


class ClosesWith(WebSocketConsumer):
    """Accepts, then closes with the code the client sends."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        await self.close(code=int(text_data or "1000"))


@pytest.mark.parametrize("code", [1000, 4401, 3000, 1001, 1008, 1009, 1011], ids=str)
async def test_close_after_accept_sends_the_code_asked_for(code: int) -> None:
    """Exactly: a server that cannot send it translates it (under daphne, realtime/server/codes.py)."""
    communicator, consumer = await connected(ClosesWith)
    await communicator.send_to(text_data=str(code))
    assert await communicator.receive_output() == {"type": "websocket.close", "code": code, "reason": ""}
    assert consumer.application_state is WebSocketState.DISCONNECTED
    await communicator.disconnect()


class RefusesWith1008(WebSocketConsumer):
    async def connect(self) -> None:
        await self.close(code=1008, reason="no")


async def test_close_before_accept_keeps_its_code() -> None:
    communicator, consumer = communicator_for(RefusesWith1008)
    assert await communicator.connect() == (False, 1008)
    assert consumer.application_state is WebSocketState.DISCONNECTED


async def test_frames_arriving_after_the_application_closed_are_dropped() -> None:
    communicator, _ = await connected(ClosesWith)
    await communicator.send_to(text_data="1000")
    await communicator.receive_output()
    await communicator.send_to(text_data="4000")
    assert await communicator.receive_nothing()
    await communicator.disconnect()


# --- Sending --------------------------------------------------------------------


class Sender(WebSocketConsumer):
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json(content["data"], mode=content.get("mode", "text"))


async def test_send_json_is_compact_and_keeps_non_ascii() -> None:
    communicator, _ = await connected(Sender)
    await communicator.send_json_to({"data": {"name": "Zoë", "tags": ["ü", 1]}})
    assert await communicator.receive_output() == {"type": "websocket.send", "text": '{"name":"Zoë","tags":["ü",1]}'}
    await communicator.disconnect()


async def test_send_json_binary_mode_sends_utf8_bytes() -> None:
    communicator, _ = await connected(Sender)
    await communicator.send_json_to({"data": {"name": "Zoë"}, "mode": "binary"})
    assert await communicator.receive_output() == {
        "type": "websocket.send",
        "bytes": '{"name":"Zoë"}'.encode(),
    }
    await communicator.disconnect()


async def test_send_json_with_another_mode_raises_the_seed_error() -> None:
    communicator, _ = await connected(Sender)
    await communicator.send_json_to({"data": 1, "mode": "xml"})
    with pytest.raises(RuntimeError) as error:
        await communicator.wait()
    assert str(error.value) == 'The "mode" argument should be "text" or "binary".'


class TextAndBytes(WebSocketConsumer):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is not None:
            await self.send_text(text_data.upper())
        else:
            await self.send_bytes(bytes(reversed(bytes_data or b"")))


async def test_send_text_and_send_bytes_send_one_frame_each() -> None:
    communicator, _ = await connected(TextAndBytes)
    await communicator.send_to(text_data="abc")
    assert await communicator.receive_output() == {"type": "websocket.send", "text": "ABC"}
    await communicator.send_to(bytes_data=b"\x01\x02")
    assert await communicator.receive_output() == {"type": "websocket.send", "bytes": b"\x02\x01"}
    await communicator.disconnect()


async def test_accept_passes_subprotocol_and_headers() -> None:
    class Picky(WebSocketConsumer):
        async def connect(self) -> None:
            await self.accept(subprotocol="v1", headers=[(b"x-server", b"yes")])

    communicator = WebsocketCommunicator(Picky.as_asgi(), PATH, subprotocols=["v1"])
    assert await communicator.connect() == (True, "v1")
    assert communicator.response_headers == [(b"x-server", b"yes")]
    await communicator.disconnect()


# --- Receiving JSON -----------------------------------------------------------


async def test_json_arrives_from_text_and_binary_frames() -> None:
    communicator, _ = await connected(Recorder)
    await communicator.send_to(text_data='{"a": 1}')
    assert await communicator.receive_json_from() == {"got": {"a": 1}}
    await communicator.send_to(bytes_data='{"b": "ü"}'.encode())
    assert await communicator.receive_json_from() == {"got": {"b": "ü"}}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            {"text_data": "{oops"},
            "The frame is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1).",
        ),
        ({"bytes_data": b"\xff\xfe"}, "A binary frame must hold UTF-8 encoded JSON."),
        ({"text_data": "NaN"}, "NaN is not a JSON value."),
        ({"text_data": "[1e999]"}, "The number 1e999 is too large."),
        ({"text_data": "[" * 101 + "]" * 101}, "JSON may nest at most 100 levels deep."),
        ({"text_data": "[" * 5000 + "]" * 5000}, "JSON may nest at most 100 levels deep."),
    ],
    ids=["malformed", "not-utf8", "nan", "overflow", "too-deep", "far-too-deep"],
)
async def test_unusable_json_gets_an_error_frame_and_the_connection_stays_open(
    frame: dict[str, Any], message: str
) -> None:
    communicator, _ = await connected(Recorder)
    await communicator.send_to(**frame)
    assert await communicator.receive_json_from() == {"type": "error", "code": "invalid_json", "message": message}
    await communicator.send_json_to({"still": "here"})
    assert await communicator.receive_json_from() == {"got": {"still": "here"}}
    await communicator.disconnect()


async def test_empty_text_frame_is_invalid_json_not_a_crash() -> None:
    communicator, _ = await connected(Recorder)
    await communicator.send_input({"type": "websocket.receive", "text": ""})
    frame = await communicator.receive_json_from()
    assert (frame["type"], frame["code"]) == ("error", "invalid_json")
    await communicator.disconnect()


async def test_one_hundred_levels_of_nesting_are_accepted() -> None:
    communicator, _ = await connected(Recorder)
    await communicator.send_to(text_data="[" * 100 + "]" * 100)
    assert await communicator.receive_output() == {
        "type": "websocket.send",
        "text": '{"got":' + "[" * 100 + "]" * 100 + "}",
    }
    await communicator.disconnect()


async def test_lone_surrogates_are_sent_back_escaped() -> None:
    communicator, _ = await connected(Recorder)
    await communicator.send_to(text_data='["\\ud800", "é"]')
    assert await communicator.receive_output() == {"type": "websocket.send", "text": '{"got":["\\ud800","\\u00e9"]}'}
    await communicator.disconnect()


# --- Disconnects raised inside handlers ------------------------------------------


class FailingTransport(Recorder):
    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if content == "raise":
            raise WebSocketDisconnect(code=4000, reason="handler gave up")
        await self.send_json("reply")


async def test_websocket_disconnect_raised_by_a_handler_runs_the_disconnect_path() -> None:
    communicator, consumer = await connected(FailingTransport)
    await communicator.send_json_to("raise")
    await communicator.wait()
    assert (consumer.seen[-1], consumer.reason) == (
        ("disconnect", (4000, WebSocketState.DISCONNECTED)),
        "handler gave up",
    )


async def test_a_send_failing_at_the_transport_becomes_disconnect_1006() -> None:
    async def broken_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            raise ConnectionResetError("peer gone")
        await real_send(message)

    consumer = FailingTransport()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def real_send(message: dict[str, Any]) -> None:
        sent.append(message)

    await queue.put({"type": "websocket.connect"})
    await queue.put({"type": "websocket.receive", "text": '"hello"'})
    await asyncio.wait_for(consumer({"type": "websocket", "path": PATH}, queue.get, broken_send), timeout=2)
    assert sent == [{"type": "websocket.accept", "subprotocol": None}]
    assert consumer.seen[-1] == ("disconnect", (1006, WebSocketState.DISCONNECTED))
    assert consumer.application_state is WebSocketState.DISCONNECTED


# --- Channels' contract ---------------------------------------------------------


class GroupMember(WebSocketConsumer):
    groups = ["room"]

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"room": event["text"]}, close=event.get("close", False))


async def test_groups_and_channel_layer_handlers_work_as_in_channels() -> None:
    communicator, _ = await connected(GroupMember)
    await get_channel_layer().group_send("room", {"type": "room.message", "text": "hi"})
    assert await communicator.receive_json_from() == {"room": "hi"}
    await communicator.disconnect()


async def test_send_json_close_true_sends_then_closes_normally() -> None:
    communicator, _ = await connected(GroupMember)
    await get_channel_layer().group_send("room", {"type": "room.message", "text": "bye", "close": True})
    assert await communicator.receive_json_from() == {"room": "bye"}
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1000, "reason": ""}
    await communicator.disconnect()


async def test_leaving_removes_the_channel_from_its_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    communicator, consumer = await connected(GroupMember)
    discarded: list[tuple[str, str]] = []
    assert consumer.channel_layer is not None
    original = consumer.channel_layer.group_discard

    async def recording_discard(group: str, channel: str) -> None:
        discarded.append((group, channel))
        await original(group, channel)

    monkeypatch.setattr(consumer.channel_layer, "group_discard", recording_discard)
    await communicator.disconnect()
    assert discarded == [("room", consumer.channel_name)]


class SlowHandler(WebSocketConsumer):
    groups = ["slow"]
    gate: asyncio.Event

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json("started")
        await type(self).gate.wait()
        await self.send_json("finished")

    async def slow_event(self, event: dict[str, Any]) -> None:
        await self.send_json("event")


async def test_channel_layer_events_wait_for_the_running_handler() -> None:
    SlowHandler.gate = asyncio.Event()
    communicator, _ = await connected(SlowHandler)
    await communicator.send_json_to("go")
    assert await communicator.receive_json_from() == "started"
    await get_channel_layer().group_send("slow", {"type": "slow.event"})
    assert await communicator.receive_nothing(timeout=0.2)
    SlowHandler.gate.set()
    assert [await communicator.receive_json_from(), await communicator.receive_json_from()] == ["finished", "event"]
    await communicator.disconnect()


class NoLayer(Recorder):
    channel_layer_alias = None


async def test_a_consumer_without_channel_layer_gets_no_channel_name() -> None:
    communicator, consumer = await connected(NoLayer)
    assert consumer.channel_layer is None
    assert not hasattr(consumer, "channel_name")
    await communicator.disconnect()


async def test_handling_messages_takes_no_thread_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    hops: list[object] = []
    original = __import__("asgiref.sync", fromlist=["SyncToAsync"]).SyncToAsync.__call__

    async def counting_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr("asgiref.sync.SyncToAsync.__call__", counting_call)
    communicator, _ = await connected(Recorder)
    for number in range(5):
        await communicator.send_json_to(number)
        assert await communicator.receive_json_from() == {"got": number}
    await communicator.disconnect()
    assert hops == []


# --- Whatever ends a consumer, it leaves its groups and starts nothing new ---------------


class Crashes(GroupMember):
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        raise KeyError("a bug in a handler")


def record_discards(consumer: WebSocketConsumer, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    discarded: list[tuple[str, str]] = []
    assert consumer.channel_layer is not None
    original = consumer.channel_layer.group_discard

    async def recording_discard(group: str, channel: str) -> None:
        discarded.append((group, channel))
        await original(group, channel)

    monkeypatch.setattr(consumer.channel_layer, "group_discard", recording_discard)
    return discarded


async def test_a_crashed_consumer_leaves_its_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    communicator, consumer = await connected(Crashes)
    discarded = record_discards(consumer, monkeypatch)
    await communicator.send_to(text_data="boom")
    with pytest.raises(KeyError):
        await communicator.wait()
    assert discarded == [("room", consumer.channel_name)]


async def test_an_open_consumer_cancelled_from_outside_closes_with_4012_and_leaves_its_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    communicator, consumer = await connected(GroupMember)
    discarded = record_discards(consumer, monkeypatch)
    communicator.future.cancel()  # what a stopping server does (hypercorn past its graceful timeout, daphne)
    await communicator.future  # it ends quietly: the server logs no cancelled application
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4012, "reason": ""}
    assert discarded == [("room", consumer.channel_name)]


async def test_a_closed_consumer_cancelled_from_outside_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    communicator, consumer = await connected(GroupMember)
    discarded = record_discards(consumer, monkeypatch)
    await consumer.close()
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 1000, "reason": ""}
    communicator.future.cancel()  # closed already, waiting for the client's disconnect: nothing more to say
    with pytest.raises(asyncio.CancelledError):
        await communicator.future
    assert discarded == [("room", consumer.channel_name)]


async def test_groups_joined_per_instance_do_not_leak_into_the_class() -> None:
    communicator, consumer = await connected(GroupMember)
    await consumer.join_group("extra")
    await communicator.disconnect()
    assert GroupMember.groups == ["room"]


async def test_no_background_work_starts_once_the_consumer_finished() -> None:
    communicator, consumer = await connected(Recorder)
    await communicator.disconnect()
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    consumer.run_in_background(work())
    await asyncio.sleep(0.01)
    assert (ran, consumer._background) == ([], None)


# --- Handlers take turns, even when some are cancelled ---------------------------


class Turns(WebSocketConsumer):
    channel_layer_alias = None
    ran: list[str]
    gate: asyncio.Event

    async def slow_event(self, event: dict[str, Any]) -> None:
        await self.gate.wait()
        self.ran.append(event["name"])

    async def fast_event(self, event: dict[str, Any]) -> None:
        self.ran.append(event["name"])


async def connected_turns() -> tuple[WebsocketCommunicator, Turns]:
    communicator, consumer = await connected(Turns)
    consumer.ran, consumer.gate = [], asyncio.Event()
    return communicator, consumer


async def test_a_handler_cancelled_while_waiting_does_not_hold_up_the_next() -> None:
    communicator, consumer = await connected_turns()
    slow = asyncio.create_task(consumer.dispatch({"type": "slow.event", "name": "slow"}))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(consumer.dispatch({"type": "fast.event", "name": "cancelled"}))
    waiting = asyncio.create_task(consumer.dispatch({"type": "fast.event", "name": "next"}))
    await asyncio.sleep(0)
    cancelled.cancel()
    consumer.gate.set()
    await asyncio.wait_for(asyncio.gather(slow, cancelled, waiting, return_exceptions=True), timeout=2)
    assert (consumer.ran, consumer._turns._busy, cancelled.cancelled()) == (["slow", "next"], False, True)
    await communicator.disconnect()


async def test_a_handler_cancelled_just_after_getting_its_turn_hands_it_on() -> None:
    communicator, consumer = await connected_turns()
    consumer._turns._busy = True  # as if a handler were running
    handed = asyncio.create_task(consumer.dispatch({"type": "fast.event", "name": "handed"}))
    waiting = asyncio.create_task(consumer.dispatch({"type": "fast.event", "name": "next"}))
    await asyncio.sleep(0)
    consumer._turns.give_back()  # the running handler ends: `handed` gets the turn...
    handed.cancel()  # ...and is cancelled before it resumes
    await asyncio.wait_for(asyncio.gather(handed, waiting, return_exceptions=True), timeout=2)
    assert (consumer.ran, consumer._turns._busy, handed.cancelled()) == (["next"], False, True)
    await communicator.disconnect()


class CustomJson(WebSocketConsumer):
    channel_layer_alias = None

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return {"decoded": text_data}

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        return f"<{content}>"

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json(content)


async def test_overridden_decode_json_and_encode_json_are_used() -> None:
    communicator, _ = await connected(CustomJson)
    await communicator.send_to(text_data="raw")
    assert await communicator.receive_output() == {"type": "websocket.send", "text": "<{'decoded': 'raw'}>"}
    await communicator.disconnect()


async def test_an_event_handled_now_runs_in_the_callers_task_when_no_handler_holds_the_turn() -> None:
    communicator, consumer = await connected_turns()
    await consumer.handle_local_event_now({"type": "fast.event", "name": "now"})
    assert (consumer.ran, consumer._background, consumer._turns._busy) == (["now"], None, False)
    await communicator.disconnect()


async def test_an_event_handled_now_waits_its_turn_behind_a_running_handler() -> None:
    communicator, consumer = await connected_turns()
    slow = asyncio.create_task(consumer.dispatch({"type": "slow.event", "name": "slow"}))
    await asyncio.sleep(0)
    await consumer.handle_local_event_now({"type": "fast.event", "name": "after"})
    assert consumer.ran == []
    assert consumer._background is not None
    (waiting,) = consumer._background  # it waits, in the background
    consumer.gate.set()
    await asyncio.wait_for(asyncio.gather(slow, waiting), timeout=2)
    assert consumer.ran == ["slow", "after"]
    await communicator.disconnect()


class SlowToLeave(Recorder):
    """Its `disconnect` waits for the test: what leaving Redis groups takes on a busy server."""

    released: asyncio.Event

    async def disconnect(self, code: int, reason: str = "") -> None:
        await super().disconnect(code, reason)
        await self.released.wait()


async def test_the_servers_disconnect_after_the_connection_was_ended_as_gone_ends_it_quietly() -> None:
    """
    Another task ends the connection as gone (a send failed, a heartbeat timed out) and is still
    leaving when the server's own `websocket.disconnect` arrives (uvicorn, 10,000 clients leaving at
    once): no "Cannot call receive once a disconnect message has been received".
    """
    communicator, consumer = await connected(SlowToLeave)
    consumer.released = asyncio.Event()
    gone = asyncio.ensure_future(consumer.client_gone())
    await asyncio.sleep(0)  # client_gone runs up to the wait in disconnect
    assert consumer.client_state is WebSocketState.DISCONNECTED
    await communicator.send_input({"type": "websocket.disconnect", "code": 1006})
    await asyncio.sleep(0.01)  # the consumer reads it
    consumer.released.set()
    with pytest.raises(StopConsumer):  # how the consumer ends
        await gone
    await communicator.wait()  # the application ended without an error
    assert consumer.seen[-1] == ("disconnect", (1006, WebSocketState.DISCONNECTED))
