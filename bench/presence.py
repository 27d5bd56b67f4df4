"""
What presence costs (issue 15), in one run: join storms, and the comments' fan-out with presence on and off.

    python -m bench.presence                    # 1,000 then 10,000 watchers; 4 fan-outs (make bench-presence)
    python -m bench.presence --quick            # small sizes: does it run?
    python -m bench.presence --only storm --storms 1000 --no-listed
    python -m bench.presence --only fanout --watchers 10000 --interval 1 --rounds 1   # the fan-out at 10,000

storm: N watchers of one post (each its own user and token) join it over /ws/
(`comments:<post_id>`) as fast as the crowd opens connections, split over two
daphne processes on PostgreSQL and Redis (bench.scaleout's servers, the project's
pub/sub layer on a prefix of its own: bench/settings/prefixed.py), then stay
SETTLE seconds. Every presence frame each watcher receives is logged (arrival,
count). Reported: presence_diff frames per second per watcher, the shortest gap
between two diffs to one watcher, the time from the last join (the last
watcher's presence_state) until each watcher's latest count is N (p50, p99, max:
all exact), presence_state frames sent again (a topic read again), the servers'
CPU (user + system) while the watchers join and while they stay, how long their
event loops stall (a /ws/echo round trip every 200 ms), refusals, and what the
server logs say. The same storm with PRESENCE=false is the anchor. With the
default PRESENCE_LIST_LIMIT (100) both sizes are past the limit (frames carry
the count only once it passes 100); a third storm, 1,000 with the limit at
1,000, sends the lists (--no-listed leaves it out).

fanout: bench.scaleout's fan-out (1,000 watchers of one post on /ws/ over two
processes, one writer posting 50 comments, one every 200 ms), with PRESENCE on,
then off, ROUNDS times alternately (--watchers, --interval change its size). Latency p50/p99/max and on ÷ off
per round.

Results: bench/out/presence.json (with --only: presence-storm.json, presence-fanout.json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from bench import scaleout
from bench.support import crowds, servers
from bench.support import environment as env
from bench.support.sampling import Sampler
from bench.support.stats import percentile

OUT = Path(__file__).resolve().parent / "out"
CLIENT_PROCESSES = scaleout.CLIENT_PROCESSES
IDLE_SECONDS = 2.0  # after the servers start, before the storm
CPU_SAMPLE_SECONDS = 1.0
PRESENCE_INTERVAL = 1.0  # the server's default
PRESENCE_OFF = {"PRESENCE": "false"}
# The project's pub/sub layer on a channel prefix of the bench's own: other sites on this Redis (another
# checkout's tests) publish to the same groups otherwise (bench/settings/prefixed.py).
SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.settings.prefixed"}
TRACEBACK_LINES = 30  # of the first traceback in a server log, kept as evidence
LOG_LEVELS = ("INFO", "WARNING", "ERROR", "CRITICAL")
LOG_MESSAGE_CHARS = 160  # of a log line, to count lines by message
DAPHNE_STARTUP = ("Starting server", "HTTP/2 support", "Configuring endpoint", "Listening on")
PROBE_SECONDS = 0.2
BURST_GAP = 0.5  # seconds between two presence_state frames of one reread, at most

Watcher = tuple[int, int]  # (crowd process, connection index)


@dataclass(frozen=True)
class Sizes:
    storms: tuple[int, ...]  # watchers of each join storm
    settle: float  # seconds the watchers stay after the last one joined
    listed: bool  # also a storm of 1,000 with PRESENCE_LIST_LIMIT 1,000
    watchers: int  # of the fan-out
    comments: int
    interval: float
    rounds: int  # of the fan-out, presence on then off


FULL = Sizes(storms=(1000, 10_000), settle=15.0, listed=True, watchers=1000, comments=50, interval=0.2, rounds=2)
QUICK = Sizes(storms=(100, 300), settle=5.0, listed=False, watchers=100, comments=10, interval=0.2, rounds=1)


class CpuSampler(Sampler):
    """The CPU seconds of each server every CPU_SAMPLE_SECONDS, in a thread: [seconds since start, cpu...]."""

    def __init__(self, pair: list[servers.Server]) -> None:
        super().__init__(CPU_SAMPLE_SECONDS)
        self.pair = pair
        self.samples: list[list[float]] = []

    def sample(self) -> None:
        self.samples.append([round(self.elapsed(), 1), *(round(server.cpu_seconds(), 2) for server in self.pair)])


class EchoProbe:
    """A round trip on /ws/echo to each server every PROBE_SECONDS, a thread each: how long its event loop stalls."""

    def __init__(self, pair: list[servers.Server]) -> None:
        self.pair = pair
        self.samples: list[list[tuple[float, float]]] = [[] for _ in pair]  # per server: (sent at, seconds)
        self.failures = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(len(pair))]

    def __enter__(self) -> EchoProbe:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def figures(self, start: float, end: float) -> list[dict[str, float]]:
        """Per server, the round trips sent between `start` and `end`: p50, p99, max (ms)."""
        found = []
        for samples in self.samples:
            seconds = [rtt for at, rtt in samples if start <= at < end]
            found.append(
                {
                    "p50": round(1000 * percentile(seconds, 0.50), 1),
                    "p99": round(1000 * percentile(seconds, 0.99), 1),
                    "max": round(1000 * max(seconds, default=float("nan")), 1),
                }
            )
        return found

    def _run(self, n: int) -> None:
        try:
            with connect(f"{self.pair[n].ws_url}/ws/echo", open_timeout=60, close_timeout=1) as ws:
                while not self._stop.is_set():
                    sent = time.monotonic()
                    ws.send("probe")
                    ws.recv(timeout=120)
                    self.samples[n].append((sent, time.monotonic() - sent))
                    self._stop.wait(PROBE_SECONDS)
        except (OSError, TimeoutError, WebSocketException):
            self.failures += 1


def storm(watchers: int, *, presence: bool, settle: float, list_limit: int | None = None) -> dict[str, Any]:
    """`watchers` join one post over two processes, and stay `settle` seconds: their presence frames, the CPU."""
    seed = env.fresh_database(users=watchers)
    topic = f"comments:{seed.post_ids[0]}"
    server_env = env.server_env() | SETTINGS | {"DJANGO_LOG_LEVEL": "INFO"}  # refusals and drops are logged at INFO
    server_env |= {} if presence else PRESENCE_OFF
    server_env |= {} if list_limit is None else {"PRESENCE_LIST_LIMIT": str(list_limit)}
    with env.workdir() as work:
        pair = [servers.daphne(f"daphne-storm-{n}", server_env, work) for n in range(2)]
        try:
            time.sleep(IDLE_SECONDS)
            urls = [f"{pair[n % 2].ws_url}/ws/?token={token}" for n, token in enumerate(seed.tokens)]
            with CpuSampler(pair) as sampler, EchoProbe(pair) as probe:
                cpu_start, started = [server.cpu_seconds() for server in pair], time.monotonic()
                crowd = crowds.start(
                    work, urls, name="storm", processes=CLIENT_PROCESSES, record_types=[], deadline=settle + 900,
                    subscribe=[topic], log_presence=True,
                )  # fmt: skip
                cpu_joined, joined = [server.cpu_seconds() for server in pair], time.monotonic()
                time.sleep(settle)
                cpu_end, ended = [server.cpu_seconds() for server in pair], time.monotonic()
            during = [len(server.log_path.read_bytes()) for server in pair]
            crowd.stop_when_done(grace=0)
            results = crowd.results()
            server_of = {
                (process, index): next(n for n, server in enumerate(pair) if url.startswith(f"{server.ws_url}/"))
                for process, share in enumerate(crowd.shares)
                for index, url in enumerate(share)
            }
        finally:
            for server in pair:
                server.stop()
        logs = [server.log_path.read_bytes() for server in pair]
    # What the servers logged while the watchers joined and stayed; then as they left, and at shutdown.
    while_held = [log[:cut].decode(errors="replace") for log, cut in zip(logs, during, strict=True)]
    afterwards = [log[cut:].decode(errors="replace") for log, cut in zip(logs, during, strict=True)]
    report: dict[str, Any] = {
        "watchers": watchers,
        "presence": presence,
        "list_limit": list_limit,
        "connected": sum(r["connected"] for r in results),
        "handshake_failures": crowds.merge_counts(r["failures"] for r in results),
        "closes": crowds.merge_counts(r["closes"] for r in results),
        "connect_seconds": round(joined - started, 2),
        "settle_seconds": round(ended - joined, 2),
        "cpu_seconds": {
            "joining": [round(b - a, 2) for a, b in zip(cpu_start, cpu_joined, strict=True)],
            "settling": [round(b - a, 2) for a, b in zip(cpu_joined, cpu_end, strict=True)],
        },
        "echo_ms": {"joining": probe.figures(started, joined), "settling": probe.figures(joined, ended)},
        "echo_failures": probe.failures,
        "cpu_timeline": sampler.samples,
        "server_log": log_findings(while_held),
        "server_log_after": log_findings(afterwards),
    }
    if presence:  # every watcher connected should count them all
        report["frames"] = presence_figures(results, report["connected"], server_of, settle_end=ended)
    return report


def presence_figures(
    results: list[dict[str, Any]], expected: int, server_of: dict[Watcher, int], *, settle_end: float
) -> dict[str, Any]:
    """From every watcher's presence frames: diff rates, convergence to `expected` after the last join."""
    logs: dict[Watcher, list[tuple[float, int, int]]] = defaultdict(list)
    for process, result in enumerate(results):
        for connection, at, is_diff, count in result["presence"]:
            logs[(process, connection)].append((at, is_diff, count))
    for frames in logs.values():
        frames.sort()
    joins = {watcher: frames[0][0] for watcher, frames in logs.items()}  # its presence_state, the first frame
    first_join, last_join = min(joins.values()), max(joins.values())
    exact_at: dict[Watcher, float] = {}
    for watcher, frames in logs.items():
        if frames[-1][2] != expected:
            continue
        settled = len(frames)
        while settled > 0 and frames[settled - 1][2] == expected:
            settled -= 1
        exact_at[watcher] = frames[settled][0]
    storm_end = max(exact_at.values()) if len(exact_at) == len(logs) else settle_end
    storm_seconds = storm_end - first_join
    rates, gaps, diffs = [], [], 0
    states_again: list[list[float]] = [[] for _ in set(server_of.values())]  # arrivals, by server
    for watcher, frames in logs.items():
        arrivals = [at for at, is_diff, _ in frames if is_diff]
        diffs += len(arrivals)
        rates.append(sum(1 for at in arrivals if at <= storm_end) / max(storm_seconds, PRESENCE_INTERVAL))
        gaps += [later - earlier for earlier, later in itertools.pairwise(arrivals)]
        states_again[server_of[watcher]] += [at for at, is_diff, _ in frames[1:] if not is_diff]
    convergence = [max(0.0, at - last_join) for at in exact_at.values()]
    final_counts = [frames[-1][2] for frames in logs.values()]
    return {
        "watchers_with_frames": len(logs),
        "join_seconds": round(last_join - first_join, 2),  # first to last presence_state
        "storm_seconds": round(storm_seconds, 2),  # first presence_state to every watcher exact (or the end)
        "diffs": diffs,
        # Each watcher's diffs during the storm over the storm's length (the later it joined, the fewer).
        "diffs_per_second": {"mean": round(statistics.fmean(rates), 3), "max": round(max(rates), 3)},
        "shortest_gap_seconds": round(min(gaps), 3) if gaps else None,  # between two diffs to one watcher
        # presence_state frames after a watcher's first: the topic read again, every connection of a process sent
        # a fresh state ("rereads": bursts of them, by server)
        "states_again": sum(len(arrivals) for arrivals in states_again),
        "rereads": [len(bursts(arrivals)) for arrivals in states_again],
        "exact_watchers": len(exact_at),
        "final_count": {"min": min(final_counts), "max": max(final_counts)},
        "exact_after_last_join_ms": {
            "p50": round(1000 * percentile(convergence, 0.50)),
            "p99": round(1000 * percentile(convergence, 0.99)),
            "max": round(1000 * max(convergence, default=float("nan"))),
            "all_exact": len(exact_at) == len(logs) == expected,
        },
    }


