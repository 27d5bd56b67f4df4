"""realtime.layers.InMemoryChannelLayer keeps the behaviour of channels' in-memory layer, at a lower cost."""

from __future__ import annotations

from typing import Any

import pytest
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

from realtime import layers


@pytest.fixture
def layer() -> layers.InMemoryChannelLayer:
    return layers.InMemoryChannelLayer(capacity=2)


async def test_a_message_sent_to_a_channel_is_received_once(layer: layers.InMemoryChannelLayer) -> None:
    await layer.send("specific.a!1", {"type": "x", "n": 1})
    assert await layer.receive("specific.a!1") == {"type": "x", "n": 1}
    assert "specific.a!1" not in layer.channels


async def test_sending_to_a_full_channel_raises_channel_full(layer: layers.InMemoryChannelLayer) -> None:
    for number in range(2):
        await layer.send("specific.a!1", {"type": "x", "n": number})
    with pytest.raises(ChannelFull):
        await layer.send("specific.a!1", {"type": "x", "n": 2})


async def test_a_group_message_reaches_every_member_in_order(layer: layers.InMemoryChannelLayer) -> None:
    for channel in ("specific.a!1", "specific.a!2"):
        await layer.group_add("room", channel)
    await layer.group_send("room", {"type": "x", "n": 1})
    await layer.group_send("room", {"type": "x", "n": 2})
    for channel in ("specific.a!1", "specific.a!2"):
        assert [await layer.receive(channel), await layer.receive(channel)] == [
            {"type": "x", "n": 1},
            {"type": "x", "n": 2},
        ]


async def test_a_full_member_misses_group_messages_and_the_others_do_not(layer: layers.InMemoryChannelLayer) -> None:
    await layer.group_add("room", "specific.a!full")
    await layer.group_add("room", "specific.a!free")
    for number in range(2):
        await layer.send("specific.a!full", {"type": "x", "n": number})
    await layer.group_send("room", {"type": "x", "n": "group"})
    assert layer.channels["specific.a!full"].qsize() == 2
    assert await layer.receive("specific.a!free") == {"type": "x", "n": "group"}


async def test_every_member_gets_its_own_copy(layer: layers.InMemoryChannelLayer) -> None:
    await layer.group_add("room", "specific.a!1")
    await layer.group_add("room", "specific.a!2")
    original = {"type": "x", "nested": {"n": 1}}
    await layer.group_send("room", original)
    first = await layer.receive("specific.a!1")
    first["nested"]["n"] = 99
    assert await layer.receive("specific.a!2") == {"type": "x", "nested": {"n": 1}}
    assert original == {"type": "x", "nested": {"n": 1}}


async def test_expired_messages_are_dropped_and_their_channel_leaves_its_groups(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = layers.InMemoryChannelLayer(expiry=-1)  # every message is already expired
    await layer.group_add("room", "specific.a!1")
    await layer.send("specific.a!1", {"type": "x"})
    await layer.group_send("other", {"type": "y"})  # any operation may clean
    assert "specific.a!1" not in layer.channels
    assert "room" not in layer.groups or "specific.a!1" not in layer.groups["room"]


async def test_expiry_cleaning_runs_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = layers.InMemoryChannelLayer()
    walks: list[int] = []
    monkeypatch.setattr(ChannelsInMemoryChannelLayer, "_clean_expired", lambda self: walks.append(1))
    for _ in range(100):
        await layer.group_send("room", {"type": "x"})
    assert walks == [1]


def test_without_a_capacity_a_channel_has_room_for_twice_the_backlog_limit(realtime_settings: Any) -> None:
    realtime_settings.CHANNEL_BACKLOG_LIMIT = 7
    assert layers.InMemoryChannelLayer().capacity == 14
