"""
Server-Sent Events against WebSockets (issue 24), in one run, read as ratios (SSE ÷ `/ws/`).

    python -m bench.sse                      # the four measurements, 2 rounds each (make bench-sse)
    python -m bench.sse --quick              # small sizes, one round: does it run?
    python -m bench.sse --only fanout --rounds 3
    python -m bench.sse --only cpu --profile /tmp/sse-profile    # where a delivery's CPU goes

memory: N users (each its own user and token) following their notifications and
one post (the same post for all) on one daphne process (PostgreSQL, the in-memory
layer, as bench.topics' memory), held idle past one heartbeat: once as N SSE
streams (`GET /realtime/sse?topic=notifications&topic=comments:<post_id>`, bearer
token; open once both topics are `subscribed`), once as N `/ws/` connections
subscribed to the same two topics (bench.clients.crowd, which answers the
heartbeat pings); a fresh process for each, in turn, ROUNDS times. KiB per
connection: the growth of the server's resident memory divided by the
connections it holds (its new descriptors).

fanout: W watchers of one post over two daphne processes on PostgreSQL and
Redis (the project's pub/sub layer, on a channel prefix of the bench's own),
half of them on SSE streams following `comments:<post_id>`, half on `/ws/`
subscribed to it, each half split over both processes and two client processes,
all opening at once; one writer on `/ws/live-comments/<post_id>` (process 0)
posts C comments, one every 200 ms. Latency from the writer's send to each
watcher's receipt, per transport (p50, p99, max); deliveries counted (every
watcher must get every comment once). Goal: SSE p99 ≤ 1.5 × `/ws/` p99.

rtt: a client message to its answer on the connection, one at a time per
connection, with 1 and with 20 connections (two client processes), on the
two-process setup of the fan-out: `{"type": "ping"}` to its `pong`, and a
`new_comment` to its `comment_created` (a row written; every connection follows
the post, so each comment also reaches the others). On `/ws/`: sent on the
socket (process 0). On SSE: POSTed to `/realtime/sse/<stream>` over a
keep-alive connection, the answer read on the stream (process 0); the POST
either to the stream's own process or to the other one (the channel layer
carries it across). Median and p99, the POST's own 202, and the two servers'
CPU (user + system) over each case divided by its round trips.

cpu: what a delivery costs the server, each transport alone: half the
fan-out's watchers, all on SSE streams, then all on `/ws/`, on one daphne
process (PostgreSQL, Redis), the writer on the same process; the process's
CPU from the writer's first comment until every watcher has every comment,
divided by the deliveries. With --profile DIR, one more run of each under
cProfile (stats in DIR): own time per delivery by package and by function.

Results: bench/out/sse.json (with --only: sse-<only>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.stats import percentile

OUT = Path(__file__).resolve().parent / "out"
SETTLE_SECONDS = 2.0  # after a server starts, before its memory is read
CLIENT_PROCESSES = 2  # per transport
# The project's pub/sub layer on a channel prefix of the bench's own: other sites on this Redis (another
# checkout's tests) publish to the same groups otherwise (bench/settings/prefixed.py).
REDIS_PREFIX = "realtime-bench-sse"
GOAL = 1.5  # SSE p99 ÷ /ws/ p99, at most
TRANSPORTS = ("sse", "ws")


@dataclass(frozen=True)
class Sizes:
    users: int  # idle connections of each transport (memory)
    hold: float  # seconds they are held: past one heartbeat
    heartbeat: float | None  # HEARTBEAT_INTERVAL and HEARTBEAT_TIMEOUT; None: the server's defaults (30 s, 10 s)
    watchers: int  # of the fan-out, both transports together
    comments: int
    interval: float
    rtt_connections: tuple[int, ...]
    rtt_messages: int  # per connection
    rtt_warmup: int


FULL = Sizes(2000, 35.0, None, 1000, 50, 0.2, (1, 20), 100, 10)
QUICK = Sizes(200, 5.0, 2.0, 100, 10, 0.2, (1, 4), 20, 3)


def sse_path(topics: list[str]) -> str:
    return "/realtime/sse?" + "&".join(f"topic={quote(topic, safe=':')}" for topic in topics)


def start_streams(
    work: Path,
    streams: list[tuple[int, str, str]],
    *,
    name: str,
    processes: int,
    topics: int,
    record_types: list[str],
    deadline: float,
    expect: int | None = None,
    concurrency: int = crowds.HANDSHAKES_IN_FLIGHT,
    ready_timeout: float = 600,
) -> crowds.Crowds:
    """
    SSE streams (port, path, bearer token), dealt round-robin over `processes` client processes
    (bench/clients/sse_crowd.py), waited for until each is open (its `topics` subscribed) or has failed.
    """
    shares = [streams[n::processes] for n in range(processes)]
    crowd = crowds.Crowds(work, name, [[path for _, path, _ in share] for share in shares], [])
    for n, share in enumerate(shares):
        config = {
            "host": "127.0.0.1",
            "streams": share,
            "topics": topics,
            "concurrency": concurrency,
            "ready_file": str(work / f"{name}-{n}.ready"),
            "deadline": deadline,
            "record_types": record_types,
            "expect": expect,
            "result": str(work / f"{name}-{n}-result.json"),
        }
        crowd.processes.append(env.spawn_client("bench.clients.sse_crowd", config, work, f"{name}-{n}"))
    env.wait_for_files([work / f"{name}-{n}.ready" for n in range(processes)], ready_timeout, crowd.processes)
    return crowd


def _load() -> float:
    return round(os.getloadavg()[0], 2)


# --- memory ----------------------------------------------------------------------------------


def memory(sizes: Sizes, rounds: int) -> dict[str, Any]:
    """KiB per idle connection following notifications and one post: SSE streams, then `/ws/`, each round."""
    seed = env.fresh_database(users=sizes.users)
    topics = ["notifications", f"comments:{seed.post_ids[0]}"]
    seconds = str(sizes.heartbeat)
    heartbeat = {} if sizes.heartbeat is None else {"HEARTBEAT_INTERVAL": seconds, "HEARTBEAT_TIMEOUT": seconds}
    runs: dict[str, list[dict[str, Any]]] = {transport: [] for transport in TRANSPORTS}
    for _ in range(rounds):
        for transport in TRANSPORTS:
            runs[transport].append(_idle(transport, seed.tokens, topics, sizes, heartbeat))
            print(f"memory {transport}: {runs[transport][-1]['kib_per_connection']:.1f} KiB", flush=True)
    ratios = [s["kib_per_connection"] / w["kib_per_connection"] for s, w in zip(runs["sse"], runs["ws"], strict=True)]
    return {
        "users": sizes.users,
        "topics": topics,
        "runs": runs,
        "kib_per_connection": {t: statistics.median(r["kib_per_connection"] for r in runs[t]) for t in TRANSPORTS},
        "ratio_sse_to_ws": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
    }


def _idle(
    transport: str, tokens: list[str], topics: list[str], sizes: Sizes, heartbeat: dict[str, str]
) -> dict[str, Any]:
    with env.workdir() as work:
        server = servers.daphne(f"daphne-{transport}", env.server_env(redis=False, **heartbeat), work)
        try:
            time.sleep(SETTLE_SECONDS)
            before, descriptors_before, load = server.rss_kib(), server.open_descriptors(), _load()
            deadline = sizes.hold + 900
            if transport == "sse":
                streams = [(server.port, sse_path(topics), token) for token in tokens]
                crowd = start_streams(
                    work, streams, name="idle", processes=4, topics=len(topics), record_types=[], deadline=deadline
                )
            else:
                urls = [f"{server.ws_url}/ws/?token={token}" for token in tokens]
                crowd = crowds.start(
                    work, urls, name="idle", processes=4, record_types=[], deadline=deadline, subscribe=topics
                )
            time.sleep(sizes.hold)
            after, held = server.rss_kib(), server.open_descriptors() - descriptors_before
            crowd.stop_when_done(grace=0)
            results = crowd.results()
            exceptions = env.exceptions_in(server.log_path)
            warnings = env.warnings_in([server.log_path.read_text(errors="replace")])
        finally:
            server.stop()
    return {
        "kib_per_connection": round((after - before) / max(held, 1), 2),
        "opened": sum(r["connected"] for r in results),
        "held": held,
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "closed_by_server": crowds.merge_counts(r["closes"] for r in results),
        "heartbeats": sum(r["pongs"] for r in results),
        "rss_mib": [round(before / 1024, 1), round(after / 1024, 1)],
        "server_exceptions": exceptions,
        "server_warnings": warnings,
        "load_average_at_start": load,
    }


# --- fan-out ---------------------------------------------------------------------------------


def fanout(sizes: Sizes, rounds: int) -> dict[str, Any]:
    """The fan-out with half the watchers on SSE and half on `/ws/`, in the same run, `rounds` times."""
    runs = [_fanout_once(sizes) for _ in range(rounds)]
    for run in runs:
        print(
            "fanout: "
            + ", ".join(f"{t} p99 {run[t]['latency_ms']['p99']:.1f} ms, lost {run[t]['lost']}" for t in TRANSPORTS),
            flush=True,
        )
    ratios = {
        quantile: [run["sse"]["latency_ms"][quantile] / run["ws"]["latency_ms"][quantile] for run in runs]
        for quantile in ("p50", "p99", "max")
    }
    p99 = statistics.median(ratios["p99"])
    lost = sum(run[t]["lost"] + run[t]["duplicates"] for run in runs for t in TRANSPORTS)
    return {
        "runs": runs,
        "ratios_sse_to_ws": {quantile: [round(r, 3) for r in values] for quantile, values in ratios.items()},
        "goal": {
            "sse_p99_over_ws_p99_at_most": GOAL,
            "median_ratio": round(p99, 3),
            "met": p99 <= GOAL and lost == 0,
            "lost_or_twice": lost,
        },
    }


def _servers_env() -> dict[str, str]:
    return env.server_env(REDIS_PREFIX=REDIS_PREFIX)


def write_comments(url: str, sizes: Sizes, work: Path) -> None:
    """One writer on `url` posting `sizes.comments` comments, one every `sizes.interval`, to the end."""
    writer = env.spawn_client(
        "bench.clients.writer",
        {"url": url, "count": sizes.comments, "interval": sizes.interval, "result": str(work / "writer-result.json")},
        work,
        "writer",
    )
    writer.wait(timeout=300)


def _fanout_once(sizes: Sizes) -> dict[str, Any]:
    seed = env.fresh_database(users=sizes.watchers + 1)
    tokens, post = seed.tokens, seed.post_ids[0]
    topic = f"comments:{post}"
    with env.workdir() as work:
        pair = [servers.daphne(f"daphne-{n}", _servers_env(), work) for n in range(2)]
        try:
            watchers = tokens[1:]
            # Even watchers on SSE, odd on /ws/; each transport's share alternates over the two processes.
            sse = [
                (pair[(n // 2) % 2].port, sse_path([topic]), token) for n, token in enumerate(watchers) if n % 2 == 0
            ]
            ws = [f"{pair[(n // 2) % 2].ws_url}/ws/?token={token}" for n, token in enumerate(watchers) if n % 2]
            load = _load()
            with ThreadPoolExecutor(2) as opening:  # both crowds join at once: neither is first in the groups
                ws_started = opening.submit(
                    crowds.start, work, ws, name="ws", processes=CLIENT_PROCESSES, record_types=["comment"],
                    deadline=300, expect=sizes.comments, subscribe=[topic],
                )  # fmt: skip
                sse_started = opening.submit(
                    start_streams, work, sse, name="sse", processes=CLIENT_PROCESSES, topics=1,
                    record_types=["comment"], deadline=300, expect=sizes.comments,
                )  # fmt: skip
                crowd = {"ws": ws_started.result(), "sse": sse_started.result()}
            cpu_before = [server.cpu_seconds() for server in pair]
            with env.ConnectionSampler() as sampler:
                write_comments(f"{pair[0].ws_url}/ws/live-comments/{post}?token={tokens[0]}", sizes, work)
                for each in crowd.values():
                    each.stop_when_done(grace=30)
            cpu = [round(server.cpu_seconds() - before, 2) for server, before in zip(pair, cpu_before, strict=True)]
            written = json.loads((work / "writer-result.json").read_text())
            results = {transport: each.results() for transport, each in crowd.items()}
            logs = [server.log_path.read_text(errors="replace") for server in pair]
            exceptions = sum(env.exceptions_in(server.log_path) for server in pair)
        finally:
            for server in pair:
                server.stop()
    sent_at = {comment_id: sent for _, comment_id, sent, _ in written["acks"]}
    measured: dict[str, Any] = {
        "watchers": sizes.watchers,
        "comments_acked": len(written["acks"]),
        "writer_errors": len(written["errors"]),
        "server_cpu_seconds_while_writing": cpu,
        "server_exceptions": exceptions,
        "server_warnings": env.warnings_in(logs),
        "peak_db_connections": sampler.peak,
        "load_average_at_start": load,
    }
    for transport, watched in (("sse", len(sse)), ("ws", len(ws))):
        frames = [(p, n, cid, at) for p, r in enumerate(results[transport]) for n, cid, at in r["frames"]]
        latencies = [at - sent_at[cid] for _, _, cid, at in frames if cid in sent_at]
        delivered = {(p, n, cid) for p, n, cid, _ in frames}
        expected = watched * len(written["acks"])
        measured[transport] = {
            "watchers": watched,
            "connected": sum(r["connected"] for r in results[transport]),
            "handshake_failures": crowds.merge_counts(r["failures"] for r in results[transport]),
            "closes": crowds.merge_counts(r["closes"] for r in results[transport]),
            "deliveries_expected": expected,
            "deliveries": len(delivered),
            "lost": expected - len(delivered),
            "duplicates": len(frames) - len(delivered),
            "latency_ms": {
                "p50": round(1000 * percentile(latencies, 0.50), 2),
                "p90": round(1000 * percentile(latencies, 0.90), 2),
                "p99": round(1000 * percentile(latencies, 0.99), 2),
                "max": round(1000 * max(latencies, default=float("nan")), 2),
            },
        }
    return measured


# --- round trips -----------------------------------------------------------------------------

PING = ({"type": "ping"}, "pong")


def _new_comment(topic: str) -> tuple[dict[str, Any], str]:
    return {"type": "new_comment", "topic": topic, "body": "a round trip", "client_id": "rtt-{n}"}, "comment_created"


# case -> (transport, the POSTs' process: 0 the stream's own, 1 the other)
RTT_CASES = {"ws": ("ws", 0), "sse, POST to its process": ("sse", 0), "sse, POST to the other": ("sse", 1)}


def rtt(sizes: Sizes, rounds: int) -> dict[str, Any]:
    """Round trips of a ping and of a new_comment, over `/ws/` and over SSE (POSTs to either process)."""
    most = max(sizes.rtt_connections)
    seed = env.fresh_database(users=most * len(RTT_CASES))
    topic = f"comments:{seed.post_ids[0]}"
    messages = {"ping": PING, "new_comment": _new_comment(topic)}
    samples: dict[str, dict[str, Any]] = {}
    with env.workdir() as work:
        pair = [servers.daphne(f"daphne-{n}", _servers_env(), work) for n in range(2)]
        try:
            time.sleep(SETTLE_SECONDS)
            for round_number in range(rounds):
                for message_name, (message, answer) in messages.items():
                    for connections in sizes.rtt_connections:
                        for case_number, (case, (transport, post_to)) in enumerate(RTT_CASES.items()):
                            # Each case its own users: a user's connections are capped, and a stream is its user's.
                            tokens = seed.tokens[case_number * most : case_number * most + connections]
                            key = f"{message_name}, {connections} connection(s), {case}"
                            cpu_before = sum(server.cpu_seconds() for server in pair)
                            results = _round_trips(
                                work, pair, transport, post_to, tokens, topic, message, answer, sizes,
                                f"rtt-{round_number}-{message_name}-{connections}-{case_number}",
                            )  # fmt: skip
                            cpu_seconds = sum(server.cpu_seconds() for server in pair) - cpu_before
                            into = samples.setdefault(
                                key, {"latencies": [], "posts": [], "statuses": [], "load": [], "cpu": [], "clock": []}
                            )
                            into["cpu"].append(cpu_seconds)
                            into["clock"].append(_elapsed(results))
                            into["latencies"] += [x for r in results for x in r["latencies"]]
                            into["posts"] += [x for r in results for x in r["posts"]]
                            into["statuses"] += [r["statuses"] for r in results]
                            into["load"].append(_load())
            exceptions = sum(env.exceptions_in(server.log_path) for server in pair)
            logs = [server.log_path.read_text(errors="replace") for server in pair]
        finally:
            for server in pair:
                server.stop()
    cases: dict[str, Any] = {}
    for key, sample in samples.items():
        cases[key] = {
            "round_trips": len(sample["latencies"]),
            "median_ms": round(1000 * statistics.median(sample["latencies"]), 3),
            "p99_ms": round(1000 * percentile(sample["latencies"], 0.99), 3),
            "post_202_median_ms": round(1000 * statistics.median(sample["posts"]), 3) if sample["posts"] else None,
            "post_202_p99_ms": round(1000 * percentile(sample["posts"], 0.99), 3) if sample["posts"] else None,
            "statuses": crowds.merge_counts(sample["statuses"]),
            # the two servers' CPU over the case (its warm-up and connections too), per measured round trip
            "server_cpu_ms_per_round_trip": round(1000 * sum(sample["cpu"]) / len(sample["latencies"]), 3),
            "round_trips_per_second": round(len(sample["latencies"]) / sum(sample["clock"]), 1),
            "load_average": sample["load"],
        }
    ratios: dict[str, Any] = {}
    for message_name in messages:
        for connections in sizes.rtt_connections:
            ws = cases[f"{message_name}, {connections} connection(s), ws"]
            for case in list(RTT_CASES)[1:]:
                sse = cases[f"{message_name}, {connections} connection(s), {case}"]
                ratios[f"{message_name}, {connections} connection(s), {case}"] = {
                    "median": round(sse["median_ms"] / ws["median_ms"], 2),
                    "p99": round(sse["p99_ms"] / ws["p99_ms"], 2),
                }
    return {
        "cases": cases,
        "ratios_sse_to_ws": ratios,
        "server_exceptions": exceptions,
        "server_warnings": env.warnings_in(logs),
    }


def _elapsed(results: list[dict[str, Any]]) -> float:
    """From the first client's start to the last one's finish."""
    return float(max(r["finished"] for r in results) - min(r["started"] for r in results))


def _round_trips(
    work: Path,
    pair: list[servers.Server],
    transport: str,
    post_to: int,
    tokens: list[str],
    topic: str,
    message: dict[str, Any],
    answer: str,
    sizes: Sizes,
    name: str,
) -> list[dict[str, Any]]:
    """`tokens`' connections over `transport`, split over two client processes, started together."""
    shares = [share for share in (tokens[n::CLIENT_PROCESSES] for n in range(CLIENT_PROCESSES)) if share]
    configs: list[dict[str, Any]] = [
        {
            "transport": transport,
            "host": "127.0.0.1",
            "port": pair[0].port,
            "post_port": pair[post_to].port,
            "tokens": share,
            "topics": [topic],
            "message": message,
            "answer": answer,
            "warmup": sizes.rtt_warmup,
            "messages": sizes.rtt_messages,
            "name": f"{name}-{n}",
            "ready_file": str(work / f"{name}-{n}.ready"),
            "result": str(work / f"{name}-{n}-result.json"),
        }
        for n, share in enumerate(shares)
    ]
    processes = [env.spawn_client("bench.clients.pingpong", c, work, f"{name}-{n}") for n, c in enumerate(configs)]
    env.wait_for_files([Path(c["ready_file"]) for c in configs], 300, processes)
    for process in processes:
        process.send_signal(signal.SIGUSR1)
    for process in processes:
        if process.wait(timeout=600) != 0:
            raise RuntimeError(f"bench.clients.pingpong exited with {process.returncode}; see {work}")
    return [json.loads(Path(c["result"]).read_text()) for c in configs]


