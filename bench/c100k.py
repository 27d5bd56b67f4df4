"""
C100k (issue 25): 100,000 idle authenticated connections on this 2-core machine, over five daphne processes on
PostgreSQL and Redis, held with the heartbeat on, then one notification pushed to every user.

    python -m bench.c100k [--connections 100000] [--servers 5] [--minutes 10]
    python -m bench.c100k --servers 6                       # six processes: 100,000 fit the descriptor limit
    python -m bench.c100k --quick                           # 2,000 connections, 2 servers, 1 minute: does it run?
    python -m bench.c100k --set HEARTBEAT_INTERVAL=60 --set FEED_CHECK_INTERVAL=10      # settings of the servers
    python -m bench.c100k --push notify_user --pushers 2    # the push through notify_user, one user at a time
    python -m bench.c100k --finish-by 09:05                 # the hold shortened so that the run ends by then (UTC)

What it does, in order:

1. A fresh PostgreSQL database with one user (and one token) per connection (bench/support/seed.py: bulk-created
   users, about 10 s for 100,000). Redis (BENCH_REDIS_URL's database) flushed.
2. `--servers` daphne processes (`project.asgi`, listen backlog 4,096) on that database and on Redis (the
   project's channel layer, channels-redis' pub/sub layer, under a prefix of this bench's own, REDIS_PREFIX:
   pub/sub channels ignore the database number), at the server's default limits (the per-address cap of 1,000,
   the per-user cap of 20 counted in Redis, the rate limits), the feed checks every second and the heartbeat at
   its defaults (a ping every 30 s, answered within 10 s); `--set NAME=VALUE` changes any setting the
   environment sets (README, "Settings"). Each is started with a limit of 65,536 open files; where the hard
   limit is lower and cannot be raised (raising it needs CAP_SYS_RESOURCE: 20,000 in this sandbox), a process
   holds at most the hard limit minus OWN_DESCRIPTORS (its listening socket, its database pool, its Redis
   connections, its logs): 19,800 here, so 100,000 over five processes (20,000 each) do not fit and 99,000 are
   asked of them. The result says how many were asked and how many each process was given
   (`connections_asked`, `connections`, `per_server_planned`); `--servers 6` reaches 100,000 (16,667 a process).
3. The opening: one `/ws/notifications?token=…` connection per user, dealt over the servers, opened by client
   processes (bench/clients/notified_crowd.py: the crowd client, which answers every ping and reports its
   progress) of at most CLIENT_SHARE connections each (the descriptor limit binds them too), each from
   SOURCE_ADDRESSES loopback addresses (127.1.<process>.N: a few hundred connections per address and server,
   under the per-address cap, and far from the 28,000 ephemeral ports of an address), CLIENT_CONCURRENCY
   handshakes in flight per client process; the clients do not retry. Reported: connected and refused per server
   (its `/metrics`: `realtime_connections`, `realtime_handshakes_total` by outcome), handshake failures as the
   clients saw them, the time to open them all (at most `--open-timeout`: then what is open is held), and every
   5 s the connections held, the servers' CPU and the machine's (`opening_rate_every_5s`), summed up by quarter
   (`opening_by_quarter`: handshakes a second, server CPU-ms per handshake, how busy the machine was).
4. The hold: `--minutes` idle. Reported: resident memory of each server before the connections, once they are
   open, and at the end, and KiB per connection (growth over the connections held); the servers' CPU (user +
   system, /proc) during the hold, as a share of the machine and in CPU-milliseconds per connection per minute;
   the clients' CPU and memory; PostgreSQL transactions a second (the feed checks read every open feed's
   high-water mark every FEED_CHECK_INTERVAL, the revocation checks every open user's password every
   REVOCATION_CHECK_INTERVAL: one query per thousand connections of a process each); Redis (INFO: memory, CPU,
   commands, pub/sub channels, keys) before, after the opening, after the hold and at the end; pings answered;
   closes before the end (every one is unexpected).
5. The push: one notification to every user, stored as `notify_user` stores it and pushed after its commit to
   the user's group through Redis. `--push bulk` (the default): one process stores them a thousand users per
   transaction (the sequence upsert and the insert in bulk, then `publish_on_commit` of each notification's
   event: the events notify_user publishes, sent as a server sends them, from its event loop); `--push
   notify_user`: `anotify_user` once per user, one transaction each, split over `--pushers` processes. Then a
   bounded wait (DELIVERY_WAIT after the pushers are done) until every connection still open has it. Reported:
   received, lost (open connections without it), duplicated, wrong (another user's), the pushers' time to store
   and to publish, the servers' live sends (their `realtime_delivery_seconds_count`: the rest came from a feed
   check's catch-up read of the database, when the Redis event was late), and the latency to each receipt
   (p50, p99, max) from the push's start, from the notification's commit and from its publish (CLOCK_MONOTONIC,
   shared by the processes of the machine; negative from its publish: a catch-up read got there first).
6. Who had the CPU in each phase (`cpu_shares`, from the timeline: the machine in all, the servers, the clients,
   PostgreSQL, Redis, the kernel's softirq, and the rest: the pushers, this process, other processes on the
   machine); server exceptions and warnings (of the measurement; those of the teardown, when every client
   leaves at once, apart), peak PostgreSQL connections, and `findings`: the figures that say what gave out first.

Result: bench/out/c100k.json (`--out`; `--quick`: c100k-quick.json), a summary printed; after each phase the
figures so far go to c100k.partial.json (a run stopped midway leaves them). BENCH_DATABASE_URL and
BENCH_REDIS_URL (and BENCH_KEEP=1, to keep the logs) as for every benchmark. The whole run takes the opening
(minutes: it slows as the servers fill) plus `--minutes`, plus a few minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis

from bench.clients.common import ready_then_wait_for_go
from bench.scaleout import OUT
from bench.soak import MemorySampler
from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.sampling import Sampler
from bench.support.stats import percentile

# Descriptors the server may hold; where the hard limit is lower (and may not be raised), that limit.
OPEN_FILES = 65_536
# Descriptors a daphne process holds besides its connections: listening socket, epoll, logs, its database pool
# (up to 20), its Redis connections (the layer's, and the per-user slots' pool, which grows with the
# handshakes in flight: about 16 plus the handshakes in flight to that process). Measured: 32 to 39 with 20 in
# flight to each of five processes, 116 with 100 to one.
OWN_DESCRIPTORS = 200
# Connections per client process: under its own descriptor limit, and few enough that one process keeps up
# with its pings and its share of the push.
CLIENT_SHARE = 12_500
MIN_CLIENT_PROCESSES = 2
# Loopback addresses each client process's connections come from.
SOURCE_ADDRESSES = 16
# Handshakes in flight per client process.
CLIENT_CONCURRENCY = 50
HEARTBEAT_INTERVAL = 30.0
REDIS_PREFIX = "realtime-c100k"
SETTLE_SECONDS = 3.0
TIMELINE_SECONDS = 5.0
# Users a bulk push stores per transaction.
PUSH_CHUNK = 1000
# How long the push may take to store and publish, and how long after its last commit the clients may take.
PUSH_TIMEOUT = 900.0
DELIVERY_WAIT = 120.0
# With --finish-by: what the push, the wait for its delivery and the teardown are given after the hold.
FINISH_RESERVE = 300.0
PAYLOAD = {"text": "c100k: one notification to every user"}
CORES = os.cpu_count() or 1
QUICK = {"connections": 2_000, "servers": 2, "minutes": 1.0}


def plan(asked: int, server_count: int) -> tuple[list[int], int | None]:
    """Connections per server: `asked` dealt evenly, each at most what one process may hold here; its cap."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    cap = None
    if hard != resource.RLIM_INFINITY and hard < OPEN_FILES:
        cap = int(hard) - OWN_DESCRIPTORS
    share = [asked // server_count + (1 if n < asked % server_count else 0) for n in range(server_count)]
    planned = [min(s, cap) if cap is not None else s for s in share]
    if sum(planned) < asked:
        print(
            f"The hard limit of open files is {hard} here (raising it needs CAP_SYS_RESOURCE): a process holds at "
            f"most {cap} connections; asking {sum(planned)} of {server_count} processes, not {asked}",
            flush=True,
        )
    return planned, cap


def dealt(planned: list[int]) -> list[int]:
    """Which server each connection goes to: round-robin over the servers that still have room."""
    order: list[int] = []
    left = list(planned)
    while any(left):
        for n, room in enumerate(left):
            if room:
                order.append(n)
                left[n] -= 1
    return order


# --- Readings -------------------------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / servers.CLOCK_TICKS


def process_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_cpu() -> tuple[float, float]:
    """
    CPU seconds of the whole machine so far (/proc/stat: every core, every process), busy, and of those in softirq
    (the kernel's network processing, loopback TCP included, which no process's own CPU time counts).
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # up to steal; guest time is counted in user already
    return (total - idle) / servers.CLOCK_TICKS, fields[6] / servers.CLOCK_TICKS


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process so far (the server's, whoever's its clients are)."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if Path(f"/proc/{entry.name}/comm").read_text().strip() in ("postgres", "postmaster"):
                    total += process_cpu(int(entry.name))
            except OSError:
                continue
    return total


def redis_reading() -> dict[str, Any]:
    """What Redis says of itself: memory, CPU, commands, pub/sub channels, clients, the bench database's keys."""
    client = redis.Redis.from_url(env.REDIS_URL)
    info = client.info()
    return {
        "used_memory_mib": round(info["used_memory"] / 2**20, 1),
        "used_memory_rss_mib": round(info["used_memory_rss"] / 2**20, 1),
        "used_memory_peak_mib": round(info["used_memory_peak"] / 2**20, 1),
        "cpu_seconds": round(info["used_cpu_sys"] + info["used_cpu_user"], 2),
        "commands_processed": info["total_commands_processed"],
        "pubsub_channels": info.get("pubsub_channels"),
        "connected_clients": info["connected_clients"],
        "keys": client.dbsize(),
    }


def database_transactions() -> int:
    """Transactions committed so far in the bench database (pg_stat_database: one per query in autocommit)."""
    name = env.DATABASE_URL.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(env._maintenance_url(), autocommit=True) as db:
        row = db.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [name]).fetchone()
    return int(row[0]) if row else 0


