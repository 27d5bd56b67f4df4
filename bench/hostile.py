"""
Slow and hostile clients against one real daphne (`make bench-hostile`): each
finding of FINDINGS.md, "Measured on the first release", run again, with the
echo latency of a well-behaved client during each attack next to its latency
with none; then the third round's attacks (the database flooded, pipelined HTTP
nobody reads, accepts racing the handshake deadline, one account's replays,
clients closing with 1011, a token minted elsewhere outliving a password change).

    python -m bench.hostile                   # every attack (about 7 minutes a checkout)
    python -m bench.hostile --only replay_20,pings
    python -m bench.hostile --checkout ../before --checkout .   # each attack on one tree, then the other

The server is a checkout's `manage.py serve` (this one's by default; with
`--checkout`, each tree's own, its seeding too: servers and seeds run in that
directory), a fresh process per attack, with its default limits
(SEND_BUFFER_LIMIT 1 MiB, HANDSHAKE_TIMEOUT 10 s, MAX_CONNECTIONS_PER_IP 1,000,
rate limits and replay budgets on; no per-user cap), on a SQLite file, or on a
fresh PostgreSQL database of its own (BENCH_DATABASE_URL's name + `_hostile`)
where the attack says so. Results go to bench/out/hostile.json, by checkout (its
directory's name and commit); RESULTS.md has them with how to reproduce.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import math
import os
import resource
import secrets
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jwt
import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench.support import probes
from bench.support.environment import (
    DATABASE_URL,
    REDIS_URL,
    ConnectionSampler,
    Seed,
    django_shell,
    fresh_database,
    spawn_client,
    workdir,
)
from bench.support.servers import ROOT, Server, free_port, start
from bench.support.stats import percentile

OUT = ROOT / "bench" / "out" / "hostile.json"
COMMENTS = 20_000
SAMPLE_EVERY = 0.5
REPLAY_WATCH = 55.0  # past the pacing's patience of a heartbeat (40 s): the readers-of-nothing are closed by then
PINGS = 1_000_000
ADDRESS_CONNECTIONS = 20_500
ECHO_ROUNDS = 50  # at 16 a second: within the default rate limit (20 a second)
SMALL_RECEIVE_BUFFER = 4096
WELL_BEHAVED_ADDRESS = "127.0.0.2"
ECHO_INTERVAL = 0.06

# Round three. The PostgreSQL attacks' database: the bench's, with a name of its own.
POSTGRES_URL = urlparse(DATABASE_URL)._replace(path=urlparse(DATABASE_URL).path + "_hostile").geturl()
PROBE_TIMEOUT = 10.0  # a probe not answered within this counts as failed
# flood: anonymous requests, each with a made-up session cookie (a session lookup), against a history page.
FLOOD_PATH = "/realtime/history/notifications"
FLOOD_CONCURRENCY = 12
FLOOD_SECONDS = 30.0
FLOOD_PROBE_EVERY = 1.0
FLOOD_APPLICATION = "bench-flood"  # the server's application_name in pg_stat_activity
# pipeline_*: clients that send pipelined requests at once and read nothing (their receive buffer: 4 KiB).
PIPELINERS = 8
PIPELINE_WATCH = 10.0
SEND_PATIENCE = 5.0  # seconds a pipeliner waits for the server to take its requests
STATIC_FILE = "/static/admin/js/vendor/xregexp/xregexp.js"  # Django admin's largest static file, 325 KB
STATIC_REQUEST_BYTES = 32 * 1024  # per client
HISTORY_COMMENTS, HISTORY_COMMENT_LENGTH = 520, 5000  # a page of 500: 2.5 MB of JSON
HISTORY_REQUEST_BYTES = 22 * 1024  # over the 8 clients
# ghosts: batches of handshakes whose user lookup waits for a lock, released as autobahn drops them. autobahn
# drops a handshake not done within daphne's 5 s (--websocket_connect_timeout) at a whole second of the wall clock
# (txaio batches its timers: int(now + 5)), 4 to 5 s after the connect. A batch connects at GHOST_STARTS[n] of a
# second. The first two are released GHOST_CALIBRATION_LEAD before the drop: the second (the server warm) shows how
# long after a release its accepts come. The others follow a staircase from the middle of those: released a step
# later when every client got its 101 in time, a step earlier when none did, the step halved at each turn, so
# that the drop falls among their accepts. The race (an accept in the event loop's turn right after the drop,
# before the connection's loss) wants a busy loop: GHOST_JOSTLERS other clients (/ws/echo) each send a message
# GHOST_JOSTLE_BEFORE the drop, and the accepts whose user came meanwhile run in the turn after it.
GHOST_BATCHES = 10
GHOST_BATCH = 50
GHOST_DEADLINE = 5
GHOST_STARTS = tuple(round(0.05 + 0.08 * n, 2) for n in range(GHOST_BATCHES))  # holds between 3.95 and 5 s
GHOST_CALIBRATION_BATCHES = 2
GHOST_CALIBRATION_LEAD = 0.25
GHOST_FIRST_STEP, GHOST_LEAST_STEP = 0.008, 0.001
GHOST_ACCEPTS_UNKNOWN = (0.0, 0.1)  # when the calibration batch had no 101 at all
GHOST_JOSTLERS = 300
GHOST_JOSTLE_BEFORE = 0.01
JOSTLE = struct.pack("!BB", 0x81, 0x80 | 6) + b"\x00\x00\x00\x00" + b"jostle"  # a masked text frame
GHOST_HEARTBEAT = {"HEARTBEAT_INTERVAL": "2", "HEARTBEAT_TIMEOUT": "1"}
GHOST_GRACE = 2 + 1 + 5  # HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT + 5 s after the last client is gone
GHOST_ANSWER_TIMEOUT = 15.0
GHOST_WATCH = 1.0  # after the release: a 101 still open then stays (the first ping comes 2 s after accept)
STAYED, DROPPED_AFTER_101, DROPPED, NO_ANSWER = (
    "101 and stays",
    "101 then dropped",
    "dropped without answer",
    "no answer",
)
# replay_amplification: one account's replay loop over 20 sockets; another user's handshakes, acks and echoes.
REPLAY_POST_COMMENTS, REPLAY_COMMENT_LENGTH = 1000, 2500  # within REPLAY_LIMIT: every replay sends them all
REPLAYERS = 20
REPLAY_SECONDS = 25.0
REPLAY_RAMP = 3.0  # the bystander starts measuring this long after the replays
REFUSED_PAUSE = 1.0  # a refused socket asks again after this: 10 refusals in 10 s, within the 20 strikes
BYSTANDER_SECONDS = 18.0
HANDSHAKE_PROBES, HANDSHAKE_PROBE_GAP = 30, 0.2
ACK_PROBES, ACK_PROBE_GAP = 10, 0.5  # within the comment burst (10)
PONG = '{"type":"pong"}'
# close_1011
CLOSERS = 50
# foreign_token: a token signed with the server's secret by someone else (no `pwh`), then a password change.
SECRET_KEY = secrets.token_urlsafe(50)  # the foreign_token server's DJANGO_SECRET_KEY (its JWT secret), this run's
FOREIGN_TOKEN_TTL = 3600
REVOCATION_WATCH = 5.0
NEW_PASSWORD = "bench-hostile-changed"
CHANGE_PASSWORD = """
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(pk={user_id})
user.set_password({password!r})
user.save()
"""
LONG_COMMENTS = """
from django.contrib.auth import get_user_model
from django.utils import timezone
from comments.models import Comment, Post
author = get_user_model().objects.get(pk={author_id})
post = Post.objects.create(title="Long comments")
now = timezone.now()
Comment.objects.bulk_create(
    (Comment(post=post, author=author, body=f"{{n}} ".ljust({length}, "x"), seq=n, created_at=now)
     for n in range(1, {count} + 1)),
    batch_size=500,
)
Post.objects.filter(pk=post.pk).update(last_comment_seq={count})
print(post.pk)
"""


def handshake(path: str, port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def masked_ping() -> bytes:
    return struct.pack("!BB", 0x89, 0x80) + b"\x00\x00\x00\x00"


async def open_raw(port: int, path: str, *, receive_buffer: int | None = None) -> tuple[Any, Any, int]:
    """A connection that has done its handshake and then reads nothing more (status, reader, writer)."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(handshake(path, port))
    head = await reader.readuntil(b"\r\n\r\n")
    return reader, writer, int(head.split(b" ", 2)[1])