# --- what a delivery costs the server ----------------------------------------------------------

# Where the profile's own time goes, by the first of these found in a function's file name (else its file).
PACKAGES = (
    "realtime/", "daphne/", "twisted/", "autobahn/", "txaio/", "channels_redis/", "channels/", "django/",
    "asgiref/", "redis/", "psycopg/", "json/", "asyncio/",
)  # fmt: skip
PROFILE_TOP = 30  # functions listed by own time


def cpu(sizes: Sizes, rounds: int, profile: Path | None = None) -> dict[str, Any]:
    """
    The server's CPU per delivery, each transport alone: half the fan-out's watchers, all on SSE streams, then all on
    `/ws/`, on one daphne process (PostgreSQL, Redis), the writer on the same process; user + system seconds
    of the process from the writer's start until every watcher has every comment, divided by the deliveries.
    With `profile` (a directory), one more run of each under cProfile: own time by package and the top functions,
    per delivery.
    """
    runs: dict[str, list[dict[str, Any]]] = {transport: [] for transport in TRANSPORTS}
    for _ in range(rounds):
        for transport in TRANSPORTS:
            runs[transport].append(_deliveries(sizes, transport, None))
            print(f"cpu {transport}: {runs[transport][-1]['cpu_us_per_delivery']:.0f} µs per delivery", flush=True)
    measured: dict[str, Any] = {
        "watchers": sizes.watchers // 2,
        "runs": runs,
        "cpu_us_per_delivery": {
            transport: statistics.median(run["cpu_us_per_delivery"] for run in runs[transport])
            for transport in TRANSPORTS
        },
    }
    per = measured["cpu_us_per_delivery"]
    measured["ratio_sse_to_ws"] = round(per["sse"] / per["ws"], 3)
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        measured["profiles"] = {transport: _deliveries(sizes, transport, profile) for transport in TRANSPORTS}
    return measured


