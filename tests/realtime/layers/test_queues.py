"""LeanQueue: asyncio.Queue's behaviour for one reader, without its four deques."""

from __future__ import annotations

import asyncio

import pytest

from realtime.layers.queues import LeanQueue


async def test_items_come_out_in_order_and_an_empty_queue_holds_nothing() -> None:
    queue = LeanQueue()
    for item in (1, 2, 3):
        queue.put_nowait(item)
    assert (queue.qsize(), queue.empty()) == (3, False)
    assert [await queue.get() for _ in range(3)] == [1, 2, 3]
    assert (queue.qsize(), queue.empty(), queue._queue, queue._getters) == (0, True, None, None)


async def test_a_reader_waits_for_the_next_item() -> None:
    queue = LeanQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert not reader.done()
    queue.put_nowait("hello")
    assert await reader == "hello"
    assert queue._getters is None


async def test_one_waiting_reader_is_held_without_a_container() -> None:
    queue = LeanQueue()
    reader = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    assert type(queue._getters).__name__ == "Future"
    reader.cancel()
    await asyncio.sleep(0)
    assert (reader.cancelled(), queue._getters) == (True, None)


async def test_several_readers_are_served_in_the_order_they_came_even_when_one_leaves() -> None:
    queue = LeanQueue()
    readers = [asyncio.ensure_future(queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    readers[1].cancel()
    await asyncio.sleep(0)
    queue.put_nowait("a")
    queue.put_nowait("b")
    assert [await readers[0], await readers[2]] == ["a", "b"]
    assert (readers[1].cancelled(), queue._getters, queue._queue) == (True, None, None)


async def test_past_maxsize_it_is_full() -> None:
    queue = LeanQueue(maxsize=2)
    queue.put_nowait(1)
    queue.put_nowait(2)
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait(3)
    assert queue.get_nowait() == 1
    with pytest.raises(asyncio.QueueEmpty):
        LeanQueue().get_nowait()


async def test_a_reader_cancelled_after_being_woken_leaves_the_item_to_the_next() -> None:
    queue = LeanQueue()
    first = asyncio.ensure_future(queue.get())
    second = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("only")
    first.cancel()  # woken, and cancelled before it ran
    assert await second == "only"
    assert first.cancelled()


def test_daphne_and_channels_redis_get_lean_queues_from_the_server_integration() -> None:
    import channels_redis.pubsub
    import daphne.server

    from realtime.server import queues

    assert queues.install() == ["daphne.server", "channels_redis.pubsub"]
    assert daphne.server.asyncio.Queue is LeanQueue
    assert channels_redis.pubsub.asyncio.Queue is LeanQueue
    assert daphne.server.asyncio.ensure_future is asyncio.ensure_future  # the rest is asyncio's