def metrics_of(server: servers.Server) -> dict[str, float]:
    """The server's own counts (`/metrics`): connections, handshakes by outcome, closes, deliveries, errors."""
    keep = (
        "realtime_connections{",
        "realtime_handshakes_total{",
        "realtime_closes_total{",
        "realtime_error_frames_total{",
        "realtime_delivery_seconds_count{",
        "realtime_delivery_seconds_sum{",
        "realtime_replayed_entries_total{",
        "realtime_channel_layer_failures_total",
        "realtime_database_failures_total{",
        "realtime_fell_behind_total{",
    )
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=30) as response:
            text = response.read().decode()
    except OSError as error:
        return {"error": f"{type(error).__name__}: {error}"}  # type: ignore[dict-item]
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(keep):
            name, _, value = line.rpartition(" ")
            if float(value):
                found[name] = float(value)
    return found


def handshakes(metrics: dict[str, Any]) -> dict[str, int]:
    """A server's handshakes by outcome (all endpoints)."""
    counted: dict[str, int] = {}
    for name, value in metrics.items():
        if name.startswith("realtime_handshakes_total{") and "outcome=" in name:
            outcome = name.split('outcome="')[1].split('"')[0]
            counted[outcome] = counted.get(outcome, 0) + int(value)
    return counted


def summed(metrics: dict[str, float], prefix: str) -> float:
    return sum(value for name, value in metrics.items() if name.startswith(prefix) and isinstance(value, float))