def _daphne(name: str, environment: dict[str, str], work: Path, profile: Path | None) -> servers.Server:
    """daphne as bench.support.servers starts it; with `profile`, under cProfile, its stats written there at exit."""
    if profile is None:
        return servers.daphne(name, environment, work)
    port = servers.free_port()
    endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=4096"
    command = [
        sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "daphne", "-e", endpoint,
        "--access-log", os.devnull, "project.asgi:application",
    ]  # fmt: skip
    return servers.start(name, command, port, environment, work)


def _deliveries(sizes: Sizes, transport: str, profile: Path | None) -> dict[str, Any]:
    watchers = sizes.watchers // 2
    seed = env.fresh_database(users=watchers + 1)
    tokens, post = seed.tokens, seed.post_ids[0]
    topic = f"comments:{post}"
    stats = profile / f"daphne-{transport}.prof" if profile is not None else None
    with env.workdir() as work:
        server = _daphne(f"daphne-{transport}", _servers_env(), work, stats)
        try:
            if transport == "sse":
                streams = [(server.port, sse_path([topic]), token) for token in tokens[1:]]
                crowd = start_streams(
                    work, streams, name="sse", processes=CLIENT_PROCESSES, topics=1, record_types=["comment"],
                    deadline=300, expect=sizes.comments,
                )  # fmt: skip
            else:
                urls = [f"{server.ws_url}/ws/?token={token}" for token in tokens[1:]]
                crowd = crowds.start(
                    work, urls, name="ws", processes=CLIENT_PROCESSES, record_types=["comment"], deadline=300,
                    expect=sizes.comments, subscribe=[topic],
                )  # fmt: skip
            time.sleep(SETTLE_SECONDS)  # the joins' presence announcements are over
            load, before = _load(), server.cpu_seconds()
            write_comments(f"{server.ws_url}/ws/live-comments/{post}?token={tokens[0]}", sizes, work)
            crowd.stop_when_done(grace=30)
            seconds = server.cpu_seconds() - before
            written = json.loads((work / "writer-result.json").read_text())
            results = crowd.results()
            exceptions = env.exceptions_in(server.log_path)
        finally:
            server.stop()
    sent_at = {comment_id: sent for _, comment_id, sent, _ in written["acks"]}
    frames = [(p, n, cid, at) for p, r in enumerate(results) for n, cid, at in r["frames"]]
    latencies = [at - sent_at[cid] for _, _, cid, at in frames if cid in sent_at]
    delivered = len({(p, n, cid) for p, n, cid, _ in frames})
    measured: dict[str, Any] = {
        "connected": sum(r["connected"] for r in results),
        "deliveries": delivered,
        "deliveries_expected": watchers * len(written["acks"]),
        "cpu_seconds": round(seconds, 3),
        "cpu_us_per_delivery": round(1e6 * seconds / max(delivered, 1), 1),
        "latency_ms": {
            "p50": round(1000 * percentile(latencies, 0.50), 2),
            "p99": round(1000 * percentile(latencies, 0.99), 2),
        },
        "server_exceptions": exceptions,
        "load_average_at_start": load,
        "profiled": stats is not None,
    }
    if stats is not None:
        measured["profile"] = _profile_summary(stats, delivered)
    return measured


