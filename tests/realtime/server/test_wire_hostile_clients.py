"""
Slow and hostile clients against a real daphne (PROTOCOL.md, "Slow and hostile
clients"), each with a raw socket doing what well-behaved clients never do.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest

from comments.models import Post
from tests.support import rawws
from tests.support.comments import numbered_comments
from tests.support.live import LiveServer
from tests.support.rawws import RawClient

pytestmark = [pytest.mark.wire, pytest.mark.django_db(transaction=True)]

# A replay larger than every buffer between the server and a client that reads nothing:
# the kernel's send buffer alone holds up to 4 MiB here (net.ipv4.tcp_wmem). Each comment's frame
# stays under the guarded server's message size of 1 KiB. Both servers take replays of up to 10,000
# entries (REPLAY_LIMIT, tests/conftest.py).
REPLAYED, BODY = 8000, "x" * 700
SMALL_RECEIVE_BUFFER = 4096


@pytest.fixture
def long_post(user: Any) -> Post:
    post = Post.objects.create(title="Long")
    numbered_comments(post, user, REPLAYED, BODY)
    return post


def client(server: LiveServer, path: str, **options: Any) -> RawClient:
    connected = RawClient(server.host, server.port, path, **options)
    assert connected.status == 101
    return connected


async def test_a_client_that_reads_nothing_of_a_replay_is_closed_with_4410_having_got_part_of_it(
    guarded_server: LiveServer, long_post: Post, token: str
) -> None:
    reader = client(
        guarded_server, f"/ws/live-comments/{long_post.pk}?token={token}&since=0", receive_buffer=SMALL_RECEIVE_BUFFER
    )
    before = guarded_server.log().count("fell behind")
    for _ in range(100):  # reading nothing, until the server gave up on it (its patience: 0.75 s of no reading)
        if guarded_server.log().count("fell behind") > before:
            break
        await asyncio.sleep(0.1)
    frames = await asyncio.to_thread(reader.frames_until_closed)
    reader.close()
    texts = [json.loads(f.payload) for f in frames if f.opcode == rawws.TEXT]
    comments = [text["comment"]["id"] for text in texts if text["type"] == "comment"]
    assert [text["type"] for text in texts if text["type"] not in ("comment", "ping")] == ["presence_state"]
    # Closed with 4410, or dropped when even the close could not be written.
    assert reader.dropped or (frames[-1].opcode, frames[-1].close_code) == (rawws.CLOSE, 4410)
    assert 0 < len(comments) < REPLAYED, f"{len(comments)} of {REPLAYED} comments arrived"
    assert comments == sorted(comments)  # what it got, it got in order: it reconnects with since=comments[-1]


async def test_a_client_that_reads_slowly_gets_the_whole_replay(
    daphne_server: LiveServer, long_post: Post, token: str
) -> None:
    """Paced by the client's reading: the server waits for it instead of buffering (its patience is a heartbeat)."""
    reader = client(daphne_server, f"/ws/live-comments/{long_post.pk}?token={token}&since=0")
    await asyncio.sleep(0.5)
    ids: list[int] = []

    def read_all() -> None:
        while len(ids) < REPLAYED:
            got = reader.receive()
            assert got is not None
            if got.opcode == rawws.TEXT and json.loads(got.payload)["type"] == "comment":
                ids.append(json.loads(got.payload)["comment"]["id"])

    await asyncio.to_thread(read_all)
    marker = reader.receive()
    reader.close()
    assert ids == sorted(ids)
    assert len(set(ids)) == REPLAYED
    assert marker is not None
    assert json.loads(marker.payload) == {
        "type": "replay_complete",
        "last_id": ids[-1],
        "truncated": False,
    }