async def echo_latency(server: Server, rounds: int = ECHO_ROUNDS) -> dict[str, float]:
    """A well-behaved client's echo round trips, ms; from another address than the attackers' (127.0.0.2)."""
    times: list[float] = []
    async with connect(f"{server.ws_url}/ws/echo", local_addr=(WELL_BEHAVED_ADDRESS, 0)) as ws:
        for number in range(rounds):
            started = time.perf_counter()
            await ws.send(f"hello {number}")
            await ws.recv()
            times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(ECHO_INTERVAL)
    return {"p50_ms": round(percentile(times, 0.5), 2), "p99_ms": round(percentile(times, 0.99), 2)}


async def during(server: Server, attack: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run `attack`, measuring a well-behaved client's echo latency meanwhile."""
    attacking = asyncio.ensure_future(attack)
    await asyncio.sleep(1)
    latency = await echo_latency(server)
    result = await attacking
    return {**result, "echo_during": latency}


class RssSampler:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.baseline = server.rss_kib()
        self.peak = self.baseline

    async def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.peak = max(self.peak, self.server.rss_kib())
            await asyncio.sleep(SAMPLE_EVERY)

    @property
    def growth_mib(self) -> float:
        return round((self.peak - self.baseline) / 1024, 1)


async def replay_flood(server: Server, post_id: int, token: str, clients: int) -> dict[str, Any]:
    """`clients` connections replay a post of COMMENTS 1 KB comments with since=0 and read nothing."""
    sampler = RssSampler(server)
    path = f"/ws/live-comments/{post_id}?token={token}&since=0"
    opened = [await open_raw(server.port, path, receive_buffer=SMALL_RECEIVE_BUFFER) for _ in range(clients)]
    await sampler.run_for(REPLAY_WATCH)
    closed = 0
    for reader, writer, _ in opened:
        closed += int(reader.at_eof() or writer.is_closing() or await _was_closed(reader))
        writer.close()
    return {"clients": clients, "rss_growth_mib": sampler.growth_mib, "closed_by_the_server": closed}


async def _was_closed(reader: Any) -> bool:
    """Read what the server sent: did it end the connection (a close 4410, then a drop: the client reads none)?"""
    try:
        while await asyncio.wait_for(reader.read(1 << 20), timeout=5):
            pass
    except TimeoutError:
        return False  # still open
    except ConnectionError:
        return True  # reset: dropped by the server
    return True  # the server ended the TCP connection


async def unread_pings(server: Server) -> dict[str, Any]:
    """A client sends PINGS WebSocket pings and reads none of the pongs."""
    sampler = RssSampler(server)
    reader, writer, _ = await open_raw(server.port, "/ws/echo", receive_buffer=SMALL_RECEIVE_BUFFER)
    sent = 0
    batch = masked_ping() * 10_000
    try:
        while sent < PINGS:
            writer.write(batch)
            await asyncio.wait_for(writer.drain(), timeout=10)
            sent += 10_000
            sampler.peak = max(sampler.peak, server.rss_kib())
    except (ConnectionError, TimeoutError):
        pass
    await sampler.run_for(3)
    outcome = await _outcome(reader)
    writer.close()
    return {"pings_sent": sent, "rss_growth_mib": sampler.growth_mib, "connection": outcome}


async def _outcome(reader: Any) -> str:
    try:
        while data := await asyncio.wait_for(reader.read(1 << 20), timeout=5):
            if b"\x88\x02\x11\x5d" in data:
                return "closed with 4429 (too many frames)"
            if b"\x88\x02\x11\x3a" in data:
                return "closed with 4410 (fell behind)"
    except TimeoutError:
        return "still open"
    except ConnectionError:
        return "dropped"
    return "dropped"


async def slow_handshake(server: Server) -> dict[str, Any]:
    """A handshake fed one byte every 2 s: how long does the connection live?"""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    request = handshake("/ws/echo", server.port)
    started = time.monotonic()
    for byte in request:
        if writer.is_closing() or reader.at_eof():
            break
        writer.write(bytes([byte]))
        try:
            if await asyncio.wait_for(reader.read(1), timeout=2) == b"":
                break
        except TimeoutError:
            continue
        except ConnectionError:
            break
    lifetime = time.monotonic() - started
    writer.close()
    return {"lifetime_s": round(lifetime, 1), "bytes_sent_of": len(request)}


async def many_from_one_address(server: Server) -> dict[str, Any]:
    """ADDRESS_CONNECTIONS /ws/echo connections from one address, opened 500 at a time and held."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    accepted: list[Any] = []
    refused = failed = 0
    for start_at in range(0, ADDRESS_CONNECTIONS, 500):
        batch = [open_raw(server.port, "/ws/echo") for _ in range(min(500, ADDRESS_CONNECTIONS - start_at))]
        for outcome in await asyncio.gather(*batch, return_exceptions=True):
            if isinstance(outcome, BaseException):
                failed += 1
            elif outcome[2] == 101:
                accepted.append(outcome[1])
            else:
                refused += 1
                outcome[1].close()
    descriptors = server.open_descriptors()
    await asyncio.sleep(5)  # held while the well-behaved client measures
    for writer in accepted:
        writer.close()
    return {
        "attempted": ADDRESS_CONNECTIONS,
        "accepted": len(accepted),
        "refused_403": refused,
        "failed": failed,
        "server_descriptors": descriptors,
        "server_alive": server.alive(),
    }


# --- Round three ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """A tree whose server is attacked: its directory, and a label (the directory's name and commit)."""

    path: Path
    label: str

    @property
    def slug(self) -> str:
        """The label as a file name takes it."""
        return self.label.replace("@", "-")


@dataclass(frozen=True)
class World:
    """What an attack's server runs on: its tree, its database and what was seeded there, the scratch directory."""

    checkout: Path
    database_url: str
    seed: Seed
    work: Path
    long_post: int | None = None  # a post of long comments, for the attacks that want one

    @property
    def token(self) -> str:
        return self.seed.tokens[0]

    @property
    def post_id(self) -> int:
        return self.seed.post_ids[0]


@dataclass(frozen=True)
class Attack:
    strike: Callable[[Server, World], Awaitable[dict[str, Any]]]
    postgres: bool = False  # a fresh PostgreSQL database of its own; else the checkout's SQLite file
    env: dict[str, str] = field(default_factory=dict)  # the server's, besides serve()'s
    echo: bool = True  # a well-behaved client's echo latency without the attack, then during it
    long_comments: tuple[int, int] | None = None  # (comments, characters): a post of them by the first user
    application_name: str | None = None  # in the server's DATABASE_URL
    access_log: bool = False  # daphne's access log kept (`<server>.access.log`)


def checkout_at(path: Path) -> Checkout:
    commit = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return Checkout(path.resolve(), f"{path.resolve().name}@{commit}")


def access_log(server: Server) -> Path:
    return server.log_path.with_name(f"{server.name}.access.log")


def answers_logged(server: Server, path: str) -> int:
    """Responses to `path` that daphne finished writing (its access log)."""
    return access_log(server).read_text(errors="replace").count(f'"GET {path}"')


def pipelining(port: int, requests: bytes) -> socket.socket:
    """A client that sends `requests` at once and never reads (receive buffer SMALL_RECEIVE_BUFFER)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_RECEIVE_BUFFER)
    sock.settimeout(SEND_PATIENCE)
    sock.connect(("127.0.0.1", port))
    with contextlib.suppress(TimeoutError):  # the server stopped taking them: they wait in our buffers
        sock.sendall(requests)
    return sock


async def pipelined(server: Server, request: bytes, count: int) -> dict[str, Any]:
    """PIPELINERS clients each send `count` × `request` and read nothing: the server's memory meanwhile."""
    sampler = RssSampler(server)
    clients = [await asyncio.to_thread(pipelining, server.port, request * count) for _ in range(PIPELINERS)]
    await sampler.run_for(PIPELINE_WATCH)
    for client in clients:
        client.close()
    return {"clients": PIPELINERS, "requests_each": count, "rss_growth_mib": sampler.growth_mib}


async def pipeline_static(server: Server, world: World) -> dict[str, Any]:
    request = f"GET {STATIC_FILE} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    result = await pipelined(server, request, STATIC_REQUEST_BYTES // len(request))
    return {**result, "answers_written": answers_logged(server, STATIC_FILE)}


async def pipeline_history(server: Server, world: World) -> dict[str, Any]:
    path = f"/realtime/history/comments/{world.long_post}?limit=500"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {world.token}\r\n\r\n"
    ).encode()
    count = HISTORY_REQUEST_BYTES // PIPELINERS // len(request)
    result = await pipelined(server, request, count)
    return {
        **result,
        "request_bytes": PIPELINERS * count * len(request),
        "answers_written": answers_logged(server, path),
    }


async def probe_every_second(server: Server, path: str, headers: dict[str, str], until: float) -> list[int]:
    """The statuses of a GET of `path` every FLOOD_PROBE_EVERY seconds until `until` (0: not answered in time)."""
    statuses = []
    while (started := time.monotonic()) < until:
        statuses.append((await probes.get(server.port, path, headers, patience=PROBE_TIMEOUT)).status)
        await asyncio.sleep(max(0.0, started + FLOOD_PROBE_EVERY - time.monotonic()))
    return statuses


def failed_of(statuses: list[int]) -> dict[str, int]:
    return {"failed": sum(status != 200 for status in statuses), "of": len(statuses)}


async def flood(server: Server, world: World) -> dict[str, Any]:
    """FLOOD_CONCURRENCY anonymous requests at a time with made-up session cookies; /readyz and a user's history."""
    until = time.monotonic() + FLOOD_SECONDS
    statuses: collections.Counter[int] = collections.Counter()

    async def flooder() -> None:
        while time.monotonic() < until:
            cookie = {"Cookie": f"sessionid={secrets.token_hex(16)}"}
            statuses[(await probes.get(server.port, FLOOD_PATH, cookie)).status] += 1

    bearer = {"Authorization": f"Bearer {world.token}"}
    with ConnectionSampler(application_name=FLOOD_APPLICATION) as held:
        flooding = asyncio.gather(*(flooder() for _ in range(FLOOD_CONCURRENCY)))
        readiness, history = await asyncio.gather(
            probe_every_second(server, "/readyz", {}, until), probe_every_second(server, FLOOD_PATH, bearer, until)
        )
        await flooding
    log = server.log_path.read_text(errors="replace")
    return {
        "seconds": FLOOD_SECONDS,
        "concurrency": FLOOD_CONCURRENCY,
        "peak_database_connections": held.peak,
        "requests_answered": sum(n for status, n in statuses.items() if status != probes.NO_ANSWER),
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "too_many_clients_in_log": log.count("too many clients"),
        "database_unavailable_in_log": log.count("the database is unavailable"),
        "readyz": failed_of(readiness),
        "history_signed_in": failed_of(history),
    }


async def ghosts(server: Server, world: World) -> dict[str, Any]:
    """Batches of handshakes whose accepts land around daphne's deadline; then, every client gone, the gauge."""
    path = f"/ws/live-comments/{world.post_id}?token={world.token}"
    jostlers: list[asyncio.StreamWriter] = [(await open_raw(server.port, "/ws/echo"))[1] for _ in range(GHOST_JOSTLERS)]
    batches = [
        await handshakes_held(server, world.database_url, path, opening, GHOST_CALIBRATION_LEAD, jostlers)
        for opening in GHOST_STARTS[:GHOST_CALIBRATION_BATCHES]
    ]
    first, last = [ms / 1000 for ms in batches[-1]["accepts_after_release_ms"]] or GHOST_ACCEPTS_UNKNOWN
    lead, step, direction = (first + last) / 2, GHOST_FIRST_STEP, 0
    for opening in GHOST_STARTS[GHOST_CALIBRATION_BATCHES:]:
        batches.append(await handshakes_held(server, world.database_url, path, opening, lead, jostlers))
        answered = batches[-1]["outcomes"][STAYED] + batches[-1]["outcomes"][DROPPED_AFTER_101]
        turn = -1 if answered == GHOST_BATCH else 1 if not answered else 0  # 0: the drop fell among the accepts
        if turn and direction and turn != direction:
            step = max(GHOST_LEAST_STEP, step / 2)
        direction = turn or direction
        lead = max(0.0, lead + turn * step)
    for jostler in jostlers:
        jostler.close()
    await asyncio.sleep(GHOST_GRACE)
    samples = await probes.metrics(server.port)
    connections = {s.labels["endpoint"]: int(s.value) for s in samples if s.name == "realtime_connections" and s.value}
    outcomes = sum((batch["outcomes"] for batch in batches), collections.Counter[str]())
    return {
        "handshakes": sum(outcomes.values()),
        "outcomes": dict(outcomes),
        "batches": [{**batch, "outcomes": dict(batch["outcomes"])} for batch in batches],
        "ghosts": sum(connections.values()),
        "connections_by_endpoint": connections,
    }


async def wall_clock(moment: float) -> None:
    """Until time.time() is `moment` (the server's timers go by the same clock)."""
    await asyncio.sleep(max(0.0, moment - time.time()))


async def handshakes_held(
    server: Server,
    database_url: str,
    path: str,
    opening: float,
    lead: float,
    jostlers: list[asyncio.StreamWriter],
) -> dict[str, Any]:
    """
    GHOST_BATCH handshakes, opened at `opening` of a second while auth_user is locked, released `lead` s before
    autobahn drops them, `jostlers` jostling just before: what each client saw, and when the first and the last
    101 came after the release.
    """
    loop = asyncio.get_running_loop()
    released: asyncio.Future[float] = loop.create_future()
    async with await psycopg.AsyncConnection.connect(database_url) as lock:
        await lock.execute("LOCK TABLE auth_user IN ACCESS EXCLUSIVE MODE")
        await wall_clock(math.floor(time.time()) + 1 + opening)
        connected = time.time()
        clients = await asyncio.gather(*(handshaking(server.port, path) for _ in range(GHOST_BATCH)))
        answering = asyncio.gather(*(answer_of(reader, released) for reader, _ in clients))
        drop = math.floor(connected) + GHOST_DEADLINE
        jostling = asyncio.ensure_future(jostle(jostlers, drop - GHOST_JOSTLE_BEFORE))
        await wall_clock(drop - lead)
        await lock.commit()
        hold = time.time() - connected
        released.set_result(loop.time())
    answers = await answering
    await jostling
    for _, writer in clients:
        writer.close()
    await asyncio.sleep(1)
    accepts = sorted(round((at - released.result()) * 1000, 1) for _, at in answers if at is not None)
    return {
        "hold_s": round(hold, 3),
        "lead_ms": round(lead * 1000, 1),
        "outcomes": collections.Counter(outcome for outcome, _ in answers),
        "accepts_after_release_ms": accepts[:1] + accepts[-1:],  # the first and the last
    }


async def jostle(jostlers: list[asyncio.StreamWriter], moment: float) -> None:
    """At `moment` (wall clock), a message from each of `jostlers`: work for the server's event loop."""
    await wall_clock(moment)
    for writer in jostlers:
        writer.write(JOSTLE)


async def handshaking(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(handshake(path, port))
    return reader, writer


async def answer_of(reader: asyncio.StreamReader, released: asyncio.Future[float]) -> tuple[str, float | None]:
    """
    What a handshake got (a 101 that stays open GHOST_WATCH past the release, or is dropped before; another
    status; a drop), and when a 101 came (the event loop's clock).
    """
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=GHOST_ANSWER_TIMEOUT)
    except (asyncio.IncompleteReadError, ConnectionError):
        return DROPPED, None
    except TimeoutError:
        return NO_ANSWER, None
    status, at = int(head.split(b" ", 2)[1]), asyncio.get_running_loop().time()
    if status != 101:
        return f"http {status}", None
    try:
        async with asyncio.timeout_at(await released + GHOST_WATCH):
            while await reader.read(1 << 16):
                pass  # the server's frames (presence, pings): read, so that only its end shows
    except TimeoutError:
        return STAYED, at
    except ConnectionError:
        pass
    return DROPPED_AFTER_101, at


async def replay_amplification(server: Server, world: World) -> dict[str, Any]:
    """One account replays a long post over REPLAYERS sockets; another user's handshakes, acks, echoes."""
    bystander_without = await bystander(server, world, "baseline")
    result_path = world.work / f"{server.name}-replayer-result.json"
    config = {
        "url": f"{server.ws_url}/ws/?token={world.token}",
        "topic": f"comments:{world.long_post}",
        "sockets": REPLAYERS,
        "seconds": REPLAY_SECONDS,
        "pause": REFUSED_PAUSE,
        "result": str(result_path),
    }
    replayer = spawn_client("bench.clients.replayer", config, world.work, f"{server.name}-replayer")
    await asyncio.sleep(REPLAY_RAMP)
    bystander_during = await bystander(server, world, "during")
    if await asyncio.to_thread(replayer.wait) != 0:
        raise RuntimeError(f"the replayer exited with {replayer.returncode}")
    ratio = bystander_during["handshake_p50_ms"] / bystander_without["handshake_p50_ms"]
    return {
        "replayers": REPLAYERS,
        "seconds": REPLAY_SECONDS,
        "comments": REPLAY_POST_COMMENTS,
        "comment_length": REPLAY_COMMENT_LENGTH,
        "attack": json.loads(result_path.read_text()),
        "bystander_without_attack": bystander_without,
        "bystander_during": bystander_during,
        "handshake_slowdown_p50": round(ratio, 2),
    }


async def bystander(server: Server, world: World, phase: str) -> dict[str, Any]:
    """Another user (the second): handshakes of /ws/notifications, comment acks on another post, echoes."""
    token, until = world.seed.tokens[1], time.monotonic() + BYSTANDER_SECONDS
    (handshakes, refused), (acks, errors), echo = await asyncio.gather(
        handshake_times(f"{server.ws_url}/ws/notifications?token={token}", until),
        ack_times(f"{server.ws_url}/ws/live-comments/{world.post_id}?token={token}", phase, until),
        echo_latency(server),
    )
    return {
        "handshakes": len(handshakes),
        "handshake_p50_ms": round(percentile(handshakes, 0.5), 1),
        "handshake_p99_ms": round(percentile(handshakes, 0.99), 1),
        "handshakes_failed": refused,
        "acks": len(acks),
        "ack_p50_ms": round(percentile(acks, 0.5), 1),
        "ack_p99_ms": round(percentile(acks, 0.99), 1),
        "ack_errors": errors,
        "echo_p50_ms": echo["p50_ms"],
        "echo_p99_ms": echo["p99_ms"],
    }


async def handshake_times(url: str, until: float) -> tuple[list[float], int]:
    """Up to HANDSHAKE_PROBES connections opened and closed in turn until `until`: their opening times, ms; failures."""
    times: list[float] = []
    failed = 0
    for _ in range(HANDSHAKE_PROBES):
        if time.monotonic() >= until:
            break
        started = time.perf_counter()
        try:
            async with connect(url, open_timeout=PROBE_TIMEOUT, ping_interval=None):
                times.append((time.perf_counter() - started) * 1000)
        except (InvalidHandshake, OSError, TimeoutError):
            failed += 1
        await asyncio.sleep(HANDSHAKE_PROBE_GAP)
    return times, failed


async def ack_times(url: str, phase: str, until: float) -> tuple[list[float], int]:
    """Up to ACK_PROBES comments, one every ACK_PROBE_GAP, until `until`: send to `comment_created`, ms; errors."""
    times: list[float] = []
    errors = 0
    async with connect(url, open_timeout=PROBE_TIMEOUT, ping_interval=None) as ws:
        for number in range(ACK_PROBES):
            if time.monotonic() >= until:
                break
            started = time.perf_counter()
            await ws.send(
                json.dumps({"type": "new_comment", "body": f"probe {number}", "client_id": f"{phase}-{number}"})
            )
            while (frame := json.loads(await ws.recv()))["type"] not in ("comment_created", "error"):
                if frame["type"] == "ping":
                    await ws.send(PONG)
            if frame["type"] == "error":
                errors += 1
            else:
                times.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(ACK_PROBE_GAP)
    return times, errors


async def close_1011(server: Server, world: World) -> dict[str, Any]:
    """CLOSERS anonymous /ws/echo clients close with 1011: how /metrics counts those closes."""
    before = await probes.metrics(server.port)
    for number in range(CLOSERS):
        ws = await connect(f"{server.ws_url}/ws/echo")
        await ws.send(f"closing {number}")
        await ws.recv()
        await ws.close(code=1011)
    await asyncio.sleep(1)
    after = await probes.metrics(server.port)
    return {
        "clients": CLOSERS,
        "realtime_closes_total_1011_added": closes_added(before, after, "1011"),
        "realtime_closes_total_1011_after": closes_of(after, "1011"),
    }


def closes_of(samples: list[probes.Sample], code: str) -> dict[str, int]:
    """The realtime_closes_total samples of `code`, by their labels (endpoint, code, and who closed, `by`)."""
    return {
        ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())): int(s.value)
        for s in samples
        if s.name == "realtime_closes_total" and s.labels.get("code") == code
    }