def _profile_summary(path: Path, deliveries: int) -> dict[str, Any]:
    """Own time per delivery (µs) by package and by function, from cProfile's stats (the whole run)."""
    import pstats

    # Stats.stats (not in typeshed): (file, line, function) -> (primitive calls, calls, own, cumulative, callers)
    loaded: Any = pstats.Stats(str(path))
    table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = loaded.stats
    by_package: dict[str, float] = {}
    functions: list[tuple[float, int, str]] = []
    for (filename, line, function), (_, calls, own, _, _) in table.items():
        package = next((name.rstrip("/") for name in PACKAGES if f"/{name}" in filename), None)
        if package is None:
            package = Path(filename).name if filename.startswith(("/", "<")) else filename
        by_package[package] = by_package.get(package, 0.0) + own
        functions.append((own, calls, f"{_short(filename)}:{line}({function})"))
    total = sum(by_package.values())
    per = 1e6 / max(deliveries, 1)
    return {
        "stats": str(path),
        "total_own_s": round(total, 3),
        "us_per_delivery_by_package": {
            name: round(seconds * per, 1) for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:20]
        },
        "top_functions": [
            {"function": name, "calls": calls, "own_us_per_delivery": round(own * per, 2)}
            for own, calls, name in sorted(functions, reverse=True)[:PROFILE_TOP]
        ],
    }