async def test_pongs_to_pings_the_client_never_reads_are_bounded_too(daphne_server: LiveServer) -> None:
    """On the default limits (SEND_BUFFER_LIMIT 1 MiB), with rate limits out of the way: pings without end."""
    unread = daphne_server.log().count("bytes unread")  # the log is the whole run's
    flooder = client(daphne_server, "/ws/echo", receive_buffer=SMALL_RECEIVE_BUFFER)
    ping = rawws.frame(rawws.PING, b"p" * 125)

    def flood() -> None:
        with_deadline = time.monotonic() + 30
        try:
            for _ in range(200):  # 200 x 400 pings of 125 bytes: 10 MB of pongs to answer
                flooder.send(ping * 400)
                if time.monotonic() > with_deadline:
                    return
        except OSError:
            return  # the server dropped it

    await asyncio.to_thread(flood)
    frames = await asyncio.to_thread(flooder.frames_until_closed)
    flooder.close()
    assert flooder.dropped or frames[-1].close_code == 4410  # closed with 4410, or dropped when even that could not go
    assert len(frames) * 127 < 7_000_000  # not the 10 MB of pongs: at most the buffers on the way
    assert daphne_server.log().count("bytes unread") > unread


async def test_a_handshake_sent_a_byte_at_a_time_is_dropped_after_the_handshake_timeout(
    guarded_server: LiveServer,
) -> None:
    request = rawws.handshake_request("/ws/echo", f"{guarded_server.host}:{guarded_server.port}")

    def dribble() -> str:
        with socket.create_connection((guarded_server.host, guarded_server.port), timeout=10) as sock:
            for byte in request:
                try:
                    sock.sendall(bytes([byte]))
                    time.sleep(0.2)
                except OSError:
                    return "dropped"
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        return "dropped"
                except BlockingIOError:
                    pass
                except OSError:
                    return "dropped"
                finally:
                    sock.setblocking(True)
        return "completed"

    assert await asyncio.to_thread(dribble) == "dropped"
    assert "no complete request within HANDSHAKE_TIMEOUT (1.0 s)" in guarded_server.log()


async def test_a_fourth_connection_from_one_address_is_refused_before_accept(guarded_server: LiveServer) -> None:
    open_ones = [client(guarded_server, "/ws/echo") for _ in range(3)]
    refused = RawClient(guarded_server.host, guarded_server.port, "/ws/echo")
    assert refused.status == 403
    refused.close()
    open_ones.pop().close()
    await asyncio.sleep(0.3)  # the server sees the close
    again = client(guarded_server, "/ws/echo")
    for connection in [*open_ones, again]:
        connection.close()


@pytest.mark.parametrize("endpoint", ["/ws/echo", "/ws/json", "/ws/notifications", "/ws/live-comments/{post}", "/ws/"])
async def test_messages_and_a_close_in_one_packet_crash_nothing(
    daphne_server: LiveServer, endpoint: str, post: Post, token: str
) -> None:
    """
    The close is read before the application answers the messages; a client that
    reads slowly keeps the closed connection from going, and each answer then met
    autobahn's `Disconnected`: "Exception inside application".
    """
    path = endpoint.format(post=post.pk)
    if endpoint not in ("/ws/echo", "/ws/json"):
        path += f"?token={token}"
    message = b'{"type":"ping","padding":"' + b"x" * 30_000 + b'"}'  # answered by every endpoint
    crashes = daphne_server.log().count("Exception inside application")  # the log is the whole run's
    sender = client(daphne_server, path, receive_buffer=SMALL_RECEIVE_BUFFER)
    sender.send(rawws.frame(rawws.TEXT, message) * 40 + rawws.close_frame(1000))
    await asyncio.sleep(0.5)
    sender.close()
    await asyncio.sleep(0.2)
    assert daphne_server.log().count("Exception inside application") == crashes


async def test_a_message_of_too_many_fragments_is_closed_as_too_big(daphne_server: LiveServer) -> None:
    sender = client(daphne_server, "/ws/echo")
    sender.send(rawws.frame(rawws.TEXT, b"a", fin=False) + rawws.frame(rawws.CONTINUATION, fin=False) * 1100)
    frames = await asyncio.to_thread(sender.frames_until_closed)
    sender.close()
    assert frames[-1].close_code == 1009


async def test_a_flood_of_frames_is_closed_as_a_rate_limit(guarded_server: LiveServer) -> None:
    sender = client(guarded_server, "/ws/echo")
    sender.send(rawws.frame(rawws.PING) * 40)  # allowed: ten frames per message, a burst of 20
    frames = await asyncio.to_thread(sender.frames_until_closed)
    sender.close()
    assert [f.opcode for f in frames[:20]] == [rawws.PONG] * 20
    assert frames[-1].close_code == 4429