def closes_added(before: list[probes.Sample], after: list[probes.Sample], code: str) -> dict[str, int]:
    """What each realtime_closes_total sample of `code` gained."""
    was = closes_of(before, code)
    return {
        labels: value - was.get(labels, 0)
        for labels, value in closes_of(after, code).items()
        if value != was.get(labels)
    }


async def foreign_token(server: Server, world: World) -> dict[str, Any]:
    """A token signed with the server's secret, without `pwh`; its user's password changes through the ORM."""
    user_id, now = world.seed.user_ids[0], int(time.time())
    claims = {"sub": str(user_id), "exp": now + FOREIGN_TOKEN_TTL, "iat": now - 5}
    url = f"{server.ws_url}/ws/notifications?token={jwt.encode(claims, SECRET_KEY, algorithm='HS256')}"
    ws = await connect(url, open_timeout=PROBE_TIMEOUT, ping_interval=None)
    code = CHANGE_PASSWORD.format(user_id=user_id, password=NEW_PASSWORD)
    await asyncio.to_thread(django_shell, world.checkout, server.env, code)
    changed = time.monotonic()
    try:
        async with asyncio.timeout(REVOCATION_WATCH):
            while True:
                await ws.recv()
    except TimeoutError:
        closed: dict[str, Any] = {"closed_within_5_s": False}
        await ws.close()
    except ConnectionClosed as ended:
        code_seen = ended.rcvd.code if ended.rcvd else 1006
        closed = {
            "closed_within_5_s": True,
            "close_code": code_seen,
            "closed_after_shell_exit_s": round(time.monotonic() - changed, 2),  # 0: already, as the shell ended
        }
    return {"opened": True, **closed, "new_connection": await handshake_outcome(url)}


