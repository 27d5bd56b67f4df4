"""
The soak (issue 7): authenticated connections held with the heartbeat on, over
two daphne processes on PostgreSQL and Redis, under a steady comment stream.

    python -m bench.soak [--connections 2000] [--minutes 5] [--heartbeat 10]

Half the connections watch one post on /ws/live-comments, half hold
/ws/notifications; each is its own user, on the server's default limits (rate
limits, per-user cap). Writers (one connection each, within the comment budget)
post at a steady rate for the whole soak; every watcher must get every comment.
Every client answers every heartbeat ping. Reported: resident memory of each
server, sampled through the soak (start = once every connection is open, end =
before the clients leave), closes before the end (all unexpected), handshake
failures, deliveries lost, writer errors, exceptions and warnings in the server
logs, peak PostgreSQL connections.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.scaleout import CLIENT_PROCESSES, OUT
from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.sampling import Sampler

WRITERS = 4
# Loopback addresses each client process's connections come from.
SOURCE_ADDRESSES = 8
WRITE_INTERVAL = 2.0  # per writer: half of the default comment budget (RATE_LIMIT_COMMENTS_PER_SECOND=1)
MEMORY_SAMPLE_SECONDS = 10.0
SETTLE_SECONDS = 5.0


class MemorySampler(Sampler):
    """Resident memory of each server, MiB, every MEMORY_SAMPLE_SECONDS, in a thread, and once more at the end."""

    def __init__(self, pair: list[servers.Server]) -> None:
        super().__init__(MEMORY_SAMPLE_SECONDS)
        self.pair = pair
        self.samples: list[tuple[float, list[float]]] = []

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.sample()

    def sample(self) -> None:
        self.samples.append((round(self.elapsed()), [round(s.rss_kib() / 1024, 1) for s in self.pair]))


def soak(connections: int, minutes: float, heartbeat: float) -> dict[str, Any]:
    seconds = minutes * 60
    comments_per_writer = int(seconds / WRITE_INTERVAL)
    seed = env.fresh_database(users=connections + WRITERS)
    writer_tokens, tokens = seed.tokens[:WRITERS], seed.tokens[WRITERS:]
    post_id = seed.post_ids[0]
    server_env = {
        "DATABASE_URL": env.DATABASE_URL,
        "REDIS_URL": env.REDIS_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
        "HEARTBEAT_INTERVAL": str(heartbeat),
        "HEARTBEAT_TIMEOUT": str(heartbeat),
    }
    with env.workdir() as work:
        pair = [servers.daphne(f"daphne-soak-{n}", server_env, work) for n in range(2)]
        try:
            watchers = connections // 2
            urls = [
                f"{pair[n % 2].ws_url}/ws/live-comments/{post_id}?token={token}"
                if n < watchers
                else f"{pair[n % 2].ws_url}/ws/notifications?token={token}"
                for n, token in enumerate(tokens)
            ]
            with env.ConnectionSampler(interval=1.0) as database:
                crowd = crowds.start(
                    work,
                    urls,
                    name="crowd",
                    processes=CLIENT_PROCESSES,
                    record_types=["comment"],
                    deadline=seconds + 600,
                    # The server's default limits hold, the per-address cap included: the crowd comes from
                    # many addresses, as real clients do (1,000 a process from one address is the cap).
                    source_addresses=SOURCE_ADDRESSES,
                )
                time.sleep(SETTLE_SECONDS)
                with MemorySampler(pair) as memory:
                    writers = [
                        env.spawn_client(
                            "bench.clients.writer",
                            {
                                "url": f"{pair[n % 2].ws_url}/ws/live-comments/{post_id}?token={token}",
                                "count": comments_per_writer,
                                "interval": WRITE_INTERVAL,
                                "result": str(work / f"writer-{n}-result.json"),
                            },
                            work,
                            f"writer-{n}",
                        )
                        for n, token in enumerate(writer_tokens)
                    ]
                    for writer in writers:
                        writer.wait(timeout=seconds + 120)
                    time.sleep(SETTLE_SECONDS)  # the last broadcasts reach every watcher
                crowd.stop_when_done(grace=0)
            written = [json.loads((work / f"writer-{n}-result.json").read_text()) for n in range(WRITERS)]
            results = crowd.results()
            logs = [server.log_path.read_text(errors="replace") for server in pair]
            exceptions = sum(env.exceptions_in(server.log_path) for server in pair)
        finally:
            for server in pair:
                server.stop()
    acked = {comment_id for w in written for _, comment_id, _, _ in w["acks"]}
    seen: dict[tuple[int, int], set[int]] = {}
    for process, result in enumerate(results):
        for index, comment_id, _ in result["frames"]:
            seen.setdefault((process, index), set()).add(comment_id)
    watching = sum(1 for url in urls if "/ws/live-comments/" in url)
    start, end = memory.samples[0][1], memory.samples[-1][1]
    return {
        "scenario": "soak",
        "connections": connections,
        "watchers": watching,
        "notification_connections": connections - watching,
        "minutes": minutes,
        "heartbeat_interval_s": heartbeat,
        "heartbeats_per_connection": int(seconds // heartbeat),
        "connected": sum(r["connected"] for r in results),
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "unexpected_closes": crowds.merge_counts(r["closes"] for r in results),
        "comments_acked": len(acked),
        "writer_errors": sum(len(w["errors"]) for w in written),
        "deliveries_expected": watching * len(acked),
        "deliveries_lost": sum(len(acked - seen.get(key, set())) for key in _watcher_keys(crowd)),
        "rss_mib_start": start,
        "rss_mib_end": end,
        "rss_growth_percent": [round(100 * (e - s) / s, 1) for s, e in zip(start, end, strict=True)],
        "rss_mib_samples": memory.samples,
        "server_exceptions": exceptions,
        "server_warnings": env.warnings_in(logs),
        "peak_db_connections": database.peak,
    }


def _watcher_keys(crowd: crowds.Crowds) -> list[tuple[int, int]]:
    """(crowd process, connection index) of every watcher."""
    return [
        (process, index)
        for process, share in enumerate(crowd.shares)
        for index, url in enumerate(share)
        if "/ws/live-comments/" in url
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--heartbeat", type=float, default=10.0, help="HEARTBEAT_INTERVAL and HEARTBEAT_TIMEOUT")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    result = soak(args.connections, args.minutes, args.heartbeat)
    summary = {key: value for key, value in result.items() if key != "rss_mib_samples"}
    print(json.dumps(summary, indent=2))
    (OUT / "soak.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
