"""
A subscription across reconnects (realtime/client/subscriptions.py), driven
through a stand-in for its client: what it resubscribes with, what it drops,
what `send` does when the connection drops before the answer.
"""

from __future__ import annotations

import asyncio

import pytest

from realtime.client import ConnectionLost, Frame, Subscription, SubscriptionState, default_position
from realtime.client.backoff import Backoff
from realtime.client.errors import ConnectionLost as Lost

TOPIC = "comments:1"


class StandIn:
    """The client's side of a subscription (subscriptions.Link), recording what it was asked to write."""

    def __init__(self) -> None:
        self.generation: int | None = 1
        self.written: list[Frame] = []
        self.answers: dict[str, asyncio.Future[Frame]] = {}
        self.forgotten: list[Subscription] = []

    def new_ref(self) -> str:
        return f"r{len(self.written)}"

    def expect(self, ref: str) -> asyncio.Future[Frame]:
        self.answers[ref] = asyncio.get_running_loop().create_future()
        return self.answers[ref]

    def drop_answer(self, ref: str) -> None:
        self.answers.pop(ref, None)

    async def write(self, message: Frame) -> None:
        if self.generation is None:
            raise Lost("not connected")
        self.written.append(message)

    def resubscribe_later(self, subscription: Subscription) -> None:
        raise AssertionError("not expected")

    def forget(self, subscription: Subscription) -> None:
        self.forgotten.append(subscription)

    def history_url(self, topic: str) -> str:
        return "http://127.0.0.1:9/realtime/history/" + topic.replace(":", "/")

    def current_token(self) -> str | None:
        return None

    token_renewable = True

    def new_backoff(self) -> Backoff:
        return Backoff()

    def drop(self, subscription: Subscription) -> None:
        """The connection dropped, as RealtimeClient tells it."""
        self.generation = None
        for future in self.answers.values():
            future.set_exception(Lost("dropped"))
        self.answers.clear()
        subscription.disconnected()


def comment(entry: int) -> Frame:
    return {"type": "comment", "comment": {"id": entry}, "topic": TOPIC}


SUBSCRIBED: Frame = {"type": "subscribed", "topic": TOPIC}


async def subscribed(link: StandIn, since: int | None = None) -> Subscription:
    subscription = Subscription(link, TOPIC, since=since, position=default_position)
    subscription.sent_on = link.generation
    subscription.receive(SUBSCRIBED)
    await subscription.answered()
    return subscription


async def drain(subscription: Subscription, count: int) -> list[Frame]:
    return await asyncio.wait_for(asyncio.gather(*[anext(subscription) for _ in range(count)]), 1)


async def test_a_resubscription_resumes_after_the_last_id_received() -> None:
    link = StandIn()
    subscription = await subscribed(link, since=0)
    for entry in (1, 2):
        subscription.receive(comment(entry))
    link.drop(subscription)
    assert (subscription.state, subscription.subscribe_message()) == (
        SubscriptionState.SUBSCRIBING,
        {"type": "subscribe", "topic": TOPIC, "since": 2},
    )


async def test_entries_sent_again_after_a_resume_are_delivered_once() -> None:
    link = StandIn()
    subscription = await subscribed(link, since=0)
    subscription.receive(comment(1))
    link.drop(subscription)
    link.generation = 2
    subscription.receive(SUBSCRIBED)
    for entry in (1, 2):  # a server that resent 1
        subscription.receive(comment(entry))
    frames = [await anext(subscription) for _ in range(4)]
    assert frames == [SUBSCRIBED, comment(1), SUBSCRIBED, comment(2)]


async def test_send_with_a_client_id_is_sent_again_after_the_connection_dropped() -> None:
    link = StandIn()
    subscription = await subscribed(link)
    sending = asyncio.create_task(subscription.send({"type": "new_comment", "body": "hi", "client_id": "c1"}))
    await asyncio.sleep(0)
    link.drop(subscription)
    link.generation = 2
    subscription.receive(SUBSCRIBED)
    await asyncio.sleep(0)
    ack: Frame = {"type": "comment_created", "comment_id": 5, "client_id": "c1", "topic": TOPIC, "ref": "r0"}
    link.answers["r0"].set_result(ack)
    assert await sending == ack
    message = {"type": "new_comment", "body": "hi", "client_id": "c1", "topic": TOPIC, "ref": "r0"}
    assert link.written == [message, message]


async def test_send_without_a_client_id_raises_connection_lost_when_the_connection_drops() -> None:
    link = StandIn()
    subscription = await subscribed(link)
    sending = asyncio.create_task(subscription.send({"type": "new_comment", "body": "hi"}))
    await asyncio.sleep(0)
    link.drop(subscription)
    with pytest.raises(ConnectionLost):
        await sending


async def test_unsubscribe_while_disconnected_ends_at_once() -> None:
    link = StandIn()
    subscription = await subscribed(link)
    link.drop(subscription)
    await subscription.unsubscribe()
    assert (subscription.state, link.forgotten, link.written) == (SubscriptionState.UNSUBSCRIBED, [subscription], [])
    with pytest.raises(StopAsyncIteration):
        await anext(subscription)


async def test_send_after_unsubscribe_raises_naming_what_was_expected() -> None:
    link = StandIn()
    subscription = await subscribed(link)
    link.drop(subscription)
    await subscription.unsubscribe()
    with pytest.raises(RuntimeError, match=f"Expected a subscribed subscription to {TOPIC}, but it is unsubscribed"):
        await subscription.send({"type": "new_comment", "body": "hi"})


async def test_a_message_with_a_client_id_waits_for_the_client_to_see_its_connection_go_before_resending() -> None:
    """The socket is closed but the reader has not run yet: the resend waits for the next connection."""
    link = StandIn()
    subscription = Subscription(link, TOPIC, since=None, position=default_position)
    subscription.sent_on = link.generation
    subscription.receive({"type": "subscribed", "topic": TOPIC})
    dead = {"writes": 0}
    real_write = link.write

    async def write_to_a_closed_socket(message: Frame) -> None:
        if message.get("client_id") and dead["writes"] < 1:
            dead["writes"] += 1
            raise Lost("the connection dropped")  # without suspending, as websockets does
        await real_write(message)

    link.write = write_to_a_closed_socket  # type: ignore[method-assign]
    sending = asyncio.ensure_future(subscription.send({"type": "new_comment", "body": "x", "client_id": "c1"}))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not sending.done()
    assert link.written == []  # waiting, not spinning on the dead socket
    link.drop(subscription)  # the reader notices
    link.generation = 2
    subscription.sent_on = 2
    subscription.receive({"type": "subscribed", "topic": TOPIC})
    for _ in range(20):
        if link.written:
            break
        await asyncio.sleep(0.05)
    (resent,) = link.written
    link.answers[resent["ref"]].set_result({"type": "comment_created", "ref": resent["ref"], "comment_id": 1})
    answered = await sending
    assert answered is not None
    assert answered["comment_id"] == 1
