"""
Scale-out scenarios (issue 5): two daphne processes on PostgreSQL and Redis.

    python -m bench.scaleout fanout [--layer pubsub|core] [--watchers 1000] [--comments 50]
    python -m bench.scaleout connections [--connections 10000]

fanout: watchers of one post split over two processes and several client
processes; one writer posts comments at a steady rate; every watcher must get
every comment. Reports delivery latency (writer's send to watcher's receipt)
p50/p99/max, loss, closes, application exceptions, peak database connections.

connections: idle authenticated /ws/notifications connections (heartbeat on)
split over two processes, held past one heartbeat; reports refused or dropped
connections and memory per connection.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.stats import percentile

OUT = Path(__file__).resolve().parent / "out"
LAYER_SETTINGS = {"pubsub": "project.settings", "core": "bench.settings.redis_core"}
CLIENT_PROCESSES = 4


def watching(via: str, post_id: int) -> tuple[str, list[str] | None]:
    """Where a watcher of a post connects, and the topics it subscribes to there: per-feed, or /ws/ ("topics")."""
    if via == "topics":
        return "/ws/", [f"comments:{post_id}"]
    return f"/ws/live-comments/{post_id}", None


def fanout(
    layer: str,
    watchers: int,
    comments: int,
    interval: float,
    *,
    via: str = "live-comments",
    environment: dict[str, str] | None = None,
    server_kind: str = "daphne",
) -> dict[str, Any]:
    """
    The fan-out; `environment`: more of the servers' environment (settings, e.g. PRESENCE); `server_kind`: which
    server the two processes are (daphne, uvicorn, hypercorn, granian).
    """
    seed = env.fresh_database(users=watchers + 1)
    tokens, post_id = seed.tokens, seed.post_ids[0]
    path, subscribe = watching(via, post_id)
    server_env = {**env.server_env(DJANGO_SETTINGS_MODULE=LAYER_SETTINGS[layer]), **(environment or {})}
    with env.workdir() as work:
        pair = [servers.of_kind(server_kind, f"{server_kind}-{layer}-{n}", server_env, work) for n in range(2)]
        try:
            urls = [f"{pair[n % 2].ws_url}{path}?token={token}" for n, token in enumerate(tokens[1:])]
            crowd = crowds.start(
                work, urls, name="crowd", processes=CLIENT_PROCESSES, record_types=["comment"], deadline=300,
                expect=comments, subscribe=subscribe,
            )  # fmt: skip
            with env.ConnectionSampler() as sampler:
                writer = env.spawn_client(
                    "bench.clients.writer",
                    {
                        "url": f"{pair[0].ws_url}/ws/live-comments/{post_id}?token={tokens[0]}",
                        "count": comments,
                        "interval": interval,
                        "result": str(work / "writer-result.json"),
                    },
                    work,
                    "writer",
                )
                writer.wait(timeout=300)
                crowd.stop_when_done(grace=30)
            written = json.loads((work / "writer-result.json").read_text())
            results = crowd.results()
            exceptions = sum(env.exceptions_in(server.log_path) for server in pair)
        finally:
            for server in pair:
                server.stop()
    sent_at = {comment_id: sent for _, comment_id, sent, _ in written["acks"]}
    latencies = [at - sent_at[cid] for r in results for _, cid, at in r["frames"] if cid in sent_at]
    delivered = {(n, r_index, cid) for r_index, r in enumerate(results) for n, cid, _ in r["frames"]}
    expected = watchers * len(written["acks"])
    return {
        "scenario": "fanout",
        "server": server_kind,
        "layer": layer,
        "via": via,
        "watchers": watchers,
        "comments_acked": len(written["acks"]),
        "writer_errors": len(written["errors"]),
        "connected": sum(r["connected"] for r in results),
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "closes": crowds.merge_counts(r["closes"] for r in results),
        "deliveries_expected": expected,
        "deliveries": len(delivered),
        "lost": expected - len(delivered),
        "latency_ms": {
            "p50": 1000 * percentile(latencies, 0.50),
            "p99": 1000 * percentile(latencies, 0.99),
            "max": 1000 * max(latencies, default=float("nan")),
        },
        "server_exceptions": exceptions,
        "peak_db_connections": sampler.peak,
    }


def connections(count: int, hold: float) -> dict[str, Any]:
    tokens = env.fresh_database(users=count).tokens
    with env.workdir() as work:
        pair = [servers.daphne(f"daphne-idle-{n}", env.server_env(), work) for n in range(2)]
        try:
            time.sleep(2)
            rss_before = [server.rss_kib() for server in pair]
            urls = [f"{pair[n % 2].ws_url}/ws/notifications?token={token}" for n, token in enumerate(tokens)]
            started = time.monotonic()
            with env.ConnectionSampler() as sampler:
                crowd = crowds.start(
                    work, urls, name="crowd", processes=CLIENT_PROCESSES, record_types=[], deadline=hold + 600
                )
                connect_seconds = time.monotonic() - started
                time.sleep(hold)  # past at least one heartbeat: every client must answer it
                rss_after = [server.rss_kib() for server in pair]
                crowd.stop_when_done(grace=30)
            results = crowd.results()
            exceptions = sum(env.exceptions_in(server.log_path) for server in pair)
        finally:
            for server in pair:
                server.stop()
    connected = sum(r["connected"] for r in results)
    closes = crowds.merge_counts(r["closes"] for r in results)
    return {
        "scenario": "connections",
        "connections": count,
        "connected": connected,
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "dropped_while_held": sum(closes.values()),
        "closes": closes,
        "connect_seconds": round(connect_seconds, 1),
        "held_seconds": hold,
        "rss_mib_before": [round(kib / 1024, 1) for kib in rss_before],
        "rss_mib_after": [round(kib / 1024, 1) for kib in rss_after],
        "kib_per_connection": round((sum(rss_after) - sum(rss_before)) / max(connected, 1), 1),
        "server_exceptions": exceptions,
        "peak_db_connections": sampler.peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="scenario", required=True)
    fan = sub.add_parser("fanout")
    fan.add_argument("--layer", choices=sorted(LAYER_SETTINGS), action="append")
    fan.add_argument("--watchers", type=int, default=1000)
    fan.add_argument("--comments", type=int, default=50)
    fan.add_argument("--interval", type=float, default=0.2)
    idle = sub.add_parser("connections")
    idle.add_argument("--connections", type=int, default=10_000)
    idle.add_argument("--hold", type=float, default=40.0)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.scenario == "fanout":
        for layer in args.layer or ["pubsub", "core"]:
            result = fanout(layer, args.watchers, args.comments, args.interval)
            print(json.dumps(result, indent=2))
            (OUT / f"fanout-{layer}.json").write_text(json.dumps(result, indent=2))
    else:
        result = connections(args.connections, args.hold)
        print(json.dumps(result, indent=2))
        (OUT / "connections.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