class Timeline(Sampler):
    """
    Every TIMELINE_SECONDS: each server's descriptors, CPU seconds and resident memory, the clients' CPU and
    memory, Redis' memory and CPU. What the opening looked like (the handshake rate as the servers fill), and who
    had the CPU at each moment.
    """

    def __init__(self, group: list[servers.Server]) -> None:
        super().__init__(TIMELINE_SECONDS)
        self.group = group
        self.client_pids: list[int] = []
        self.samples: list[dict[str, Any]] = []

    def sample(self) -> None:
        try:
            reading = redis_reading()
        except redis.RedisError as error:
            reading = {"error": str(error)}
        busy, softirq = machine_cpu()
        self.samples.append(
            {
                "t": round(self.elapsed(), 1),
                "at": time.monotonic(),
                "machine_busy_cpu_s": round(busy, 2),
                "softirq_cpu_s": round(softirq, 2),
                "postgres_cpu_s": round(postgres_cpu(), 2),
                "descriptors": [_descriptors(s) for s in self.group],
                "server_cpu_s": [round(s.cpu_seconds(), 2) if s.alive() else None for s in self.group],
                "server_rss_mib": [round(process_rss_kib(s.process.pid) / 1024, 1) for s in self.group],
                "client_cpu_s": round(sum(process_cpu(pid) for pid in self.client_pids), 2),
                "client_rss_mib": round(sum(process_rss_kib(pid) for pid in self.client_pids) / 1024, 1),
                "redis_mib": reading.get("used_memory_mib"),
                "redis_cpu_s": reading.get("cpu_seconds"),
            }
        )


def _descriptors(server: servers.Server) -> int | None:
    try:
        return server.open_descriptors()
    except OSError:
        return None


# --- The crowd --------------------------------------------------------------------------------------------


def start_crowd(work: Path, urls: list[str], *, processes: int, deadline: float) -> crowds.Crowds:
    """crowds.start, with bench/clients/notified_crowd.py: it also reports how far the push has got."""
    name = "crowd"
    shares = [urls[n::processes] for n in range(processes)]
    crowd = crowds.Crowds(work, name, shares, [])
    for n, share in enumerate(shares):
        config = {
            "urls": share,
            "concurrency": CLIENT_CONCURRENCY,
            "ready_file": str(work / f"{name}-{n}.ready"),
            "progress_file": str(work / f"{name}-{n}.progress"),
            "deadline": deadline,
            "record_types": ["notification"],
            "expect": None,
            "subscribe": [],
            "source_addresses": SOURCE_ADDRESSES,
            "log_presence": False,
            "process": n,
            "result": str(crowd._result(n)),
        }
        crowd.processes.append(env.spawn_client("bench.clients.notified_crowd", config, work, f"{name}-{n}"))
    return crowd


def stop_crowd(crowd: crowds.Crowds, timeout: float = 300) -> list[dict[str, Any]]:
    """
    End the clients (SIGUSR1: each closes its connections and writes its result), and read their results; a client
    that has not finished within `timeout` (every server closing its connections at once) is killed, and its
    result is an empty one, marked "missing".
    """
    for process in crowd.processes:
        if process.poll() is None:
            process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    for process in crowd.processes:
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    results = []
    for n in range(len(crowd.processes)):
        try:
            results.append(json.loads(crowd._result(n).read_text()))
        except (OSError, ValueError):
            results.append({"connected": 0, "failures": {}, "closes": {}, "pongs": 0, "frames": [], "missing": True})
    return results


def wait_until_ready(work: Path, crowd: crowds.Crowds, timeout: float) -> None:
    ready = [work / f"crowd-{n}.ready" for n in range(len(crowd.processes))]
    env.wait_for_files(ready, timeout=timeout, processes=crowd.processes)


def progress(work: Path, crowd: crowds.Crowds) -> dict[str, int]:
    """The clients' latest progress files, summed: connected, received, closed, pings answered."""
    total = {"connected": 0, "received": 0, "closed": 0, "pongs": 0}
    for n in range(len(crowd.processes)):
        try:
            reported = json.loads((work / f"crowd-{n}.progress").read_text())
        except (OSError, ValueError):
            continue
        for key in total:
            total[key] += reported.get(key, 0)
    return total


# --- The push (a process of its own, with Django) ---------------------------------------------------------------


def push_worker(config_path: str) -> None:
    """`python -m bench.c100k --push-worker CONFIG`: store and push one notification to each of the config's users."""
    config = json.loads(Path(config_path).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    result = asyncio.run(_push(config))
    Path(config["result"]).write_text(json.dumps(result))


async def _push(config: dict[str, Any]) -> dict[str, Any]:
    from channels.layers import get_channel_layer
    from django.contrib.auth import get_user_model

    from notifications.services import anotify_user
    from realtime.db import database_sync_to_async

    user_ids: list[int] = config["user_ids"]
    payload = config["payload"]
    # Connected before the clock starts: the layer's Redis connection, a database connection.
    layer = get_channel_layer()
    await layer.group_send("c100k.warmup", {"type": "warmup"})
    # When each group's event was handed to the layer for Redis (publish_on_commit's sends go through it).
    published_at: dict[str, float] = {}
    group_send = layer.group_send

    async def timed_group_send(group: str, message: dict[str, Any]) -> None:
        published_at[group] = time.monotonic()
        await group_send(group, message)

    layer.group_send = timed_group_send
    await database_sync_to_async(_warm)()
    await ready_then_wait_for_go(config)  # the orchestrator's SIGUSR1 starts the clock
    started = time.monotonic()
    sent: list[tuple[int, int, float]] = []  # user id, notification id, committed (monotonic)
    if config["mode"] == "bulk":
        for at in range(0, len(user_ids), PUSH_CHUNK):
            rows = await database_sync_to_async(_bulk_notify)(user_ids[at : at + PUSH_CHUNK], payload)
            committed = time.monotonic()
            sent.extend((user_id, notification_id, committed) for user_id, notification_id in rows)
    else:
        user_model = get_user_model()
        for user_id in user_ids:
            notification = await anotify_user(user_model(pk=user_id), payload)
            sent.append((user_id, notification.pk, time.monotonic()))
    stored = time.monotonic()
    # publish_on_commit hands each batch to this event loop (as in a server): wait for the publishes to be sent.
    current = asyncio.current_task()
    while pending := [task for task in asyncio.all_tasks() if task is not current and not task.done()]:
        await asyncio.wait(pending, timeout=1)
    published = time.monotonic()
    return {
        "started": started,
        "stored": stored,
        "published": published,
        "sent": [(uid, nid, committed, published_at.get(f"notifications.user.{uid}")) for uid, nid, committed in sent],
    }


def _warm() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _bulk_notify(user_ids: list[int], payload: dict[str, Any]) -> list[tuple[int, int]]:
    """
    notify_user for many users in one transaction: their `seq` counters upserted and their notifications inserted in
    bulk, then each notification's event (notification_publication, as notify_user publishes it) after the commit.
    """
    from django.db import connection, transaction

    from notifications.models import Notification, NotificationSequence
    from notifications.services import notification_publication
    from realtime.feeds.publish import publish_on_commit

    table = connection.ops.quote_name(NotificationSequence._meta.db_table)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (user_id, last_seq) SELECT id, 1 FROM unnest(%s::bigint[]) AS id "
                f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 RETURNING user_id, last_seq",
                [user_ids],
            )
            seqs = dict(cursor.fetchall())
        created = Notification.objects.bulk_create(
            [Notification(recipient_id=user_id, seq=seqs[user_id], payload=payload) for user_id in user_ids]
        )
        publish_on_commit([notification_publication(notification) for notification in created])
    return [(notification.recipient_id, notification.pk) for notification in created]


