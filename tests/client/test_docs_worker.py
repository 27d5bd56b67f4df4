"""
docs/how-to/python-client.md's `# worker.py (new)` block, run as it is against a live daphne, in an
interpreter where Django cannot be imported (tests/client/isolated.py): it
prints the replayed comments, then a live one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from comments.models import Post
from realtime.auth.tokens import issue_token
from realtime.client import RealtimeClient
from tests.client.helpers import WAIT, comments_in_bulk, ws_url
from tests.client.isolated import isolated_command, isolated_environment, isolated_folder
from tests.support.docs import block
from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

PAGE = "docs/how-to/python-client.md"
WORKER = "# worker.py (new)"


async def test_the_docs_worker_follows_a_topic(
    daphne_server: LiveServer, post: Post, user: Any, tmp_path: Path
) -> None:
    await asyncio.to_thread(comments_in_bulk, post, user, 2, size=3)
    folder = isolated_folder(tmp_path)
    (folder / "worker.py").write_text(block(PAGE, WORKER))
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