def bursts(arrivals: list[float]) -> list[list[float]]:
    """Arrival times grouped into bursts: a gap of more than BURST_GAP seconds starts the next."""
    found: list[list[float]] = []
    for at in sorted(arrivals):
        if found and at - found[-1][-1] <= BURST_GAP:
            found[-1].append(at)
        else:
            found.append([at])
    return found


def log_findings(logs: list[str]) -> dict[str, Any]:
    """What server logs say: application exceptions, lines by message (numbers blanked), the first traceback."""
    text = "\n".join(logs)
    exceptions = text.count("Exception inside application") + text.count("Traceback (most recent call last)")
    first = text.find("Traceback (most recent call last)")
    lines: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        fields = line.split(maxsplit=3)
        if len(fields) == 4 and fields[2] in LOG_LEVELS and not fields[3].startswith(DAPHNE_STARTUP):
            lines[re.sub(r"\d+", "N", f"{fields[2]} {fields[3]}")[:LOG_MESSAGE_CHARS]] += 1
    return {
        "exceptions": exceptions,
        "lines": dict(sorted(lines.items(), key=lambda item: -item[1])),
        "first_traceback": text[first:].splitlines()[:TRACEBACK_LINES] if first >= 0 else [],
    }


def storms(sizes: Sizes) -> list[dict[str, Any]]:
    """Each size with presence on, then off (the anchor); then, with `listed`, 1,000 with the lists."""
    runs = []
    for watchers in sizes.storms:
        for presence in (True, False):
            runs.append(storm(watchers, presence=presence, settle=sizes.settle))
            print(storm_line(runs[-1]), flush=True)
    if sizes.listed:
        runs.append(storm(1000, presence=True, settle=sizes.settle, list_limit=1000))
        print(storm_line(runs[-1]), flush=True)
    return runs