def start_pushers(work: Path, user_ids: list[int], mode: str, count: int, server_env: dict[str, str]) -> list[Any]:
    """The push processes, each connected and waiting for SIGUSR1 once its ready file is written."""
    pushers = []
    for n in range(count):
        config = {
            "user_ids": user_ids[n::count],
            "mode": mode,
            "payload": PAYLOAD,
            "ready_file": str(work / f"push-{n}.ready"),
            "result": str(work / f"push-{n}-result.json"),
        }
        config_path = work / f"push-{n}.json"
        config_path.write_text(json.dumps(config))
        log = (work / f"push-{n}.log").open("wb")
        environment = {**os.environ, **server_env, "DJANGO_SETTINGS_MODULE": "project.settings"}
        command = [sys.executable, "-m", "bench.c100k", "--push-worker", str(config_path)]
        pushers.append(subprocess.Popen(command, cwd=servers.ROOT, env=environment, stdout=log, stderr=log))
    env.wait_for_files([work / f"push-{n}.ready" for n in range(count)], timeout=120, processes=pushers)
    return pushers


# --- The run ------------------------------------------------------------------------------------------------------


def c100k(
    asked: int,
    server_count: int,
    minutes: float,
    push_mode: str,
    pusher_count: int,
    *,
    open_timeout: float = 3600,
    extra_env: dict[str, str] | None = None,
    finish_by: float | None = None,
    partial: Path | None = None,
) -> dict[str, Any]:
    """
    The run; `extra_env`: more of the servers' environment (README, "Settings": HEARTBEAT_INTERVAL, ...);
    `finish_by` (seconds since the epoch): the hold is shortened so that the run ends by then; `partial`: where the
    figures so far are written after each phase (a run stopped midway leaves them).
    """
    planned, cap = plan(asked, server_count)
    connections = sum(planned)
    hold_seconds = minutes * 60
    client_count = max(MIN_CLIENT_PROCESSES, math.ceil(connections / CLIENT_SHARE))
    print(
        f"{connections:,} connections over {server_count} servers ({planned}), {client_count} client processes, "
        f"hold {minutes:g} min, push {push_mode}",
        flush=True,
    )
    seeded_at = time.monotonic()
    seed = env.fresh_database(users=connections)
    seed_seconds = time.monotonic() - seeded_at
    print(f"seeded {connections:,} users in {seed_seconds:.1f} s", flush=True)
    server_env = {
        "DATABASE_URL": env.DATABASE_URL,
        "REDIS_URL": env.REDIS_URL,
        "REDIS_PREFIX": REDIS_PREFIX,
        "DJANGO_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    order = dealt(planned)
    result: dict[str, Any] = {
        "scenario": "c100k",
        "connections_asked": asked,
        "connections": connections,
        "servers": server_count,
        "per_server_planned": planned,
        "per_server_cap": cap,
        "open_files_hard_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "client_processes": client_count,
        "source_addresses": client_count * SOURCE_ADDRESSES,
        "handshakes_in_flight": client_count * CLIENT_CONCURRENCY,
        "minutes": minutes,
        "heartbeat_interval_s": float(server_env.get("HEARTBEAT_INTERVAL", HEARTBEAT_INTERVAL)),
        "server_settings": extra_env or {},
        "push_mode": push_mode,
        "pushers": pusher_count,
        "cores": CORES,
        "seed_seconds": round(seed_seconds, 1),
    }
    redis_before = redis_reading()
    with env.workdir() as work:
        group: list[servers.Server] = []
        crowd: crowds.Crowds | None = None
        try:
            for n in range(server_count):
                group.append(servers.daphne(f"daphne-c100k-{n}", server_env, work, open_files=OPEN_FILES))
            time.sleep(SETTLE_SECONDS)
            rss_before = [s.rss_kib() for s in group]
            descriptors_before = [s.open_descriptors() for s in group]
            urls = [
                f"{group[n].ws_url}/ws/notifications?token={token}" for n, token in zip(order, seed.tokens, strict=True)
            ]
            with env.ConnectionSampler(interval=1.0) as database, Timeline(group) as timeline:
                # --- open
                server_cpu_start = [s.cpu_seconds() for s in group]
                opened_at = time.monotonic()
                deadline = open_timeout + hold_seconds + PUSH_TIMEOUT + DELIVERY_WAIT + 600
                crowd = start_crowd(work, urls, processes=client_count, deadline=deadline)
                timeline.client_pids = [p.pid for p in crowd.processes]
                try:
                    wait_until_ready(work, crowd, timeout=open_timeout)
                    opened_in_time = True
                except TimeoutError:  # hold what is open; the clients still opening go on meanwhile
                    opened_in_time = False
                    print(f"not every connection open within {open_timeout:g} s: holding what is", flush=True)
                opening = time.monotonic() - opened_at
                server_cpu_opened = [s.cpu_seconds() for s in group]
                client_cpu_opening = sum(process_cpu(p.pid) for p in crowd.processes)
                print(f"opened in {opening:.1f} s: {progress(work, crowd)}", flush=True)
                time.sleep(SETTLE_SECONDS)
                rss_open = [s.rss_kib() for s in group]
                descriptors_open = [s.open_descriptors() for s in group]
                metrics_open = [metrics_of(s) for s in group]
                redis_open = redis_reading()
                client_rss_open = sum(process_rss_kib(p.pid) for p in crowd.processes)
                opened = progress(work, crowd)
                save(
                    partial,
                    "opened",
                    result,
                    timeline,
                    connected_so_far=opened["connected"],
                    seconds_to_open_all=round(opening, 1),
                    opened_within_the_timeout=opened_in_time,
                    per_server_metrics_open=metrics_open,
                    rss_mib_per_server_before=[round(k / 1024, 1) for k in rss_before],
                    rss_mib_per_server_open=[round(k / 1024, 1) for k in rss_open],
                    client_rss_mib_open=round(client_rss_open / 1024, 1),
                    redis_before=redis_before,
                    redis_open=redis_open,
                    opening_rate_every_5s=opening_rate(timeline.samples, descriptors_before, opened_at, opening),
                )
                if finish_by is not None:
                    left = finish_by - time.time() - FINISH_RESERVE
                    if left < hold_seconds:
                        print(f"holding {max(60.0, left):.0f} s, not {hold_seconds:.0f}: to finish by then", flush=True)
                        result["hold_shortened_from_minutes"] = minutes
                        hold_seconds = max(60.0, left)
                # --- hold
                transactions_start = database_transactions()
                hold_progress = progress(work, crowd)
                server_cpu_hold_start = [s.cpu_seconds() for s in group]
                client_cpu_hold_start = sum(process_cpu(p.pid) for p in crowd.processes)
                hold_started = time.monotonic()
                with MemorySampler(group) as memory:
                    time.sleep(hold_seconds)
                hold_elapsed = time.monotonic() - hold_started
                server_cpu_hold_end = [s.cpu_seconds() for s in group]
                client_cpu_hold_end = sum(process_cpu(p.pid) for p in crowd.processes)
                transactions_end = database_transactions()
                redis_held = redis_reading()
                rss_end = [s.rss_kib() for s in group]
                before_push = progress(work, crowd)
                print(f"held {hold_elapsed:.0f} s: {before_push}", flush=True)
                save(
                    partial,
                    "held",
                    result,
                    timeline,
                    hold_seconds=round(hold_elapsed, 1),
                    progress_after_hold=before_push,
                    server_cpu_seconds_hold_per_server=[
                        round(b - a, 1) for a, b in zip(server_cpu_hold_start, server_cpu_hold_end, strict=True)
                    ],
                    client_cpu_seconds_hold=round(client_cpu_hold_end - client_cpu_hold_start, 1),
                    rss_mib_per_server_end=[round(k / 1024, 1) for k in rss_end],
                    redis_after_hold=redis_held,
                    database_transactions_per_second_holding=round(
                        (transactions_end - transactions_start) / hold_elapsed, 1
                    ),
                )
                # --- push
                pushers = start_pushers(work, seed.user_ids, push_mode, pusher_count, server_env)
                server_cpu_push_start = [s.cpu_seconds() for s in group]
                push_started = time.monotonic()
                for pusher in pushers:
                    pusher.send_signal(signal.SIGUSR1)
                deadline = push_started + PUSH_TIMEOUT
                while any(p.poll() is None for p in pushers) and time.monotonic() < deadline:
                    time.sleep(0.2)
                pushes_done = all(p.poll() == 0 for p in pushers)
                for pusher in pushers:
                    if pusher.poll() is None:
                        pusher.kill()
                        pusher.wait()
                deadline = time.monotonic() + DELIVERY_WAIT
                while True:
                    now = progress(work, crowd)
                    if now["received"] >= now["connected"] - now["closed"] or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                delivery_wait = time.monotonic() - push_started
                server_cpu_push_end = [s.cpu_seconds() for s in group]
                print(f"pushed, {delivery_wait:.1f} s: {now}", flush=True)
                save(
                    partial,
                    "pushed",
                    result,
                    timeline,
                    progress_after_push=now,
                    push_seconds_to_all_received_or_timeout=round(delivery_wait, 1),
                    pushers_finished=pushes_done,
                )
                metrics_end = [metrics_of(s) for s in group]
                redis_end = redis_reading()
                measured = [len(s.log_path.read_bytes()) for s in group]  # the logs up to here: the measurement's
                results = stop_crowd(crowd)
            push_results = [
                json.loads((work / f"push-{n}-result.json").read_text())
                for n in range(pusher_count)
                if (work / f"push-{n}-result.json").exists()
            ]
            push_logs = [(work / f"push-{n}.log").read_text(errors="replace")[-2000:] for n in range(pusher_count)]
            texts = [s.log_path.read_bytes() for s in group]
            logs = [text[:size].decode(errors="replace") for text, size in zip(texts, measured, strict=True)]
            teardown_logs = [text[size:].decode(errors="replace") for text, size in zip(texts, measured, strict=True)]
            first_traceback = next((log[log.index("Traceback") :][:3000] for log in logs if "Traceback" in log), None)
        finally:
            if crowd is not None:
                for process in crowd.processes:
                    if process.poll() is None:
                        process.kill()
            for server in group:
                server.stop()

    # --- the figures
    connected = sum(r["connected"] for r in results)
    result["client_results_missing"] = sum(1 for r in results if r.get("missing"))
    held_per_server = [int(summed(m, "realtime_connections{")) for m in metrics_open]
    # Held once the opening was over (the servers' own count), and on average through the hold: under overload,
    # connections that opened were closed again, and figures per connection divide by what the servers held.
    held = sum(held_per_server)
    held_in_hold = max(1, round((held + before_push["connected"] - before_push["closed"]) / 2))
    rows = opening_rate(timeline.samples, descriptors_before, opened_at, opening)
    result.update(
        {
            "connected": connected,
            "held_after_opening": held,
            "held_after_opening_per_server": held_per_server,
            "held_at_the_push": before_push["connected"] - before_push["closed"],
            "peak_held_while_opening": max((row[1] for row in rows), default=0),
            "not_connected": connections - connected,
            "handshakes_per_server": [handshakes(m) for m in metrics_open],
            "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
            "seconds_to_open_all": round(opening, 1),
            "handshakes_per_second": round(connected / opening, 1),
            "server_cpu_share_while_opening": round(
                sum(b - a for a, b in zip(server_cpu_start, server_cpu_opened, strict=True)) / opening / CORES, 3
            ),
            "client_cpu_share_while_opening": round(client_cpu_opening / opening / CORES, 3),
            "opening_rate_every_5s": rows,
            "opened_within_the_timeout": opened_in_time,
            "descriptors_per_server_before": descriptors_before,
            "descriptors_per_server_open": descriptors_open,
            "own_descriptors_per_server": [d - h for d, h in zip(descriptors_open, held_per_server, strict=True)],
            "rss_mib_per_server_before": [round(k / 1024, 1) for k in rss_before],
            "rss_mib_per_server_open": [round(k / 1024, 1) for k in rss_open],
            "rss_mib_per_server_end": [round(k / 1024, 1) for k in rss_end],
            "kib_per_connection_per_server_open": [
                round((o - b) / max(1, h), 1) for b, o, h in zip(rss_before, rss_open, held_per_server, strict=True)
            ],
            "kib_per_connection_open": round((sum(rss_open) - sum(rss_before)) / max(1, held), 1),
            "kib_per_connection_end": round((sum(rss_end) - sum(rss_before)) / max(1, held_in_hold), 1),
            "rss_mib_servers_total_end": round(sum(rss_end) / 1024, 1),
            "client_rss_mib_open": round(client_rss_open / 1024, 1),
            "client_kib_per_connection": round(client_rss_open / max(1, held), 1),
            "hold_seconds": round(hold_elapsed, 1),
            "server_cpu_seconds_hold_per_server": [
                round(b - a, 1) for a, b in zip(server_cpu_hold_start, server_cpu_hold_end, strict=True)
            ],
            "server_cpu_share_while_holding": round(
                (sum(server_cpu_hold_end) - sum(server_cpu_hold_start)) / hold_elapsed / CORES, 3
            ),
            "server_cpu_ms_per_connection_per_minute": round(
                1000 * (sum(server_cpu_hold_end) - sum(server_cpu_hold_start)) / held_in_hold / (hold_elapsed / 60),
                3,
            ),
            "client_cpu_ms_per_connection_per_minute": round(
                1000 * (client_cpu_hold_end - client_cpu_hold_start) / held_in_hold / (hold_elapsed / 60), 3
            ),
            "client_cpu_share_while_holding": round(
                (client_cpu_hold_end - client_cpu_hold_start) / hold_elapsed / CORES, 3
            ),
            "database_transactions_per_second_holding": round(
                (transactions_end - transactions_start) / hold_elapsed, 1
            ),
            "peak_db_connections": database.peak,
            "redis_before": redis_before,
            "redis_open": redis_open,
            "redis_after_hold": redis_held,
            "redis_end": redis_end,
            "redis_mib_per_1000_connections": round(
                (redis_open["used_memory_mib"] - redis_before["used_memory_mib"]) * 1000 / max(1, held), 2
            ),
            "redis_cpu_share_while_holding": round(
                (redis_held["cpu_seconds"] - redis_open["cpu_seconds"]) / hold_elapsed / CORES, 3
            ),
            "pings_answered": sum(r.get("pongs", 0) for r in results),
            "pings_answered_during_the_hold": before_push["pongs"] - hold_progress["pongs"],
            "pings_expected_during_the_hold_about": int(held_in_hold * hold_elapsed / result["heartbeat_interval_s"]),
            "closed_before_the_push": before_push["closed"],
            "closes_before_the_end": crowds.merge_counts(r["closes"] for r in results),
            "rss_mib_samples_hold": memory.samples,
            "server_cpu_seconds_push": [
                round(b - a, 1) for a, b in zip(server_cpu_push_start, server_cpu_push_end, strict=True)
            ],
        }
    )
    result["push"] = delivery(crowd, results, seed.user_ids, push_results, pushes_done, push_started, delivery_wait)
    live = [summed(m, "realtime_delivery_seconds_count{") for m in metrics_end]
    result["push"]["live_sends_per_server"] = [int(n) for n in live]  # from the Redis event; the rest: catch-up reads
    result["push"]["pusher_log_tails"] = [tail for tail in push_logs if "Traceback" in tail or "Error" in tail]
    result["server_metrics_end"] = metrics_end
    # env.exceptions_in's count, of the measurement's part of each log and of the rest.
    result["server_exceptions"] = [
        log.count("Exception inside application") + log.count("Traceback (most") for log in logs
    ]
    result["server_exceptions_at_teardown"] = [
        log.count("Exception inside application") + log.count("Traceback (most") for log in teardown_logs
    ]
    result["server_warnings"] = warning_kinds(env.warnings_in(logs))
    # As the clients leave all at once and the servers stop: not part of the measurement, but worth a look.
    result["server_warnings_at_teardown"] = warning_kinds(env.warnings_in(teardown_logs))
    result["first_traceback"] = first_traceback
    result["opening_by_quarter"] = by_quarter(result["opening_rate_every_5s"])
    result["cpu_shares"] = {
        "opening": cpu_shares(timeline.samples, opened_at, opened_at + opening),
        "holding": cpu_shares(timeline.samples, hold_started, hold_started + hold_elapsed),
        "push": cpu_shares(timeline.samples, push_started, push_started + delivery_wait),
    }
    result["timeline"] = timeline.samples
    result["findings"] = findings(result)
    return result


def save(partial: Path | None, phase: str, result: dict[str, Any], timeline: Timeline, **figures: Any) -> None:
    """The figures of a phase into `result`, and everything so far into `partial` (for a run stopped midway)."""
    result.update(figures)
    if partial is not None:
        partial.parent.mkdir(exist_ok=True)
        partial.write_text(json.dumps({**result, "phase": phase, "timeline": timeline.samples}, indent=1))


def by_quarter(rows: list[tuple[float, int, float, float]]) -> list[dict[str, Any]]:
    """
    The opening in four parts: connections gained a second (net: opened less closed, which under overload is
    negative), the servers' CPU per connection gained and a second, how busy the machine was.
    """
    if len(rows) < 5:
        return []
    quarters = []
    for n in range(4):
        first, last = rows[n * (len(rows) - 1) // 4], rows[(n + 1) * (len(rows) - 1) // 4]
        seconds, opened = max(1e-9, last[0] - first[0]), last[1] - first[1]
        quarters.append(
            {
                "from_s": first[0],
                "to_s": last[0],
                "held_from": first[1],
                "held_to": last[1],
                "net_gained_per_s": round(opened / seconds, 1),
                "server_cpu_ms_per_connection_gained": (
                    round(1000 * (last[2] - first[2]) / opened, 2) if opened > 0 else None
                ),
                "server_cpu_share": round((last[2] - first[2]) / seconds / CORES, 3),
                "machine_busy": round((last[3] - first[3]) / seconds / CORES, 3),
            }
        )
    return quarters


def cpu_shares(samples: list[dict[str, Any]], start: float, end: float) -> dict[str, float] | None:
    """
    Who had the machine's CPU between two moments (the timeline's samples nearest to them), as shares of all its
    cores: the machine in all, the servers, the clients, PostgreSQL, Redis, the kernel's softirq (networking), and
    the rest (the pushers, this orchestrator, other processes on the machine).
    """
    inside = [s for s in samples if start - TIMELINE_SECONDS / 2 <= s["at"] <= end + TIMELINE_SECONDS / 2]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    seconds = float(last["at"] - first["at"]) * CORES

    def used(key: str) -> float:
        def value(sample: dict[str, Any]) -> float:
            reading = sample[key]
            return float(sum(v or 0 for v in reading) if isinstance(reading, list) else reading or 0)

        return (value(last) - value(first)) / seconds

    shares = {
        "machine": used("machine_busy_cpu_s"),
        "servers": used("server_cpu_s"),
        "clients": used("client_cpu_s"),
        "postgres": used("postgres_cpu_s"),
        "redis": used("redis_cpu_s"),
        "softirq": used("softirq_cpu_s"),
    }
    shares["rest"] = shares["machine"] - sum(v for k, v in shares.items() if k != "machine")
    return {k: round(v, 3) for k, v in shares.items()}


def opening_rate(
    samples: list[dict[str, Any]], before: list[int], opened_at: float, opening: float
) -> list[tuple[float, int, float, float]]:
    """
    Every 5 s of the opening: [seconds, connections the servers held (their descriptors over their own before), the
    servers' CPU seconds and the machine's busy CPU seconds since the start]. Does a handshake cost more as the
    servers fill, and who had the CPU?
    """
    rows = []
    inside = [
        sample
        for sample in samples
        if opened_at - TIMELINE_SECONDS <= sample["at"] <= opened_at + opening + TIMELINE_SECONDS
        and None not in sample["descriptors"]
        and None not in sample["server_cpu_s"]
    ]
    for sample in inside:
        held = sum(d - b for d, b in zip(sample["descriptors"], before, strict=True))
        server_cpu = sum(sample["server_cpu_s"]) - sum(inside[0]["server_cpu_s"])
        machine = sample["machine_busy_cpu_s"] - inside[0]["machine_busy_cpu_s"]
        rows.append((round(sample["at"] - opened_at, 1), max(0, held), round(server_cpu, 1), round(machine, 1)))
    return rows


def delivery(
    crowd: crowds.Crowds,
    results: list[dict[str, Any]],
    user_ids: list[int],
    push_results: list[dict[str, Any]],
    pushes_done: bool,
    push_started: float,
    waited: float,
) -> dict[str, Any]:
    """What the push delivered: received, lost, duplicated, wrong, and when."""
    sent = {
        user_id: (notification_id, committed, publish)
        for r in push_results
        for user_id, notification_id, committed, publish in r["sent"]
    }
    started = min((r["started"] for r in push_results), default=push_started)
    processes = len(crowd.processes)
    received: dict[int, list[tuple[int, float]]] = {}
    for n, r in enumerate(results):
        for index, notification_id, at in r["frames"]:
            user_id = user_ids[n + index * processes]  # crowds deal urls[n::processes]; the seed's order
            received.setdefault(user_id, []).append((notification_id, at))
    connected_users = sum(r["connected"] for r in results)
    closed = sum(sum(r["closes"].values()) for r in results)
    # A connection whose task raised once open (a pong sent as the server closed it: ConnectionClosedError) is
    # counted by the crowd as a failure, not a close: it was not open at the push either.
    crashed = sum(count for r in results for name, count in r["failures"].items() if name.startswith("crashed"))
    expected = connected_users - closed - crashed
    right = [(uid, frames) for uid, frames in received.items() if uid in sent and frames[0][0] == sent[uid][0]]
    wrong = sum(1 for uid, frames in received.items() for nid, _ in frames if uid not in sent or nid != sent[uid][0])
    duplicated = sum(len(frames) - 1 for frames in received.values())
    from_start = [frames[0][1] - started for _, frames in right]
    from_commit = [frames[0][1] - sent[uid][1] for uid, frames in right]
    from_publish = [frames[0][1] - sent[uid][2] for uid, frames in right if sent[uid][2] is not None]
    published = sorted(publish - started for _, _, publish in sent.values() if publish is not None)
    return {
        "pushes_stored": len(sent),
        "pushers_finished": pushes_done,
        "seconds_to_store": round(max((r["stored"] for r in push_results), default=started) - started, 2),
        "seconds_to_publish": round(max((r["published"] for r in push_results), default=started) - started, 2),
        "stored_per_second": round(
            len(sent) / max(1e-9, max((r["stored"] for r in push_results), default=started) - started), 1
        ),
        "waited_s": round(waited, 1),
        "received": len(right),
        "expected": expected,
        "crashed_after_open": crashed,
        "lost": max(0, expected - len(right)),
        "duplicated": duplicated,
        "wrong": wrong,
        "latency_from_push_start_s": _latencies(from_start),
        "latency_from_commit_s": _latencies(from_commit),
        # Negative: the notification reached the client before its Redis publish (a feed check's catch-up read it).
        "latency_from_publish_s": _latencies(from_publish),
        "received_before_its_publish": sum(1 for latency in from_publish if latency < 0),
        "publishes_per_second": round(len(published) / max(1e-9, published[-1]), 1) if published else None,
        "last_received_s_after_start": round(max(from_start, default=float("nan")), 2),
    }


def _latencies(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.50), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values, default=float("nan")), 3),
    }


