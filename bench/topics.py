"""
One `/ws/` connection with two topics against two per-feed connections (issue 14), in one run, read as ratios.

    python -m bench.topics                # 2,000 users, then 1,000 watchers (make bench-topics)
    python -m bench.topics --quick        # small sizes: does it run?
    python -m bench.topics --only memory --users 5000

memory: N users (each its own user and token) following their notifications and
one post (the same post for all), held idle past one heartbeat, which every client
answers, on one daphne process (PostgreSQL, the in-memory layer, as the memory
scenario of bench.perf): once over one /ws/ connection subscribed to
`notifications` and `comments:<post_id>`, once over two connections,
/ws/notifications and /ws/live-comments/<post_id>; a fresh process for each.
KiB per user: the growth of the server's resident memory divided by the users it
holds (its new descriptors divided by the sockets of a user).

fanout: bench.scaleout's fan-out (1,000 watchers of one post over two daphne
processes on PostgreSQL and Redis, one writer on /ws/live-comments posting 50
comments, one every 200 ms), once with the watchers on /ws/ following
`comments:<post_id>`, once on /ws/live-comments/<post_id>. Deliveries, losses,
latency p50/p99/max.

Ratios: /ws/ ÷ per-feed, for memory per user and for the fan-out's latency.
Results: bench/out/topics.json.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import scaleout
from bench.support import crowds, servers
from bench.support import environment as env

OUT = Path(__file__).resolve().parent / "out"
CLIENT_PROCESSES = 4
SETTLE_SECONDS = 2.0  # after the server starts, before its memory is read


@dataclass(frozen=True)
class Sizes:
    users: int
    hold: float  # seconds the idle users are held: past one heartbeat
    heartbeat: float | None  # HEARTBEAT_INTERVAL and HEARTBEAT_TIMEOUT; None: the server's defaults (30 s, 10 s)
    watchers: int
    comments: int
    interval: float


FULL = Sizes(users=2000, hold=35.0, heartbeat=None, watchers=1000, comments=50, interval=0.2)
QUICK = Sizes(users=200, hold=5.0, heartbeat=2.0, watchers=100, comments=10, interval=0.2)


@dataclass(frozen=True)
class Arrangement:
    """How a user follows their notifications and one post: the paths of its sockets, the topics of each."""

    name: str
    paths: tuple[str, ...]  # "{post}" stands for the post's id
    subscribe: tuple[str, ...]  # topics every socket subscribes to (/ws/ only)


TOPICS = Arrangement("/ws/", ("/ws/",), ("notifications", "comments:{post}"))
PER_FEED = Arrangement("two sockets", ("/ws/notifications", "/ws/live-comments/{post}"), ())


def memory(sizes: Sizes) -> dict[str, Any]:
    """KiB per idle user for each arrangement, each on a fresh daphne process."""
    seed = env.fresh_database(users=sizes.users)
    post = seed.post_ids[0]
    seconds = str(sizes.heartbeat)
    heartbeat = {} if sizes.heartbeat is None else {"HEARTBEAT_INTERVAL": seconds, "HEARTBEAT_TIMEOUT": seconds}
    measured: dict[str, Any] = {}
    for arrangement in (TOPICS, PER_FEED):
        with env.workdir() as work:
            server = servers.daphne("daphne", env.server_env(redis=False, **heartbeat), work)
            try:
                time.sleep(SETTLE_SECONDS)
                before, descriptors_before = server.rss_kib(), server.open_descriptors()
                urls = [
                    f"{server.ws_url}{path.format(post=post)}?token={token}"
                    for token in seed.tokens
                    for path in arrangement.paths
                ]
                crowd = crowds.start(
                    work,
                    urls,
                    name="idle",
                    processes=CLIENT_PROCESSES,
                    record_types=[],
                    deadline=sizes.hold + 900,
                    subscribe=[topic.format(post=post) for topic in arrangement.subscribe],
                )
                time.sleep(sizes.hold)
                after, held = server.rss_kib(), server.open_descriptors() - descriptors_before
                crowd.stop_when_done(grace=0)
                results = crowd.results()
                exceptions = env.exceptions_in(server.log_path)
            finally:
                server.stop()
        sockets = len(arrangement.paths)
        users_held = held / sockets
        measured[arrangement.name] = {
            "sockets_per_user": sockets,
            "subscriptions_per_socket": len(arrangement.subscribe),
            "kib_per_user": round((after - before) / max(users_held, 1), 2),
            "kib_per_socket": round((after - before) / max(held, 1), 2),
            "users": sizes.users,
            "sockets_opened": sum(r["connected"] for r in results),
            "sockets_held": held,
            "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
            "closed_by_server": crowds.merge_counts(r["closes"] for r in results),
            "pings_answered": sum(r["pongs"] for r in results),
            "rss_mib": [round(before / 1024, 1), round(after / 1024, 1)],
            "server_exceptions": exceptions,
        }
    return measured


def fanout(sizes: Sizes) -> dict[str, Any]:
    """bench.scaleout's fan-out on the project's layer, watchers on /ws/, then on /ws/live-comments/<post_id>."""
    return {
        name: scaleout.fanout("pubsub", sizes.watchers, sizes.comments, sizes.interval, via=via)
        for name, via in (("/ws/", "topics"), ("/ws/live-comments", "live-comments"))
    }


def ratios(report: dict[str, Any]) -> dict[str, float]:
    """/ws/ ÷ per-feed, for what was measured."""
    found: dict[str, float] = {}
    if "memory" in report:
        topics, per_feed = report["memory"][TOPICS.name], report["memory"][PER_FEED.name]
        found["memory_per_user"] = round(topics["kib_per_user"] / per_feed["kib_per_user"], 3)
    if "fanout" in report:
        topics, per_feed = report["fanout"]["/ws/"], report["fanout"]["/ws/live-comments"]
        for quantile in ("p50", "p99", "max"):
            key = f"fanout_latency_{quantile}"
            found[key] = round(topics["latency_ms"][quantile] / per_feed["latency_ms"][quantile], 3)
    return found


def summary(report: dict[str, Any]) -> str:
    lines = []
    for name, figures in report.get("memory", {}).items():
        lines.append(
            f"memory {name}: {figures['kib_per_user']:.1f} KiB per user ({figures['sockets_held']:,} sockets held, "
            f"{figures['pings_answered']:,} pings answered, closes {figures['closed_by_server'] or 'none'})"
        )
    for name, figures in report.get("fanout", {}).items():
        latency = figures["latency_ms"]
        lines.append(
            f"fanout {name}: {figures['deliveries']:,}/{figures['deliveries_expected']:,} delivered, "
            f"lost {figures['lost']}, p50 {latency['p50']:.0f} ms, p99 {latency['p99']:.0f} ms, "
            f"max {latency['max']:.0f} ms"
        )
    lines += [f"ratio {name} (/ws/ ÷ per-feed): {value:.2f}×" for name, value in report["ratios"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that it runs")
    parser.add_argument("--only", choices=("memory", "fanout"), help="one of the two measurements")
    parser.add_argument("--users", type=int, help="idle users of the memory measurement (default 2,000)")
    parser.add_argument("--watchers", type=int, help="watchers of the fan-out (default 1,000)")
    parser.add_argument("--comments", type=int, help="comments of the fan-out (default 50)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    overrides = {"users": args.users, "watchers": args.watchers, "comments": args.comments}
    sizes = Sizes(**{**asdict(sizes), **{key: value for key, value in overrides.items() if value is not None}})
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "quick": args.quick, "sizes": asdict(sizes)}
    started = time.monotonic()
    if args.only in (None, "memory"):
        report["memory"] = memory(sizes)
    if args.only in (None, "fanout"):
        report["fanout"] = fanout(sizes)
    report["ratios"] = ratios(report)
    report["seconds"] = round(time.monotonic() - started)
    (OUT / "topics.json").write_text(json.dumps(report, indent=1))
    print(summary(report))
    print(f"wrote {OUT / 'topics.json'} in {report['seconds']} s")


if __name__ == "__main__":
    main()
