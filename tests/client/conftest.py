from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, start_daphne

# A daphne whose heartbeat gives a silent client up within 0.6 s and whose replays stop at 5
# entries (past them, `truncated: true`): the client's pongs and history fills, without long waits.
BRISK = {
    "HEARTBEAT_INTERVAL": "0.3",
    "HEARTBEAT_TIMEOUT": "0.3",
    "REPLAY_LIMIT": "5",
    "FEED_CHECK_INTERVAL": "0.25",
}


@pytest.fixture(scope="session")
def brisk_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(log_dir, env=BRISK)
    yield server
    server.stop_later()