def warning_kinds(counted: dict[str, int]) -> dict[str, int]:
    """env.warnings_in's counts, the messages that differ only by a task's or a connection's repr as one."""
    merged: dict[str, int] = {}
    for message, count in counted.items():
        message = re.sub(r"<Task .*?>> for connection <WebSocketProtocol .*?>", "<Task …> for connection <…>", message)
        message = re.sub(r"\((the per-user connection caps[^:]*): (\w+): [^)]*\)", r"(\1: \2)", message)
        merged[message] = merged.get(message, 0) + count
    return dict(sorted(merged.items(), key=lambda item: -item[1]))


def findings(result: dict[str, Any]) -> list[str]:
    """What gave out first, read from the figures."""
    found = []
    if result["connections"] < result["connections_asked"]:
        found.append(
            f"descriptors: {result['connections_asked']:,} asked, {result['connections']:,} fit "
            f"({result['servers']} processes of at most {result['per_server_cap']:,} under a hard limit of "
            f"{result['open_files_hard_limit']:,})"
        )
    if result["not_connected"]:
        found.append(f"handshakes: {result['not_connected']:,} not connected: {result['handshake_failures']}")
    found.append(
        f"held: {result['peak_held_while_opening']:,} at the most while opening, {result['held_after_opening']:,} "
        f"once it was over, {result['held_at_the_push']:,} at the push, of {result['connections']:,} asked"
    )
    for segment in result["opening_by_quarter"]:
        found.append(
            "opening, {from_s:.0f}–{to_s:.0f} s (servers holding {held_from:,}–{held_to:,}): "
            "net {net_gained_per_s:+,.0f} a second, {server_cpu_ms_per_connection_gained} server CPU-ms per "
            "connection gained, servers {server_cpu_share:.0%} of the machine, machine {machine_busy:.0%} busy".format(
                **segment
            )
        )
    for phase, shares in result["cpu_shares"].items():
        if shares:
            found.append(
                f"CPU {phase} (shares of {CORES} cores): " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items())
            )
    found.append(
        f"CPU while holding: servers {result['server_cpu_share_while_holding']:.0%} of the machine "
        f"({result['server_cpu_ms_per_connection_per_minute']} CPU-ms per connection per minute), clients "
        f"{result['client_cpu_share_while_holding']:.0%}, Redis {result['redis_cpu_share_while_holding']:.0%}; "
        f"PostgreSQL {result['database_transactions_per_second_holding']:,.0f} transactions/s (feed, revocation checks)"
    )
    closes = result["closes_before_the_end"]
    if closes:
        found.append(f"closes before the end: {closes}")
    redis_open, held = result["redis_open"], max(1, result["held_after_opening"])
    found.append(
        f"Redis after the opening: {redis_open['used_memory_mib']} MiB, {redis_open['pubsub_channels']:,} pub/sub "
        f"channels ({redis_open['pubsub_channels'] / held:.1f} per connection held; 3 are its own: its groups "
        f"notifications.user.N and realtime.user.N and its channel), {redis_open['keys']:,} keys (a lease per "
        f"connection held)"
    )
    push = result["push"]
    found.append(
        f"push: {push['received']:,} of {push['expected']:,} received ({push['lost']:,} lost, {push['duplicated']} "
        f"duplicated, {push['wrong']} wrong) by {push['last_received_s_after_start']} s; stored in "
        f"{push['seconds_to_store']} s ({push['stored_per_second']:,.0f}/s), published in "
        f"{push['seconds_to_publish']} s ({push['publishes_per_second']}/s); {sum(push['live_sends_per_server']):,} "
        f"sent live from the Redis event, the rest after a feed check's catch-up read; latency from the push's start "
        f"p50 {push['latency_from_push_start_s']['p50']} s, p99 {push['latency_from_push_start_s']['p99']} s"
    )
    if any(result["server_exceptions"]):
        found.append(f"server exceptions: {result['server_exceptions']}")
    for message, count in list(result["server_warnings"].items())[:5]:
        found.append(f"server warning, {count:,} times: {message[:200]}")
    return found


