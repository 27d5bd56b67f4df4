"""No token in the client's logs (realtime/client/logs.py), even with websockets' DEBUG logging on."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest

from realtime.auth.tokens import issue_token
from realtime.client import RealtimeClient
from realtime.client.logs import redact
from tests.client.helpers import WAIT, ws_url
from tests.support.live import LiveServer


class Noticing(logging.Handler):
    """A handler whose `seen` is set once a record's message contains `text`."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


def test_redact_replaces_every_jwt_whole_or_cut() -> None:
    text = '> Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig; > TEXT \'{"token":"eyJhbGciOiJIUzI1...\' [83 bytes]'
    assert redact(text) == '> Authorization: Bearer [token]; > TEXT \'{"token":"[token]\' [83 bytes]'


def test_redact_replaces_a_token_cut_in_its_middle_with_its_tail() -> None:
    """websockets shows a long frame's start and end: the end of the token too."""
    text = '> TEXT \'{"type":"refresh","token":"eyJhbGciOiJIUzI1NiJ9.eyJzd...wQBQIse0BDNyy6K4qJP8s"}\' [206 bytes]'
    assert redact(text) == '> TEXT \'{"type":"refresh","token":"[token]"}\' [206 bytes]'


@pytest.mark.wire
@pytest.mark.django_db(transaction=True)
async def test_a_handshake_and_a_refresh_log_no_token(
    daphne_server: LiveServer, user: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued: list[str] = []

    def fresh_token() -> str:
        issued.append(issue_token(user, ttl=timedelta(seconds=60)))
        return issued[-1]

    caplog.set_level(logging.DEBUG)
    # The client's own redaction, without the server's (realtime/server/redaction.py), which a server
    # process installs for every record and an earlier test of this process may have installed.
    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)
    refreshed = Noticing('"type":"refresh"')
    logging.getLogger("websockets.client").addHandler(refreshed)
    try:
        # Refreshed as soon as it connects: when 99% of the token's lifetime is left.
        async with RealtimeClient(ws_url(daphne_server), token=fresh_token, refresh_ahead=0.99) as client:
            await client.subscribe("notifications")
            await asyncio.wait_for(refreshed.seen.wait(), WAIT)
    finally:
        logging.getLogger("websockets.client").removeHandler(refreshed)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Authorization: Bearer [token]" in logged
    assert '"type":"refresh","token":"[token]"}' in logged
    assert [token for token in issued if token[:30] in logged] == []
