"""
Performance: the same load against several servers in one run, read as ratios.

    python -m bench.perf                 # everything, 3 rounds (make bench)
    python -m bench.perf --quick         # small sizes, 1 round: a smoke run
    python -m bench.perf --only rtt,memory --rounds 5
    python -m bench.perf --only fanout,hold   # scenarios that run once

Scenarios run in rounds: rtt, handshakes, writes, pushes, memory. Scenarios
run once, after them (long, or themselves several measurements): fanout (1,000
and 10,000 watchers over two daphne processes, bench/scaleout.py), topics_memory
(a user on one /ws/ socket against two per-feed sockets, bench/topics.py),
breakdown (where an idle connection's memory goes, bench/memory.py) and hold
(20,000 idle connections on one process for ten minutes, bench/hold.py).

Servers: A, this project on daphne; B, the naive port a Channels user would
write (bench/anchors/naive) on daphne; C, the seed's FastAPI endpoints exactly as
the seed writes them (bench/anchors/seed_fastapi.py) on uvicorn; D, this project
on uvicorn as the README says to run it; H, this project on hypercorn, and G on
granian, each by its plain command (PROTOCOL.md, "On every ASGI server"). The
fan-out runs once per server too (servers_fanout). Every round starts each server afresh and runs the servers in turn,
so that the machine's drift spreads over all of them; figures are the median,
min and max over rounds. Results: bench/out/perf.json, then RESULTS.md and
bench/rtt-latency.png (python -m bench.report).
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import hold as holding
from bench import scaleout, topics
from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.stats import percentile

OUT = Path(__file__).resolve().parent / "out"
QUANTILES = [n / 200 for n in range(1, 200)]
SQLITE_FILE = "/tmp/realtime-bench.sqlite3"
# README, "Servers": the library's message limit (the bound holds without it, cheaper with it), and no
# per-message compression (memory and CPU per connection and frame).
UVICORN_AS_DOCUMENTED = ("--ws-max-size", "65536", "--ws-per-message-deflate", "false")
# The project on each server of "On every ASGI server", in the scenarios they all run.
PROJECT_SERVERS = ("A", "D", "H", "G")
KINDS = {"A": "daphne", "D": "uvicorn", "H": "hypercorn", "G": "granian"}


@dataclass(frozen=True)
class Sizes:
    rtt_messages: dict[int, int]  # connections -> messages per connection
    handshakes: int
    writers: int
    comments_per_writer: int
    push_users: int
    push_rounds: int
    idle_connections: int
    idle_hold: float
    # Run once: watchers -> (comments, seconds between comments); breakdown's (base, connections); hold's.
    fanouts: dict[int, tuple[int, float]]
    topics: str  # bench/topics.py's sizes: "full" or "quick"
    breakdown: tuple[int, int]
    hold_connections: int
    hold_minutes: float


# 10,000 watchers get a comment a second (10,000 deliveries a second over the two processes), 1,000 five.
FULL = Sizes(
    {20: 1000, 200: 100}, 2000, 50, 20, 1000, 10, 10_000, 35.0,
    {1000: (50, 0.2), 10_000: (20, 1.0)}, "full", (200, 600), 20_000, 10.0,
)  # fmt: skip
QUICK = Sizes(
    {20: 200, 200: 20}, 300, 10, 5, 200, 3, 1000, 3.0,
    {200: (10, 0.2), 1000: (5, 1.0)}, "quick", (50, 150), 1000, 1.5,
)  # fmt: skip


def start_server(name: str, work: Path, environment: dict[str, str]) -> servers.Server:
    if name == "A":
        return servers.daphne("A", environment, work)
    if name == "B":
        naive = {**environment, "DJANGO_SETTINGS_MODULE": "bench.settings.naive"}
        return servers.daphne("B", naive, work, app="bench.anchors.naive.asgi:application")
    if name == "C":
        return servers.uvicorn("C", environment, work, app="bench.anchors.seed_fastapi:app")
    if name == "D":  # as the README says to run the project on uvicorn; C as the seed runs it (the defaults)
        return servers.uvicorn("D", environment, work, app="project.asgi:application", options=UVICORN_AS_DOCUMENTED)
    if name == "H":
        return servers.hypercorn("H", environment, work)
    if name == "G":
        return servers.granian("G", environment, work)
    if name == "P":  # plain daphne: an application that only accepts (the floor of memory per connection)
        return servers.daphne("P", environment, work, app="bench.anchors.idle:application")
    raise ValueError(name)


_runs = itertools.count()


def run_clients(module: str, configs: list[dict[str, Any]], work: Path, name: str) -> list[dict[str, Any]]:
    """Start client processes, wait until all are ready, start them together, return their results."""
    processes = []
    name = f"{name}-{next(_runs)}"
    for n, config in enumerate(configs):
        files = {"ready_file": str(work / f"{name}-{n}.ready"), "result": str(work / f"{name}-{n}-result.json")}
        config = {**config, **files}
        configs[n] = config
        processes.append(env.spawn_client(module, config, work, f"{name}-{n}"))
    env.wait_for_files([Path(c["ready_file"]) for c in configs], timeout=300, processes=processes)
    for process in processes:
        process.send_signal(signal.SIGUSR1)
    for process in processes:
        if process.wait(timeout=600) != 0:
            raise RuntimeError(f"{module} exited with {process.returncode}; see {work}")
    return [json.loads(Path(c["result"]).read_text()) for c in configs]


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[n::parts] for n in range(parts)]


# --- Scenarios ----------------------------------------------------------------------


def rtt(sizes: Sizes, work: Path) -> dict[str, Any]:
    """Echo and JSON round trips per second, 20 and 200 connections, on every server (no database work)."""
    measured: dict[str, Any] = {}
    for name in ("A", "B", "C", "D", "H", "G"):
        server = start_server(name, work, env.server_env(f"sqlite:///{SQLITE_FILE}", redis=False))
        try:
            run_clients("bench.clients.roundtrip", _rtt_configs(server, "echo", 20, 100), work, "warmup")
            for kind in ("echo", "json"):
                for connections, messages in sizes.rtt_messages.items():
                    results = run_clients(
                        "bench.clients.roundtrip", _rtt_configs(server, kind, connections, messages), work, "rtt"
                    )
                    measured[f"{name} {kind} {connections}"] = _rtt_figures(results)
        finally:
            server.stop()
    return measured


def _rtt_configs(server: servers.Server, kind: str, connections: int, messages: int) -> list[dict[str, Any]]:
    url = f"{server.ws_url}/ws/{kind}"
    return [{"url": url, "connections": connections // 2, "messages": messages, "kind": kind} for _ in range(2)]


def _rtt_figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [latency for result in results for latency in result["latencies"]]
    elapsed = max(r["finished"] for r in results) - min(r["started"] for r in results)
    return {
        "per_second": sum(r["round_trips"] for r in results) / elapsed,
        "wrong_answers": sum(r["wrong_answers"] for r in results),
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "quantiles_ms": [1000 * percentile(latencies, q) for q in QUANTILES],
    }


def handshakes(sizes: Sizes, work: Path) -> dict[str, Any]:
    """Authenticated handshakes per second on /ws/notifications (token check and user lookup), PostgreSQL."""
    measured = {}
    for name in ("A", "B", "D", "H", "G"):
        seed = env.fresh_database(users=200, settings_module=_settings_for(name))
        server = start_server(name, work, env.server_env(redis=False))
        try:
            urls = [f"{server.ws_url}/ws/notifications?token={token}" for token in seed.tokens]
            configs = [
                {"urls": share, "concurrency": 10, "handshakes": sizes.handshakes // 2} for share in split(urls, 2)
            ]
            run_clients("bench.clients.handshakes", [{**c, "handshakes": 50} for c in configs], work, "warmup")
            results = run_clients("bench.clients.handshakes", configs, work, "handshakes")
        finally:
            server.stop()
        elapsed = max(r["finished"] for r in results) - min(r["started"] for r in results)
        measured[name] = {
            "per_second": sum(r["handshakes"] for r in results) / elapsed,
            "failures": crowds.merge_counts(r["failures"] for r in results),
        }
    return measured


def writes(sizes: Sizes, work: Path) -> dict[str, Any]:
    """
    Comment writes per second, 50 writers on one post, each acknowledged and present; SQLite and PostgreSQL.
    Every writer watches the post too: the clock stops when the last broadcast arrived, and lost
    broadcasts are counted.
    """
    measured = {}
    for database, database_url in (("sqlite", f"sqlite:///{SQLITE_FILE}"), ("postgres", env.DATABASE_URL)):
        for name, table in (("A", "comments_comment"), ("B", "naive_naivecomment")):
            seed = env.fresh_database(database_url, users=sizes.writers, settings_module=_settings_for(name))
            server = start_server(name, work, env.server_env(database_url, redis=False))
            try:
                post = seed.post_ids[0]
                urls = [f"{server.ws_url}/ws/live-comments/{post}?token={token}" for token in seed.tokens]
                expected = sizes.writers * sizes.comments_per_writer
                configs = [
                    {"urls": share, "comments": sizes.comments_per_writer, "expected_broadcasts": expected}
                    for share in split(urls, 2)
                ]
                results = run_clients("bench.clients.writers", configs, work, "writers")
            finally:
                server.stop()
            elapsed = max(r["last_broadcast"] for r in results) - min(r["started"] for r in results)
            acked = sum(r["acked"] for r in results)
            measured[f"{name} {database}"] = {
                "per_second": acked / elapsed,
                "acked": acked,
                "expected": expected,
                "rows": env.count_rows(database_url, table),
                "broadcasts": sum(r["broadcasts"] for r in results),
                "broadcasts_expected": expected * sizes.writers,
                "errors": sum(r["errors"] for r in results),
            }
    return measured


def pushes(sizes: Sizes, work: Path) -> dict[str, Any]:
    """Notification pushes per second to 1,000 connected users, through Redis, PostgreSQL."""
    measured = {}
    for name in ("A", "B"):
        seed = env.fresh_database(users=sizes.push_users, settings_module=_settings_for(name))
        server = start_server(name, work, env.server_env())
        try:
            urls = [f"{server.ws_url}/ws/notifications?token={token}" for token in seed.tokens]
            crowd = crowds.start(
                work,
                urls,
                name="push-crowd",
                processes=2,
                record_types=["notification"],
                deadline=300,
                expect=sizes.push_rounds,
                ready_timeout=300,
            )
            pusher = env.spawn_client(
                "bench.clients.pusher",
                {
                    "redis_url": env.REDIS_URL,
                    "user_ids": seed.user_ids,
                    "rounds": sizes.push_rounds,
                    "result": str(work / "pusher-result.json"),
                },
                work,
                "pusher",
            )
            pusher.wait(timeout=300)
            crowd.stop_when_done(grace=60)
        finally:
            server.stop()
        pushed = json.loads((work / "pusher-result.json").read_text())
        received = crowd.results()
        arrivals = [at for r in received for _, _, at in r["frames"]]
        measured[name] = {
            "per_second": len(arrivals) / (max(arrivals) - pushed["started"]),
            "delivered": len(arrivals),
            "expected": pushed["pushes"],
        }
    return measured


def memory(
    sizes: Sizes, work: Path, servers_: tuple[str, ...] = ("A", "B", "P", "D", "H", "G"), **extra_env: str
) -> dict[str, Any]:
    """
    Memory per idle authenticated connection (heartbeat on), 10,000 connections to one process: the growth of
    the server's resident memory divided by the connections it holds (its open file descriptors), which is not
    always what its clients believe they hold. P, plain daphne with an application that only accepts, is the
    floor: what daphne, Twisted and autobahn hold by themselves.
    """
    measured = {}
    for name in servers_:
        seed = env.fresh_database(users=sizes.idle_connections, settings_module=_settings_for(name))
        server = start_server(name, work, env.server_env(redis=False, **extra_env))
        try:
            time.sleep(2)
            before, descriptors_before = server.rss_kib(), server.open_descriptors()
            urls = [f"{server.ws_url}/ws/notifications?token={token}" for token in seed.tokens]
            crowd = crowds.start(work, urls, name="idle", processes=4, record_types=[], deadline=900)
            time.sleep(sizes.idle_hold)
            after, held = server.rss_kib(), server.open_descriptors() - descriptors_before
            crowd.stop_when_done(grace=0)
            results = crowd.results()
        finally:
            server.stop()
        measured[name] = {
            "kib_per_connection": (after - before) / max(held, 1),
            "connected": sum(r["connected"] for r in results),
            "held": held,
            "closed": sum(sum(r["closes"].values()) for r in results),
            "rss_mib": [round(before / 1024, 1), round(after / 1024, 1)],
        }
    return measured


SCENARIOS: dict[str, Callable[[Sizes, Path], dict[str, Any]]] = {
    "rtt": rtt,
    "handshakes": handshakes,
    "writes": writes,
    "pushes": pushes,
    "memory": memory,
}


def fanout(sizes: Sizes, work: Path) -> dict[str, Any]:
    """bench/scaleout.py's fan-out over two daphne processes (the project's layer), once per crowd size."""
    return {
        str(watchers): scaleout.fanout("pubsub", watchers, comments, interval)
        for watchers, (comments, interval) in sizes.fanouts.items()
    }


# The layer's channels on a prefix of the bench's own: Redis pub/sub ignores the database number, so another
# checkout's tests on this machine's Redis publish into the bench's groups otherwise (bench/settings/prefixed.py).
BENCH_PREFIX = {"REDIS_PREFIX": "realtime-bench"}


def servers_fanout(sizes: Sizes, work: Path) -> dict[str, Any]:
    """The smaller fan-out (1,000 watchers) over two processes of each server, the project's layer."""
    watchers, (comments, interval) = min(sizes.fanouts.items())
    return {
        name: scaleout.fanout("pubsub", watchers, comments, interval, server_kind=KINDS[name], environment=BENCH_PREFIX)
        for name in PROJECT_SERVERS
    }