async def handshake_outcome(url: str) -> str:
    try:
        async with connect(url, open_timeout=PROBE_TIMEOUT, ping_interval=None):
            return "accepted"
    except InvalidStatus as refused:
        return f"refused: http {refused.response.status_code}"


# The whole post is replayed: past REPLAY_LIMIT (1,000 by default) a replay is truncated and sends nothing, and
# the replay attacks would measure only idle connections.
WHOLE_REPLAY = {"REPLAY_LIMIT": str(COMMENTS)}

ATTACKS: dict[str, Attack] = {
    "replay_20": Attack(lambda server, world: replay_flood(server, world.post_id, world.token, 20), env=WHOLE_REPLAY),
    "replay_60": Attack(lambda server, world: replay_flood(server, world.post_id, world.token, 60), env=WHOLE_REPLAY),
    "pings": Attack(lambda server, world: unread_pings(server)),
    "handshake": Attack(lambda server, world: slow_handshake(server)),
    "address": Attack(lambda server, world: many_from_one_address(server)),
    "flood": Attack(flood, postgres=True, application_name=FLOOD_APPLICATION),
    "pipeline_static": Attack(pipeline_static, access_log=True),
    "pipeline_history": Attack(
        pipeline_history, long_comments=(HISTORY_COMMENTS, HISTORY_COMMENT_LENGTH), access_log=True
    ),
    "ghosts": Attack(ghosts, postgres=True, env=GHOST_HEARTBEAT, echo=False),
    "replay_amplification": Attack(
        replay_amplification, postgres=True, echo=False, long_comments=(REPLAY_POST_COMMENTS, REPLAY_COMMENT_LENGTH)
    ),
    "close_1011": Attack(close_1011, echo=False),
    "foreign_token": Attack(
        foreign_token,
        postgres=True,
        echo=False,
        env={"DJANGO_SECRET_KEY": SECRET_KEY, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": "bench-hostile"},
    ),
}


def serve(world: World, name: str, attack: Attack) -> Server:
    """The checkout's `manage.py serve`, with its default limits but no per-user cap."""
    port = free_port()
    log = world.work / f"{name}.access.log" if attack.access_log else os.devnull
    command = [sys.executable, "manage.py", "serve", "--port", str(port), "--", "--access-log", str(log)]
    database_url = world.database_url
    if attack.application_name:
        database_url += f"?application_name={attack.application_name}"
    env = {"DATABASE_URL": database_url, "DJANGO_LOG_LEVEL": "WARNING", "MAX_CONNECTIONS_PER_USER": "0", **attack.env}
    return start(name, command, port, env, world.work, checkout=world.checkout)


def world_for(attack: Attack, checkout: Checkout, directory: Path, sqlite_worlds: dict[Path, World]) -> World:
    """A fresh PostgreSQL database, or the checkout's SQLite file (seeded once); with the attack's long post."""
    if attack.postgres:
        seed = fresh_database(POSTGRES_URL, users=2, posts=1, checkout=checkout.path)
        world = World(checkout.path, POSTGRES_URL, seed, directory)
    elif checkout.path in sqlite_worlds:
        world = sqlite_worlds[checkout.path]
    else:
        database_url = f"sqlite:///{directory / f'hostile-{checkout.slug}.sqlite3'}"
        seed = fresh_database(database_url, users=2, posts=1, comments=COMMENTS, checkout=checkout.path)
        world = sqlite_worlds[checkout.path] = World(checkout.path, database_url, seed, directory)
    if attack.long_comments is None:
        return world
    count, length = attack.long_comments
    code = LONG_COMMENTS.format(author_id=world.seed.user_ids[0], count=count, length=length)
    post = django_shell(checkout.path, {"DATABASE_URL": world.database_url}, code)
    return replace(world, long_post=int(post.split()[-1]))


async def measure(server: Server, world: World, attack: Attack) -> dict[str, Any]:
    if not attack.echo:
        return await attack.strike(server, world)
    baseline = await echo_latency(server)
    return {**await during(server, attack.strike(server, world)), "echo_without_attack": baseline}


async def run(only: set[str], checkouts: list[Checkout], directory: Path) -> dict[str, Any]:
    """Each attack on each checkout in turn (so that the trees meet the same moment of a shared machine)."""
    results: dict[str, dict[str, Any]] = {checkout.label: {} for checkout in checkouts}
    sqlite_worlds: dict[Path, World] = {}
    for name, attack in ATTACKS.items():
        if only and not any(name.startswith(wanted) for wanted in only):
            continue
        for checkout in checkouts:
            world = world_for(attack, checkout, directory, sqlite_worlds)
            load = os.getloadavg()[0]
            server = serve(world, f"hostile-{name}-{checkout.slug}", attack)  # a fresh process per attack
            try:
                await asyncio.sleep(2)
                result = {**await measure(server, world, attack), "load_average_at_start": round(load, 2)}
                result["exceptions_in_log"] = server.log_path.read_text(errors="replace").count("Traceback")
            finally:
                server.stop()
            results[checkout.label][name] = result
            print(checkout.label, name, json.dumps(result), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help=f"comma-separated names or their starts: {', '.join(ATTACKS)}")
    parser.add_argument(
        "--checkout",
        action="append",
        type=Path,
        help="a tree whose server to attack (several: each attack on each in turn); default: this one",
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the results go (default {OUT})")
    arguments = parser.parse_args()
    only = {name for name in arguments.only.split(",") if name}
    checkouts = [checkout_at(path) for path in arguments.checkout or [ROOT]]
    with workdir() as directory:
        results = asyncio.run(run(only, checkouts, directory))
    arguments.out.parent.mkdir(exist_ok=True)
    arguments.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