def finish_time(text: str) -> float:
    """HH:MM (UTC), today or, once past, tomorrow: seconds since the epoch."""
    now = datetime.now(UTC)
    hour, minute = (int(part) for part in text.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (at if at > now else at + timedelta(days=1)).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=100_000)
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--push", choices=["bulk", "notify_user"], default="bulk")
    parser.add_argument("--pushers", type=int, default=None, help="push processes (default: 1 for bulk, 2 otherwise)")
    parser.add_argument(
        "--open-timeout", type=float, default=3600, help="seconds the opening may take; then what is open is held"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a server setting from the environment (README, Settings), e.g. HEARTBEAT_INTERVAL=60; repeatable",
    )
    parser.add_argument(
        "--finish-by", metavar="HH:MM", help="UTC time by which the run must end: the hold is shortened to fit"
    )
    parser.add_argument("--quick", action="store_true", help="2,000 connections over 2 servers, 1 minute")
    parser.add_argument(
        "--out", type=Path, default=None, help="default: bench/out/c100k.json (--quick: c100k-quick.json)"
    )
    parser.add_argument("--push-worker", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.push_worker:
        push_worker(arguments.push_worker)
        return
    if arguments.quick:
        for key, value in QUICK.items():
            setattr(arguments, key, value)
    pushers = arguments.pushers or (1 if arguments.push == "bulk" else 2)
    out = arguments.out or OUT / ("c100k-quick.json" if arguments.quick else "c100k.json")
    result = c100k(
        arguments.connections,
        arguments.servers,
        arguments.minutes,
        arguments.push,
        pushers,
        open_timeout=arguments.open_timeout,
        extra_env=dict(setting.split("=", 1) for setting in arguments.set),
        finish_by=finish_time(arguments.finish_by) if arguments.finish_by else None,
        partial=out.with_suffix(".partial.json"),
    )
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    summary = {
        k: v for k, v in result.items() if k not in ("timeline", "rss_mib_samples_hold", "opening_rate_every_5s")
    }
    print(json.dumps(summary, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
