"""Publishing after commit from a server's database thread whose event loop has stopped (SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import pytest
from asgiref.sync import SyncToAsync

from realtime.feeds.publish import publish


def test_a_commit_after_the_servers_loop_stopped_publishes_nothing_and_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped = asyncio.new_event_loop()  # the server's loop, no longer running
    returned = threading.Event()

    def database_thread() -> None:
        SyncToAsync.threadlocal.main_event_loop = stopped
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
        publish([("post.1", {"type": "comment.created", "seq": 1})])
        returned.set()

    caplog.set_level(logging.INFO, logger="realtime.feeds.publish")
    thread = threading.Thread(target=database_thread, daemon=True)
    thread.start()
    thread.join(timeout=5)
    stopped.close()

    assert returned.is_set()  # before the fix it waited for the stopped loop forever, and the process never exited
    assert [record.getMessage() for record in caplog.records] == ["Not published: the server is stopping (1 events)"]