def fanouts(sizes: Sizes) -> list[dict[str, Any]]:
    """bench.scaleout's fan-out through /ws/, presence on then off, `rounds` times."""
    runs = []
    for round_ in range(1, sizes.rounds + 1):
        for presence in (True, False):
            result = scaleout.fanout(
                "pubsub", sizes.watchers, sizes.comments, sizes.interval, via="topics",
                environment=SETTINGS | ({} if presence else PRESENCE_OFF),
            )  # fmt: skip
            runs.append({"round": round_, "presence": presence, **result})
            print(fanout_line(runs[-1]), flush=True)
    return runs


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """Presence on ÷ off: the storms' CPU, the fan-outs' latency (per round)."""
    found: dict[str, Any] = {}
    for on in report.get("storms", []):
        off = next(
            (r for r in report["storms"] if r["watchers"] == on["watchers"] and not r["presence"]),
            None,
        )
        if not on["presence"] or on["list_limit"] is not None or off is None:
            continue
        for phase in ("joining", "settling"):
            found[f"storm_{on['watchers']}_cpu_{phase}"] = round(
                sum(on["cpu_seconds"][phase]) / max(sum(off["cpu_seconds"][phase]), 0.01), 2
            )
    by_round: dict[int, dict[bool, dict[str, Any]]] = defaultdict(dict)
    for run in report.get("fanout", []):
        by_round[run["round"]][run["presence"]] = run
    for round_, pair in sorted(by_round.items()):
        if True in pair and False in pair:
            on, off = pair[True]["latency_ms"], pair[False]["latency_ms"]
            for quantile in ("p50", "p99", "max"):
                found[f"fanout_round{round_}_{quantile}"] = round(on[quantile] / off[quantile], 3)
    return found


