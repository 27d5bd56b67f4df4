"""
HTTP responses go out as fast as the client reads them (realtime/server/responses.py), under plain
daphne: pipelined requests whose answers nobody reads cost the process a bounded amount.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time

import pytest

from tests.support.live import LiveServer

pytestmark = [pytest.mark.wire]

# Django admin's largest static file (325 KB), served by ASGIStaticFilesHandler.
STATIC = "/static/admin/js/vendor/xregexp/xregexp.js"
SIZE = 325171


def rss(server: LiveServer) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS"))


def pipeline(server: LiveServer, count: int, receive_buffer: int | None = None) -> socket.socket:
    connection = socket.socket()
    if receive_buffer is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    connection.connect((server.host, server.port))
    connection.sendall(f"GET {STATIC} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode() * count)
    return connection


async def test_pipelined_requests_whose_answers_nobody_reads_cost_a_bounded_amount(
    guarded_server: LiveServer,
) -> None:
    before, answered = rss(guarded_server), guarded_server.log().count(STATIC)
    # 4 × 200 answers: 260 MB, had the server written them all.
    clients = [pipeline(guarded_server, 200, receive_buffer=4096) for _ in range(4)]
    for _ in range(100):  # reading nothing, until the server gave up on each (its patience: 1 s of no reading)
        if guarded_server.log().count("HTTP_SEND_TIMEOUT") >= 4:
            break
        await asyncio.sleep(0.1)
    grown = rss(guarded_server) - before
    for each in clients:
        each.close()
    assert guarded_server.log().count("HTTP_SEND_TIMEOUT") >= 4, "each client was dropped for reading nothing"
    # What the kernel's send buffers took (up to 4 MiB a socket here), and not the rest.
    assert guarded_server.log().count(STATIC) - answered < 4 * 20
    assert grown < 32 * 2**20, f"the process grew by {grown / 2**20:.0f} MiB"


def read_slowly(connection: socket.socket, count: int, rate: int) -> list[int]:
    """The sizes of `count` responses, read at `rate` bytes a second."""
    received, sizes = bytearray(), list[int]()
    connection.settimeout(10)
    while len(sizes) < count:
        chunk = connection.recv(16384)
        if not chunk:
            break
        received += chunk
        while (head := received.find(b"\r\n\r\n")) >= 0:
            length = int(re.search(rb"(?i)content-length: (\d+)", received[:head]).group(1))  # type: ignore[union-attr]
            if len(received) < head + 4 + length:
                break
            sizes.append(length)
            del received[: head + 4 + length]
        time.sleep(len(chunk) / rate)
    return sizes


async def test_a_client_that_reads_slowly_gets_every_pipelined_answer_whole(guarded_server: LiveServer) -> None:
    """Longer than HTTP_SEND_TIMEOUT and HANDSHAKE_TIMEOUT (1 s each): reading, it is not idle."""
    connection = pipeline(guarded_server, 8)
    sizes = await asyncio.to_thread(read_slowly, connection, 8, 1_000_000)
    connection.close()
    assert sizes == [SIZE] * 8
