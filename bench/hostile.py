"""
Slow and hostile clients against one real daphne (`make bench-hostile`): each
finding of FINDINGS.md, "Measured on the first release", run again, with the
echo latency of a well-behaved client during each attack next to its latency
with none.

    python -m bench.hostile                   # every attack (about 4 min)
    python -m bench.hostile --only replay,pings

The server is this project under `manage.py serve` on a SQLite file, with its
default limits (SEND_BUFFER_LIMIT 1 MiB, HANDSHAKE_TIMEOUT 10 s,
MAX_CONNECTIONS_PER_IP 1,000, rate limits on). Results go to
bench/out/hostile.json; RESULTS.md has them with how to reproduce.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.support.environment import fresh_database, workdir
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


def serve(directory: Path, database_url: str) -> Server:
    port = free_port()
    command = [sys.executable, "manage.py", "serve", "--port", str(port), "--", "--access-log", os.devnull]
    env = {"DATABASE_URL": database_url, "DJANGO_LOG_LEVEL": "WARNING", "MAX_CONNECTIONS_PER_USER": "0"}
    return start("hostile", command, port, env, directory)


async def run(only: set[str], directory: Path) -> dict[str, Any]:
    database_url = f"sqlite:///{directory / 'hostile.sqlite3'}"
    seed = fresh_database(database_url, users=2, posts=1, comments=COMMENTS)
    token, post_id = seed.tokens[0], seed.post_ids[0]
    results: dict[str, Any] = {}
    attacks: dict[str, Callable[[Server], Awaitable[dict[str, Any]]]] = {
        "replay_20": lambda server: replay_flood(server, post_id, token, 20),
        "replay_60": lambda server: replay_flood(server, post_id, token, 60),
        "pings": unread_pings,
        "handshake": slow_handshake,
        "address": many_from_one_address,
    }
    for name, attack in attacks.items():
        if only and not any(name.startswith(wanted) for wanted in only):
            continue
        server = serve(directory, database_url)  # a fresh process per attack: its memory is the attack's
        try:
            await asyncio.sleep(2)
            baseline = await echo_latency(server)
            results[name] = {**await during(server, attack(server)), "echo_without_attack": baseline}
            results[name]["exceptions_in_log"] = server.log_path.read_text(errors="replace").count("Traceback")
        finally:
            server.stop()
        print(name, json.dumps(results[name]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated: replay, pings, handshake, address")
    arguments = parser.parse_args()
    only = {name for name in arguments.only.split(",") if name}
    with workdir() as directory:
        results = asyncio.run(run(only, directory))
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
