"""
An accept that comes as daphne's opening-handshake deadline drops the connection (PROTOCOL.md,
"No ghosts"): the application is told the connection ended (websocket.disconnect, 1006), at once,
and nothing stays counted; the client never sees a 101.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.live import LiveServer, start_daphne
from tests.support.rawws import handshake_request
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

PATH = "/test/accept-at-drop"


@pytest.fixture
def racing_server(log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(
        log_dir, application="tests.support.race_app:application", args=("--websocket_connect_timeout", "1")
    )
    yield server
    server.stop()


def handshake(server: LiveServer) -> bytes:
    """What the server answers a handshake before it closes the connection."""
    with socket.create_connection((server.host, server.port), timeout=5) as client:
        client.sendall(handshake_request(PATH, f"{server.host}:{server.port}"))
        received = b""
        try:
            while chunk := client.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
        return received


def test_an_accept_racing_the_handshake_deadline_leaves_no_ghost(racing_server: LiveServer) -> None:
    answers = [handshake(racing_server) for _ in range(3)]
    assert not any(answer.startswith(b"HTTP/1.1 101") for answer in answers), answers
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        log = racing_server.log()
        if log.count(f"WSDISCONNECT {PATH}") == 3 and log.count("closed by the client with code 1006") == 3:
            break
        time.sleep(0.1)
    assert log.count(f"WSDISCONNECT {PATH}") == 3, log
    assert log.count("closed by the client with code 1006") == 3, log
    samples = scrape(racing_server)
    assert value(samples, "realtime_connections", {"endpoint": PATH}) == 0