def storm_line(run: dict[str, Any]) -> str:
    limit = "" if run["list_limit"] is None else f", list limit {run['list_limit']}"
    line = (
        f"storm {run['watchers']:,} presence {'on' if run['presence'] else 'off'}{limit}: "
        f"{run['connected']:,} connected in {run['connect_seconds']} s, refused {run['handshake_failures'] or 'none'}, "
        f"cpu joining {run['cpu_seconds']['joining']} s, settling {run['cpu_seconds']['settling']} s, "
        f"echo max {[e['max'] for e in run['echo_ms']['joining']]} ms, exceptions {run['server_log']['exceptions']}"
    )
    frames = run.get("frames")
    if frames:
        exact = frames["exact_after_last_join_ms"]
        line += (
            f"; diffs/s mean {frames['diffs_per_second']['mean']} max {frames['diffs_per_second']['max']}, "
            f"shortest gap {frames['shortest_gap_seconds']} s, states again {frames['states_again']:,} "
            f"(rereads {frames['rereads']}), "
            f"exact {frames['exact_watchers']:,}, "
            f"after last join p50 {exact['p50']} ms p99 {exact['p99']} ms max {exact['max']} ms"
        )
    return line


def fanout_line(run: dict[str, Any]) -> str:
    latency = run["latency_ms"]
    return (
        f"fanout round {run['round']} presence {'on' if run['presence'] else 'off'}: "
        f"{run['deliveries']:,}/{run['deliveries_expected']:,} delivered, lost {run['lost']}, "
        f"p50 {latency['p50']:.0f} ms, p99 {latency['p99']:.0f} ms, max {latency['max']:.0f} ms, "
        f"exceptions {run['server_exceptions']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that it runs")
    parser.add_argument("--only", choices=("storm", "fanout"), help="one of the two measurements")
    parser.add_argument("--storms", type=int, nargs="+", help="watchers of each join storm (default 1,000 10,000)")
    parser.add_argument("--listed", action=argparse.BooleanOptionalAction, help="the storm of 1,000 with lists")
    parser.add_argument("--rounds", type=int, help="fan-out rounds, presence on then off (default 2)")
    parser.add_argument("--watchers", type=int, help="watchers of the fan-out (default 1,000)")
    parser.add_argument("--interval", type=float, help="seconds between the fan-out's comments (default 0.2)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.storms:
        sizes = replace(sizes, storms=tuple(args.storms))
    if args.listed is not None:
        sizes = replace(sizes, listed=args.listed)
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    if args.watchers:
        sizes = replace(sizes, watchers=args.watchers)
    if args.interval:
        sizes = replace(sizes, interval=args.interval)
    OUT.mkdir(exist_ok=True)
    report: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "quick": args.quick, "sizes": asdict(sizes)}
    started = time.monotonic()
    if args.only in (None, "storm"):
        report["storms"] = storms(sizes)
    if args.only in (None, "fanout"):
        report["fanout"] = fanouts(sizes)
    report["ratios"] = ratios(report)
    report["seconds"] = round(time.monotonic() - started)
    out = OUT / ("presence.json" if args.only is None else f"presence-{args.only}.json")
    out.write_text(json.dumps(report, indent=1))
    for name, value in report["ratios"].items():
        print(f"ratio {name} (presence on ÷ off): {value:.2f}×")
    print(f"wrote {out} in {report['seconds']} s")


if __name__ == "__main__":
    main()
