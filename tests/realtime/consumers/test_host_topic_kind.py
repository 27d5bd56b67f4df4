"""
A host's own topic kind on `/ws/`: the README's example ("A topic kind of your
own", the `# builds/topics.py` block, run as it is written), live only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from project.asgi import application
from realtime.testing import topic_kind_registered
from realtime.topics.kinds import TopicKind

pytestmark = pytest.mark.django_db(transaction=True)

README = Path(settings.BASE_DIR) / "README.md"
TOPIC = "build:7"


def readme_block(first_line: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (block,) = [block for block in blocks if block.startswith(first_line + "\n")]
    return str(block)


@pytest.fixture
def build_topic() -> Iterator[TopicKind]:
    namespace: dict[str, Any] = {"__name__": "builds.topics"}
    exec(readme_block("# builds/topics.py"), namespace)
    with topic_kind_registered(namespace["BuildTopic"]()) as kind:
        yield kind


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
    await get_channel_layer().group_send("builds.7", {"type": "build.status", "topic": TOPIC, "state": "passed"})
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
