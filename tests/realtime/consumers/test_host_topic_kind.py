"""
A host's own topic kind on `/ws/`: docs/how-to/topic-kind.md's three blocks
(`builds/topics.py`, `builds/apps.py`, `builds/status.py`), run as they are
written, live only.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from project.asgi import application
from realtime.registry import Feature
from realtime.testing import topic_kind_registered
from realtime.topics.kinds import TopicKind
from tests.support.docs import block

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "docs/how-to/topic-kind.md"
TOPIC = "build:7"


def page_module(name: str, first_line: str) -> ModuleType:
    """The page's block as the module `name`, as a host's app would import it."""
    module = ModuleType(name)
    exec(block(PAGE, first_line), module.__dict__)
    return module


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The `builds` app of the page: its modules importable, as in a host site."""
    package = ModuleType("builds")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "builds", package)
    for name, first_line in MODULES.items():
        module = page_module(f"builds.{name}", first_line)
        monkeypatch.setitem(sys.modules, f"builds.{name}", module)
        setattr(package, name, module)
    return package


MODULES = {"topics": "# builds/topics.py (new)", "apps": "# builds/apps.py (new)", "status": "# builds/status.py (new)"}


@pytest.fixture
def build_topic(builds: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[TopicKind]:
    """The kind that the page's `BuildsConfig.ready()` registers, served for the test."""
    registered: list[Feature] = []
    monkeypatch.setattr("realtime.registry.register", registered.append)
    config = builds.apps.BuildsConfig.__new__(builds.apps.BuildsConfig)
    config.ready()
    (feature,) = registered
    (kind,) = feature.topics
    assert (feature.name, type(kind)) == ("builds", builds.topics.BuildTopic)
    with topic_kind_registered(kind) as served:
        yield served


async def connect(token: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}")
    assert await communicator.connect() == (True, None)
    return communicator


async def test_a_registered_kind_is_followed_and_its_events_reach_the_subscriber(
    build_topic: TopicKind, token: str
) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": TOPIC, "ref": "r"})
    assert await ws.receive_json_from() == {"type": "subscribed", "topic": TOPIC, "ref": "r"}
    await sync_to_async(sys.modules["builds.status"].build_changed)(7, "passed")
    assert await ws.receive_json_from() == {"type": "build_status", "state": "passed", "topic": TOPIC}
    await ws.disconnect()


async def test_a_live_only_kind_answers_since_with_an_empty_replay(build_topic: TopicKind, token: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": TOPIC, "since": 12})
    assert await ws.receive_json_from() == {"type": "subscribed", "topic": TOPIC}
    assert await ws.receive_json_from() == {
        "type": "replay_complete",
        "last_id": 12,
        "truncated": False,
        "topic": TOPIC,
    }
    await ws.disconnect()


async def test_a_key_the_kind_refuses_is_unknown_topic(build_topic: TopicKind, token: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": "build:latest"})
    assert await ws.receive_json_from() == {
        "type": "error",
        "code": "unknown_topic",
        "message": 'a build id is a number, as in "build:7".',
        "topic": "build:latest",
    }
    await ws.disconnect()


async def test_after_the_block_the_kind_is_unknown_again(token: str) -> None:
    ws = await connect(token)
    await ws.send_json_to({"type": "subscribe", "topic": TOPIC})
    frame = await ws.receive_json_from()
    assert (frame["code"], frame["topic"]) == ("unknown_topic", TOPIC)
    await ws.disconnect()


def test_a_feed_consumer_whose_topic_key_is_a_plain_method_is_refused_when_its_class_is_made() -> None:
    from realtime.consumers import FeedConsumer

    with pytest.raises(TypeError, match=r"OldStyle.topic_key must be a classmethod of \(scope, user\)"):

        class OldStyle(FeedConsumer):
            def topic_key(self) -> Any:  # type: ignore[override]  # the signature before issue 25
                return 1