def topics_memory(sizes: Sizes, work: Path) -> dict[str, Any]:
    """bench/topics.py's memory per idle user: one /ws/ socket with two topics, against two per-feed sockets."""
    return topics.memory(topics.FULL if sizes.topics == "full" else topics.QUICK)


def breakdown(sizes: Sizes, work: Path) -> dict[str, Any]:
    """bench/memory.py (a process of its own: it signals its servers): where an idle connection's memory goes."""
    base, connections = sizes.breakdown
    command = [sys.executable, "-m", "bench.memory", "--only", "notifications,topics,idle"]
    subprocess.run([*command, "--base", str(base), "--connections", str(connections)], check=True)
    report: dict[str, Any] = json.loads((OUT / "memory.json").read_text())
    return report


def hold(sizes: Sizes, work: Path) -> dict[str, Any]:
    return holding.hold(sizes.hold_connections, sizes.hold_minutes)


ONCE: dict[str, Callable[[Sizes, Path], dict[str, Any]]] = {
    "fanout": fanout,
    "servers_fanout": servers_fanout,
    "topics_memory": topics_memory,
    "breakdown": breakdown,
    "hold": hold,
}


def _settings_for(server: str) -> str:
    return "bench.settings.naive" if server == "B" else "project.settings"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes and one round, to check the suite runs")
    parser.add_argument("--only", default=",".join([*SCENARIOS, *ONCE]), help="comma-separated scenarios")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    rounds = 1 if args.quick else args.rounds
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "rounds": rounds, "quick": args.quick}
    started = time.monotonic()
    for scenario in args.only.split(","):
        if scenario in ONCE:
            with env.workdir() as work:
                report[scenario] = ONCE[scenario](sizes, work)
            print(f"{scenario}: done ({round(time.monotonic() - started)} s into the run)", flush=True)
            _write(report, started)
            continue
        report[scenario] = []
        for round_number in range(rounds):
            with env.workdir() as work:
                figures = SCENARIOS[scenario](sizes, work)
            report[scenario].append(figures)
            print(f"{scenario} round {round_number + 1}/{rounds}: {_summary(figures)}", flush=True)
        _write(report, started)
    print(f"wrote {OUT / 'perf.json'} in {report['seconds']} s")


def _write(report: dict[str, Any], started: float) -> None:
    """perf.json as it stands (after each scenario: a run that fails late keeps what it measured)."""
    report["seconds"] = round(time.monotonic() - started)
    (OUT / "perf.json").write_text(json.dumps(report, indent=1))


def _summary(figures: dict[str, Any]) -> str:
    parts = []
    for key, value in figures.items():
        figure = value.get("per_second", value.get("kib_per_connection"))
        parts.append(f"{key}={figure:,.0f}")
    return ", ".join(parts)


if __name__ == "__main__":
    main()
