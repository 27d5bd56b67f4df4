"""
Hold (issue 17): idle authenticated connections held by one daphne process for
minutes, with the heartbeat on at its defaults (a ping every 30 s, each answered).

    python -m bench.hold [--connections 20000] [--minutes 10]
    python -m bench.hold --connections 19000 --minutes 65    # the one-hour hold (issue 25)

One daphne process (`project.asgi`, PostgreSQL, the in-memory channel layer,
the server's default limits), `/ws/notifications` connections, each its own
user, coming from many loopback addresses as real clients do (the per-address
cap holds). Reported: connected and refused, closes before the end (every one
is unexpected), pings answered, the process's resident memory every 10 s and its
growth from the first minute, and from the fifth (per connection and hour), of the
hold to its end, KiB per connection,
exceptions and warnings in the server log.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

from bench.scaleout import OUT
from bench.soak import MemorySampler
from bench.support import crowds, servers
from bench.support import environment as env

CLIENT_PROCESSES = 4
# Loopback addresses each client process's connections come from: 625 each for 20,000 (the cap is 1,000).
SOURCE_ADDRESSES = 8
# Descriptors the server may hold (the connections, its database and its own few).
OPEN_FILES = 65_536
# Descriptors a daphne process holds besides its connections (listening socket, database, logs, epoll...).
OWN_DESCRIPTORS = 60
HEARTBEAT_INTERVAL = 30.0
FIRST_MINUTE = 60.0
# The growth that tells a leak from the allocator settling: from here to the end, per connection and per hour.
SETTLED = 300.0


def possible(connections: int) -> int:
    """As many of `connections` as one process can hold here: raising the hard limit of open files needs privileges."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < OPEN_FILES and connections > hard - OWN_DESCRIPTORS:
        print(
            f"The hard limit of open files is {hard} here (raising it needs CAP_SYS_RESOURCE): holding "
            f"{hard - OWN_DESCRIPTORS} connections, not {connections}"
        )
        return int(hard - OWN_DESCRIPTORS)
    return connections


def hold(connections: int, minutes: float) -> dict[str, Any]:
    asked, connections = connections, possible(connections)
    seconds = minutes * 60
    seed = env.fresh_database(users=connections)
    server_env = {"DATABASE_URL": env.DATABASE_URL, "DJANGO_LOG_LEVEL": "WARNING"}
    with env.workdir() as work:
        server = servers.daphne("daphne-hold", server_env, work, open_files=OPEN_FILES)
        try:
            before = server.rss_kib()
            urls = [f"{server.ws_url}/ws/notifications?token={token}" for token in seed.tokens]
            opened_at = time.monotonic()
            crowd = crowds.start(
                work,
                urls,
                name="crowd",
                processes=CLIENT_PROCESSES,
                record_types=[],
                deadline=seconds + 900,
                source_addresses=SOURCE_ADDRESSES,
            )
            opening = time.monotonic() - opened_at
            held = server.open_descriptors()
            with MemorySampler([server]) as memory:
                time.sleep(seconds)
                end_held = server.open_descriptors()
            crowd.stop_when_done(grace=0)
            results = crowd.results()
            logs = [server.log_path.read_text(errors="replace")]
            exceptions = env.exceptions_in(server.log_path)
        finally:
            server.stop()
    samples = memory.samples
    start = samples[0][1][0]
    after_first_minute = next((mib[0] for at, mib in samples if at >= FIRST_MINUTE), start)
    end = samples[-1][1][0]
    settled_at, settled = next(((at, mib[0]) for at, mib in samples if at >= SETTLED), (samples[-1][0], end))
    hours_settled = max(samples[-1][0] - settled_at, 1.0) / 3600
    connected = sum(r["connected"] for r in results)
    return {
        "scenario": "hold",
        "connections_asked": asked,
        "connections": connections,
        "open_files_hard_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
        "minutes": minutes,
        "heartbeat_interval_s": HEARTBEAT_INTERVAL,
        "connected": connected,
        "seconds_to_open_all": round(opening, 1),
        "descriptors_at_start_and_end": [held, end_held],
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "closes_before_the_end": crowds.merge_counts(r["closes"] for r in results),
        "pings_answered": sum(r.get("pongs", 0) for r in results),
        "pings_expected_about": int(connected * (seconds // HEARTBEAT_INTERVAL)),
        "rss_mib_before": round(before / 1024, 1),
        "rss_mib_start": start,
        "rss_mib_after_first_minute": after_first_minute,
        "rss_mib_end": end,
        "growth_after_first_minute_mib": round(end - after_first_minute, 1),
        "rss_mib_after_five_minutes": settled,
        "growth_after_five_minutes_mib": round(end - settled, 1),
        "growth_after_five_minutes_bytes_per_connection_per_hour": round(
            (end - settled) * 2**20 / max(1, connected) / hours_settled, 1
        ),
        "kib_per_connection": round((start * 1024 - before) / max(1, connected), 1),
        "rss_mib_samples": samples,
        "server_exceptions": exceptions,
        "server_warnings": env.warnings_in(logs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    arguments = parser.parse_args()
    result = hold(arguments.connections, arguments.minutes)
    OUT.mkdir(exist_ok=True)
    (OUT / f"hold-{arguments.minutes:g}min.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mib_samples"}, indent=2))


if __name__ == "__main__":
    main()
