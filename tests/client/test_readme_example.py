"""
README's "A Python client" block, run as it is against a live daphne, in an
interpreter where Django cannot be imported (tests/client/isolated.py): it
prints the replayed comments, then a live one.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from comments.models import Post
from realtime.auth.tokens import issue_token
from realtime.client import RealtimeClient
from tests.client.helpers import WAIT, comments_in_bulk, ws_url
from tests.client.isolated import isolated_command, isolated_environment, isolated_folder
from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

HEADING = "## A Python client"


def readme_example() -> str:
    """The first python block of README.md's "A Python client" section."""
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split(f"\n{HEADING}\n", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"no python block under {HEADING!r}"
    return block.group(1)


async def test_the_readme_example_follows_a_topic(
    daphne_server: LiveServer, post: Post, user: Any, tmp_path: Path
) -> None:
    await asyncio.to_thread(comments_in_bulk, post, user, 2, size=3)
    folder = isolated_folder(tmp_path)
    (folder / "worker.py").write_text(readme_example())
    env = isolated_environment(
        REALTIME_URL=ws_url(daphne_server), REALTIME_TOKEN=issue_token(user), REALTIME_TOPIC=f"comments:{post.pk}"
    )
    worker = await asyncio.create_subprocess_exec(
        *isolated_command(folder / "worker.py"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert worker.stdout is not None
    try:
        replayed = [await asyncio.wait_for(worker.stdout.readline(), WAIT) for _ in range(2)]
        async with RealtimeClient(ws_url(daphne_server), token=issue_token(user)) as client:
            subscription = await client.subscribe(f"comments:{post.pk}")
            await subscription.send({"type": "new_comment", "body": "Live, ça marche"})
        live = await asyncio.wait_for(worker.stdout.readline(), WAIT)
    finally:
        worker.kill()
        _, errors = await worker.communicate()
    assert [line.decode() for line in [*replayed, live]] == [
        "alice: 1 xxx\n",
        "alice: 2 xxx\n",
        "alice: Live, ça marche\n",
    ], errors.decode()