def _short(filename: str) -> str:
    for marker in ("site-packages/", "python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename.removeprefix(str(servers.ROOT) + "/")


# --- the report ------------------------------------------------------------------------------

MEASUREMENTS: dict[str, Callable[[Sizes, int], dict[str, Any]]] = {
    "memory": memory,
    "fanout": fanout,
    "rtt": rtt,
    "cpu": cpu,
}


def summary(report: dict[str, Any]) -> str:
    lines = []
    if "memory" in report:
        measured = report["memory"]
        kib = measured["kib_per_connection"]
        lines.append(
            f"memory: SSE {kib['sse']:.1f} KiB, /ws/ {kib['ws']:.1f} KiB per idle connection "
            f"(SSE ÷ /ws/ {measured['ratio_sse_to_ws']:.2f}×)"
        )
    if "fanout" in report:
        for number, run in enumerate(report["fanout"]["runs"], 1):
            for transport in TRANSPORTS:
                figures = run[transport]
                latency = figures["latency_ms"]
                lines.append(
                    f"fanout {number} {transport}: {figures['deliveries']:,}/{figures['deliveries_expected']:,} "
                    f"delivered, lost {figures['lost']}, p50 {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, "
                    f"max {latency['max']:.1f} ms"
                )
        goal = report["fanout"]["goal"]
        lines.append(
            f"fanout goal SSE p99 ≤ {GOAL} × /ws/ p99: {goal['median_ratio']:.2f}× "
            f"({'met' if goal['met'] else 'missed'})"
        )
    if "rtt" in report:
        for key, case in report["rtt"]["cases"].items():
            post = f", POST 202 median {case['post_202_median_ms']:.2f} ms" if case["post_202_median_ms"] else ""
            lines.append(
                f"rtt {key}: median {case['median_ms']:.2f} ms, p99 {case['p99_ms']:.2f} ms{post}, "
                f"server CPU {case['server_cpu_ms_per_round_trip']:.2f} ms per round trip"
            )
        for key, ratio in report["rtt"]["ratios_sse_to_ws"].items():
            lines.append(f"rtt ratio {key} ÷ ws: median {ratio['median']:.2f}×, p99 {ratio['p99']:.2f}×")
    if "cpu" in report:
        measured = report["cpu"]
        per = measured["cpu_us_per_delivery"]
        lines.append(
            f"cpu per delivery, {measured['watchers']:,} watchers on one process: SSE {per['sse']:.0f} µs, "
            f"/ws/ {per['ws']:.0f} µs (SSE ÷ /ws/ {measured['ratio_sse_to_ws']:.2f}×)"
        )
        for transport, run in measured.get("profiles", {}).items():
            packages = ", ".join(
                f"{k} {v:.0f}" for k, v in list(run["profile"]["us_per_delivery_by_package"].items())[:8]
            )
            lines.append(f"profile {transport} (µs per delivery, own time): {packages}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and one round, to check that it runs")
    parser.add_argument("--only", choices=sorted(MEASUREMENTS), help="one of the measurements")
    parser.add_argument("--profile", type=Path, help="cpu: one more run of each transport under cProfile, stats here")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each measurement (default 2)")
    parser.add_argument("--users", type=int, help="idle connections of each transport (default 2,000)")
    parser.add_argument("--watchers", type=int, help="watchers of the fan-out, both transports (default 1,000)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.users is not None:
        sizes = replace(sizes, users=args.users)
    if args.watchers is not None:
        sizes = replace(sizes, watchers=args.watchers)
    rounds = 1 if args.quick else args.rounds
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "quick": args.quick, "rounds": rounds}
    report["sizes"] = asdict(sizes)
    started = time.monotonic()
    path = OUT / (f"sse-{args.only}.json" if args.only else "sse.json")
    measurements: dict[str, Callable[[Sizes, int], dict[str, Any]]] = {
        **MEASUREMENTS,
        "cpu": partial(cpu, profile=args.profile),
    }
    for name, measure in measurements.items():
        if args.only in (None, name):
            report[name] = measure(sizes, rounds)
            report["seconds"] = round(time.monotonic() - started)
            path.write_text(json.dumps(report, indent=1))  # what is measured so far, should a later part fail
    print(summary(report))
    print(f"wrote {path} in {report['seconds']} s")


if __name__ == "__main__":
    main()
