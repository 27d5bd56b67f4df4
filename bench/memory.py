"""
Where the memory of an idle connection goes (issue 17): tracemalloc by package,
file and line, per connection, on one daphne process.

    python -m bench.memory                           # every endpoint, 500 then 2,000 connections (make bench-memory)
    python -m bench.memory --only notifications --base 200 --connections 500
    python -m bench.memory --analyse DIR             # the report again, from the probes of a kept run (BENCH_KEEP=1)

For each endpoint, a fresh daphne process on the project's application (the
in-memory channel layer; PostgreSQL, or `--database sqlite`; `--redis` for the
Redis layer) runs under a probe (bench/support/memprobe.py) that starts
tracemalloc (25 frames) on SIGUSR1 and, on SIGUSR2, writes a snapshot from a
fork of the process. BASE idle connections open (each its own user and token,
every heartbeat answered; HEARTBEAT_INTERVAL is short, so that the timers are
live) and are held past one heartbeat, untraced (a traced server is several
times slower). Then tracing starts; after one more heartbeat and its timeout
(by then every object the BASE connections re-create per ping, their timers
and futures, has been made again under tracing) the probe takes snapshot 0;
CONNECTIONS more open, are held past one heartbeat too, and it takes snapshot
1. The difference of the two snapshots divided by the connections opened in
between (the new descriptors of the server) is the memory per connection,
grouped:

- by package, twice: by the innermost Python frame of each allocation (where it
  is made: asyncio's `create_task` for a task) and by the first frame outside
  the standard library (who asked for it: the line that created the task);
- by line, the top ones, with the source line and the main caller;
- by type of the live objects (gc), counted per connection, with a look inside
  one instance of each class that has one per connection or more.

A second process per endpoint, without tracemalloc and on the same timeline,
gives the honest growth of resident memory per connection over the same
interval (tracemalloc's own tables weigh about as much as what it traces). A
table that grows with the connections (daphne's, the hub's) counts fully in
the traced figure, its old copy having been made before tracing started: a few
bytes per connection. Endpoints: `notifications` (per feed),
`topics` (`/ws/` subscribed to `notifications`), `echo` (no token, no
heartbeat), `idle` (plain daphne, bench/anchors/idle.py: daphne, Twisted and
autobahn by themselves) and `sse` (a Server-Sent Events stream following
`notifications`, its bearer token in a header: bench/clients/sse_crowd.py). The
default is every endpoint but `sse`. Results: bench/out/memory.json and bench/out/memory.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import linecache
import signal
import sys
import sysconfig
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench import sse
from bench.support import crowds, servers
from bench.support import environment as env

OUT = Path(__file__).resolve().parent / "out"
SQLITE_FILE = "/tmp/realtime-bench-memory.sqlite3"
PROJECT_APP = "project.asgi:application"
CLIENT_PROCESSES = 2
SETTLE_SECONDS = 2.0  # after the server starts
PROBE_TIMEOUT = 900.0  # seconds a snapshot may take to be written
# daphne's deadline for a handshake (default 5 s), longer: a traced server takes longer than that to accept.
CONNECT_TIMEOUT = 60
READY_TIMEOUT = 1800.0  # seconds a crowd may take to open: a traced server handshakes a few a second
FRAMES = 25
# Handshakes in flight per client process: a traced server is several times slower, and a handshake that
# daphne has not seen accepted within 5 s is dropped.
HANDSHAKES_IN_FLIGHT = {True: 5, False: 25}
# A database of its own: the other benchmarks (and other checkouts' runs) recreate the default one.
DATABASE_URL = urlparse(env.DATABASE_URL)._replace(path="/realtime_bench_memory").geturl()
PROJECT_PACKAGES = ("realtime", "notifications", "comments", "project")
SPECIMEN_ATTRIBUTES = 14  # listed in the report, largest first

STDLIB = sysconfig.get_paths()["stdlib"].rstrip("/") + "/"
SITE_PACKAGES = sorted({sysconfig.get_paths()[key].rstrip("/") + "/" for key in ("purelib", "platlib")})
PROJECT = str(servers.ROOT).rstrip("/") + "/"
UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class Endpoint:
    name: str
    title: str
    path: str  # "{token}" stands for the connection's token
    app: str = PROJECT_APP
    subscribe: tuple[str, ...] = ()  # topics: subscribed on /ws/, or listed in a stream's path
    stream: bool = False  # a Server-Sent Events stream (bench/clients/sse_crowd.py), the token in a header

    @property
    def authenticated(self) -> bool:
        return self.stream or "{token}" in self.path


ENDPOINTS = {
    endpoint.name: endpoint
    for endpoint in (
        Endpoint("notifications", "`/ws/notifications` (per feed)", "/ws/notifications?token={token}"),
        Endpoint("topics", "`/ws/` following `notifications`", "/ws/?token={token}", subscribe=("notifications",)),
        Endpoint("echo", "`/ws/echo` (no token, no heartbeat)", "/ws/echo"),
        Endpoint("idle", "plain daphne (`bench/anchors/idle.py`)", "/ws/idle", app="bench.anchors.idle:application"),
        Endpoint(
            "sse",
            "SSE stream following `notifications`",
            "/realtime/sse?topic=notifications",
            subscribe=("notifications",),
            stream=True,
        ),
    )
}


@dataclass(frozen=True)
class Options:
    base: int
    connections: int
    heartbeat: float
    timeout: float
    hold: float
    frames: int
    database_url: str
    redis: bool
    rss_run: bool
    top: int


@dataclass
class Reading:
    """The server at one instant: its resident memory, its descriptors, the probe's snapshot number (or None)."""

    rss_kib: int
    descriptors: int
    snapshot: int | None = None


@dataclass
class Run:
    endpoint: str
    traced: bool
    readings: list[Reading] = field(default_factory=list)
    clients: dict[str, Any] = field(default_factory=dict)
    server_exceptions: int = 0

    @property
    def server_name(self) -> str:
        return f"{self.endpoint}-{'traced' if self.traced else 'untraced'}"

    @property
    def held(self) -> int:
        """Connections opened between the two readings: the server's new descriptors."""
        return self.readings[1].descriptors - self.readings[0].descriptors

    @property
    def rss_per_connection(self) -> float:
        return 1024 * (self.readings[1].rss_kib - self.readings[0].rss_kib) / max(self.held, 1)


# --- Running the servers -----------------------------------------------------------


def start_probed(name: str, endpoint: Endpoint, environment: dict[str, str], work: Path, frames: int) -> servers.Server:
    """daphne on `endpoint.app` under the probe, with tracemalloc keeping `frames` frames (0: off)."""
    port = servers.free_port()
    command = [
        sys.executable, "-m", "bench.support.memprobe", str(work / name), str(frames),
        "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=4096", "--access-log", "/dev/null",
        "--websocket_connect_timeout", str(CONNECT_TIMEOUT), endpoint.app,
    ]  # fmt: skip
    return servers.start(name, command, port, environment, work)


def read(server: servers.Server, work: Path, snapshot: int | None) -> Reading:
    """Read the server's memory, then (with `snapshot`) have the probe write that snapshot and wait for it."""
    reading = Reading(server.rss_kib(), server.open_descriptors(), snapshot)
    if snapshot is None:
        return reading
    server.process.send_signal(signal.SIGUSR2)
    done = work / server.name / f"{snapshot}.done"
    deadline = time.monotonic() + PROBE_TIMEOUT
    while not done.exists():
        if time.monotonic() > deadline or not server.alive():
            raise RuntimeError(f"{server.name}: snapshot {snapshot} not written; see {server.log_path}")
        time.sleep(0.2)
    return reading


def measure(endpoint: Endpoint, options: Options, tokens: list[str], work: Path, *, traced: bool) -> Run:
    run = Run(endpoint.name, traced)
    name = run.server_name
    environment = env.server_env(
        options.database_url,
        redis=options.redis,
        HEARTBEAT_INTERVAL=f"{options.heartbeat:g}",
        HEARTBEAT_TIMEOUT=f"{options.timeout:g}",
        # The feed checks read every open feed's mark each second: under tracing that query alone holds up
        # the handshakes behind it in the database thread. Less often, the connections hold the same.
        FEED_CHECK_INTERVAL="60",
    )
    if options.redis:
        environment["DJANGO_SETTINGS_MODULE"] = "bench.settings.prefixed"
    total = options.base + options.connections
    urls = [f"{endpoint.path.format(token=token)}" for token in tokens[:total]]
    if not endpoint.authenticated:
        urls = [endpoint.path] * total
    server = start_probed(name, endpoint, environment, work, options.frames if traced else 0)
    started: list[crowds.Crowds] = []
    try:
        time.sleep(SETTLE_SECONDS)
        for phase, share in enumerate((urls[: options.base], urls[options.base :])):
            if endpoint.stream:
                tokens_of = tokens[: options.base] if phase == 0 else tokens[options.base : total]
                started.append(
                    sse.start_streams(
                        work,
                        [(server.port, endpoint.path, token) for token in tokens_of],
                        name=f"{name}-{phase}",
                        processes=CLIENT_PROCESSES,
                        topics=len(endpoint.subscribe),
                        record_types=[],
                        deadline=3600,
                        concurrency=HANDSHAKES_IN_FLIGHT[traced],
                        ready_timeout=READY_TIMEOUT,
                    )
                )
            else:
                started.append(
                    crowds.start(
                        work,
                        [server.ws_url + url for url in share],
                        name=f"{name}-{phase}",
                        processes=CLIENT_PROCESSES,
                        record_types=[],
                        deadline=3600,
                        subscribe=list(endpoint.subscribe),
                        concurrency=HANDSHAKES_IN_FLIGHT[traced],
                        ready_timeout=READY_TIMEOUT,
                    )
                )
            time.sleep(options.hold)
            if phase == 0:  # trace from now on; wait until the base connections made their objects again
                if traced:
                    server.process.send_signal(signal.SIGUSR1)
                time.sleep(options.heartbeat + options.timeout + SETTLE_SECONDS)
            run.readings.append(read(server, work, phase if traced else None))
    finally:
        for crowd in started:
            crowd.stop_when_done(grace=0)
        server.stop()
    results = [result for crowd in started for result in crowd.results()]
    run.clients = {
        "opened": sum(r["connected"] for r in results),
        "failures": crowds.merge_counts(r["failures"] for r in results),
        "closed_by_server": crowds.merge_counts(r["closes"] for r in results),
        "pings_answered": sum(r["pongs"] for r in results),
    }
    run.server_exceptions = env.exceptions_in(server.log_path)
    print(
        f"  {name}: {run.held} connections held between the readings, "
        f"{run.rss_per_connection:,.0f} B of resident memory each; clients {run.clients}",
        flush=True,
    )
    return run


# --- Reading the snapshots ---------------------------------------------------------

Frame = tuple[str, int]


@functools.cache
def where(filename: str) -> tuple[str, str, bool]:
    """A file's package (the group it counts in), its short name, and whether it is the standard library's."""
    for site in SITE_PACKAGES:
        if filename.startswith(site):
            short = filename[len(site) :]
            return short.split("/", 1)[0].removesuffix(".py"), short, False
    if filename.startswith(PROJECT):
        short = filename[len(PROJECT) :]
        parts = short.split("/")
        package = "/".join(parts[:2]) if parts[0] == "realtime" else parts[0]
        return package.removesuffix(".py"), short, False
    if filename.startswith(STDLIB):
        short = filename[len(STDLIB) :]
        top = short.split("/", 1)[0].removesuffix(".py")
        return ("asyncio" if top == "asyncio" else f"stdlib: {top}"), short, True
    if filename.startswith("<frozen"):
        return "stdlib: frozen", filename, True
    return UNKNOWN, filename, filename == UNKNOWN


def is_project(frame: Frame) -> bool:
    return where(frame[0])[0].split("/")[0] in PROJECT_PACKAGES


@dataclass
class Tallies:
    """Bytes and blocks of one snapshot, grouped every way the report shows."""

    total: int = 0
    blocks: int = 0
    groups: dict[str, Counter[Any]] = field(default_factory=dict)

    def add(self, grouping: str, key: Any, size: int) -> None:
        self.groups.setdefault(grouping, Counter())[key] += size
        self.groups.setdefault(grouping + " blocks", Counter())[key] += 1


def keys_of(frames: tuple[Frame, ...]) -> dict[str, Any]:
    """
    The groups of one traceback (frames most recent first, as tracemalloc stores them): its innermost frame
    (where the allocation is made), the first frame outside the stdlib (who asked for it), the first of the
    project's code (why), and the packages of the first two.
    """
    if not frames:
        frames = ((UNKNOWN, 0),)
    inner = frames[0]
    caller = next((frame for frame in frames if not where(frame[0])[2]), inner)
    ours = next((frame for frame in frames if is_project(frame)), None)
    return {
        "package": where(inner[0])[0],
        "caller package": where(caller[0])[0],
        "line": inner,
        "caller line": caller,
        "line and callers": (inner, caller, ours),
        "project line": ours or ("(server only)", 0),
        "stack": "the project's code on the stack" if ours else "server only (daphne, Twisted, autobahn, asyncio)",
    }


def tally(path: Path) -> Tallies:
    import tracemalloc

    snapshot = tracemalloc.Snapshot.load(str(path))
    raw: list[tuple[Any, ...]] = getattr(snapshot.traces, "_traces")  # noqa: B009  [(domain, size, frames, n)]
    cache: dict[tuple[Frame, ...], dict[str, Any]] = {}
    tallies = Tallies()
    for trace in raw:
        size, frames = trace[1], trace[2]
        keys = cache.get(frames)
        if keys is None:
            keys = cache[frames] = keys_of(frames)
        tallies.total += size
        tallies.blocks += 1
        for grouping, key in keys.items():
            tallies.add(grouping, key, size)
    return tallies


def line_text(frame: Frame) -> str:
    text = linecache.getline(frame[0], frame[1]).strip()
    return text if len(text) <= 90 else text[:87] + "..."


def frame_name(frame: Frame | None, unless: Frame | None = None) -> str:
    """`package/file.py:line`; empty for None or for `unless` (a frame already shown)."""
    if frame is None or frame == unless:
        return ""
    return f"{where(frame[0])[1]}:{frame[1]}"


def analyse(directory: Path, run: Run, top: int) -> dict[str, Any]:
    """The difference of the probe's two snapshots, per connection opened between them."""
    held = max(run.held, 1)
    probes = [json.loads((directory / f"{n}.json").read_text()) for n in (0, 1)]
    before, after = tally(directory / "0.tracemalloc"), tally(directory / "1.tracemalloc")

    def per_connection(grouping: str) -> list[tuple[Any, float, float]]:
        """(key, bytes, blocks) per connection, largest growth first."""
        grown = Counter(after.groups[grouping])
        grown.subtract(before.groups[grouping])
        blocks = Counter(after.groups[grouping + " blocks"])
        blocks.subtract(before.groups[grouping + " blocks"])
        rows = [(key, size / held, blocks[key] / held) for key, size in grown.items()]
        return sorted(rows, key=lambda row: -abs(row[1]))

    # For each line, the callers that account for most of its growth.
    callers_of: dict[Frame, tuple[Frame, Frame | None]] = {}
    project_frame_of: dict[Frame, Frame | None] = {}
    for (inner, caller, ours), size, _ in per_connection("line and callers"):
        if size > 0:
            callers_of.setdefault(inner, (caller, ours))
            project_frame_of.setdefault(caller, ours)
    lines = []
    for key, size, blocks in per_connection("line")[:top]:
        caller, ours = callers_of.get(key, (key, None))
        lines.append(
            {
                "line": frame_name(key),
                "bytes": round(size),
                "blocks": round(blocks, 2),
                "source": line_text(key),
                "caller": frame_name(caller, key),
                "project": frame_name(ours, caller),
            }
        )
    callers = [
        {
            "line": frame_name(key),
            "bytes": round(size),
            "blocks": round(blocks, 2),
            "source": line_text(key),
            "project": frame_name(project_frame_of.get(key), key),
        }
        for key, size, blocks in per_connection("caller line")[:top]
    ]
    project_lines = [
        {
            "line": frame_name(key) if key[1] else key[0],
            "bytes": round(size),
            "blocks": round(blocks, 2),
            "source": line_text(key) if key[1] else "",
        }
        for key, size, blocks in per_connection("project line")[:top]
    ]
    inner_packages = {key: size for key, size, _ in per_connection("package")}
    caller_packages = {key: size for key, size, _ in per_connection("caller package")}
    packages = [
        {"package": key, "bytes": round(inner_packages.get(key, 0)), "asked_for": round(caller_packages.get(key, 0))}
        for key in sorted(set(inner_packages) | set(caller_packages), key=lambda k: -inner_packages.get(k, 0))
    ]
    types_before, types_after = probes[0]["types"], probes[1]["types"]
    objects = []
    for name, (count, shallow) in types_after.items():
        count_before, shallow_before = types_before.get(name, (0, 0))
        grown, grown_bytes = (count - count_before) / held, (shallow - shallow_before) / held
        if grown >= 0.05:
            objects.append({"type": name, "count": round(grown, 2), "bytes": round(grown_bytes)})
    objects.sort(key=lambda row: -row["bytes"])
    one_per_connection = {row["type"] for row in objects if row["count"] >= 0.9}
    specimens = {
        name: found
        for name, found in probes[1]["specimens"].items()
        if name in one_per_connection and found.get("attributes")
    }
    return {
        "traced": round((after.total - before.total) / held),
        "traced_blocks": round((after.blocks - before.blocks) / held, 1),
        "tracemalloc_overhead": round((probes[1]["tracemalloc_overhead"] - probes[0]["tracemalloc_overhead"]) / held),
        "stack": {key: round(size) for key, size, _ in per_connection("stack")},
        "packages": packages,
        "lines": lines,
        "callers": callers,
        "project_lines": project_lines,
        "objects": objects[:top],
        "specimens": specimens,
    }


# --- The report ----------------------------------------------------------------------


def kib(value: float) -> str:
    return f"{value / 1024:,.1f} KiB"


def render(report: dict[str, Any]) -> str:
    options = report["options"]
    out = [
        f"# Memory per connection, where it goes ({report['date']})",
        "",
        f"`python -m bench.memory` (`make bench-memory`): {options['base']:,} connections, then "
        f"{options['connections']:,} more, each held {options['hold']:g} s (HEARTBEAT_INTERVAL "
        f"{options['heartbeat']:g} s), tracemalloc with {options['frames']} frames; figures per connection "
        "of the second group.",
        "",
        "| endpoint | resident, tracemalloc off | resident, on | traced | tracemalloc's tables | blocks "
        "| held | pings answered | failures / closes / exceptions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, measured in report["endpoints"].items():
        traced, untraced, figures = measured.get("traced"), measured.get("untraced"), measured.get("analysis", {})
        cells = [
            ENDPOINTS[name].title,
            kib(untraced["rss_per_connection"]) if untraced else "—",
            kib(traced["rss_per_connection"]) if traced else "—",
            kib(figures.get("traced", 0)),
            kib(figures.get("tracemalloc_overhead", 0)),
            str(figures.get("traced_blocks", "—")),
            f"{traced['held']:,}" if traced else "—",
            f"{traced['clients']['pings_answered']:,}" if traced else "—",
            _troubles(traced, untraced),
        ]
        out.append("| " + " | ".join(cells) + " |")
    analysed = {name: measured["analysis"] for name, measured in report["endpoints"].items() if "analysis" in measured}
    if not analysed:
        return "\n".join(out) + "\n"
    names = list(analysed)
    out += [
        "",
        "## By package",
        "",
        "Bytes per connection: where allocated (innermost frame) / who asked (first frame outside the stdlib).",
        "",
        "| package | " + " | ".join(ENDPOINTS[name].title for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    rows: dict[str, dict[str, tuple[int, int]]] = {}
    for name, figures in analysed.items():
        for row in figures["packages"]:
            rows.setdefault(row["package"], {})[name] = (row["bytes"], row["asked_for"])
    for package in sorted(rows, key=lambda package: -max(abs(a) + abs(b) for a, b in rows[package].values())):
        pairs = [rows[package].get(name, (0, 0)) for name in names]
        if all(abs(a) < 16 and abs(b) < 16 for a, b in pairs):
            continue
        out.append(f"| {package} | " + " | ".join(f"{a:,} / {b:,}" for a, b in pairs) + " |")
    out.append("| **total traced** | " + " | ".join(f"**{analysed[name]['traced']:,}**" for name in names) + " |")
    for name, figures in analysed.items():
        out += _endpoint_section(name, figures)
    return "\n".join(out) + "\n"


def _troubles(*runs: dict[str, Any] | None) -> str:
    found = []
    for run in runs:
        if run is None:
            continue
        clients = run["clients"]
        failures, closes = sum(clients["failures"].values()), sum(clients["closed_by_server"].values())
        if failures or closes or run["server_exceptions"]:
            mode = "on" if run["traced"] else "off"
            found.append(f"{failures} / {closes} / {run['server_exceptions']} ({mode})")
    return "; ".join(found) or "none"


def _endpoint_section(name: str, figures: dict[str, Any]) -> list[str]:
    out = ["", f"## {ENDPOINTS[name].title}", ""]
    out += [f"- {key}: {value:,} B" for key, value in figures["stack"].items()]
    out += [
        "",
        "Top lines (innermost frame), with their main caller outside the stdlib and in the project:",
        "",
        "| bytes | blocks | line | source | caller | project's frame |",
        "|---|---|---|---|---|---|",
    ]
    for row in figures["lines"]:
        source = _cell(row["source"])
        cells = [f"{row['bytes']:,}", str(row["blocks"]), row["line"], f"`{source}`", row["caller"], row["project"]]
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Top lines (first frame outside the stdlib):",
        "",
        "| bytes | blocks | line | source | project's frame |",
        "|---|---|---|---|---|",
    ]
    for row in figures["callers"]:
        cells = [f"{row['bytes']:,}", str(row["blocks"]), row["line"], f"`{_cell(row['source'])}`", row["project"]]
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Top lines of the project's code on the stack (its first frame: what the project asked for):",
        "",
        "| bytes | blocks | line | source |",
        "|---|---|---|---|",
    ]
    for row in figures.get("project_lines", []):
        out.append(f"| {row['bytes']:,} | {row['blocks']} | {row['line']} | `{_cell(row['source'])}` |")
    out += ["", "Live objects (gc) per connection:", "", "| type | count | shallow bytes |", "|---|---|---|"]
    out += [f"| {row['type']} | {row['count']} | {row['bytes']:,} |" for row in figures["objects"]]
    out += ["", "Inside one instance of each class with one per connection or more (bytes each attribute holds,"]
    out += ["builtin containers followed, other objects shallow):", ""]
    for kind, specimen in figures["specimens"].items():
        listed = []
        for attribute in specimen["listed"][:SPECIMEN_ATTRIBUTES]:
            keys = attribute.get("keys")
            inside = f" [{', '.join(f'{key} {size}' for key, _, size in keys[:8])}]" if keys else ""
            listed.append(f"{attribute['name']} {attribute['bytes']}{inside}")
        holders = f" (held by {', '.join(specimen['held_by'])})" if specimen.get("held_by") else ""
        out.append(
            f"- `{kind}`{holders}: {specimen['attributes']} attributes, object {specimen['shallow']} B, "
            f"`__dict__` {specimen['dict']} B: " + "; ".join(listed)
        )
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


# --- Main ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--only",
        default=",".join(name for name in ENDPOINTS if name != "sse"),
        help="endpoints, comma-separated: " + ",".join(ENDPOINTS),
    )
    parser.add_argument("--base", type=int, default=500, help="connections opened before the first snapshot")
    parser.add_argument("--connections", type=int, default=2000, help="connections opened between the snapshots")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="HEARTBEAT_INTERVAL (HEARTBEAT_TIMEOUT: 5 s)")
    parser.add_argument("--hold", type=float, default=None, help="seconds each group is held (default: 1.6 heartbeats)")
    parser.add_argument("--frames", type=int, default=FRAMES, help="frames tracemalloc keeps per allocation")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--redis", action="store_true", help="the Redis channel layer (BENCH_REDIS_URL)")
    parser.add_argument("--no-rss-run", action="store_true", help="skip the runs without tracemalloc")
    parser.add_argument("--top", type=int, default=40, help="lines and types listed")
    parser.add_argument("--analyse", type=Path, help="report again from a kept run's directory (BENCH_KEEP=1)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.analyse:
        _write(reanalyse(args.analyse, args.top))
        return
    options = Options(
        base=args.base,
        connections=args.connections,
        heartbeat=args.heartbeat,
        timeout=min(args.heartbeat, 5.0),
        hold=args.hold if args.hold is not None else round(1.6 * args.heartbeat, 1),
        frames=args.frames,
        database_url=f"sqlite:///{SQLITE_FILE}" if args.database == "sqlite" else DATABASE_URL,
        redis=args.redis,
        rss_run=not args.no_rss_run,
        top=args.top,
    )
    endpoints = [ENDPOINTS[name] for name in args.only.split(",")]
    started = time.monotonic()
    seed = env.fresh_database(options.database_url, users=options.base + options.connections)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "options": {**asdict(options), "database_url": args.database},
        "endpoints": {},
    }
    with env.workdir() as work:
        for endpoint in endpoints:
            print(f"{endpoint.name}:", flush=True)
            measured: dict[str, Any] = {}
            for traced in (True, False) if options.rss_run else (True,):
                run = measure(endpoint, options, seed.tokens, work, traced=traced)
                measured["traced" if traced else "untraced"] = _as_json(run)
                if traced:
                    measured["analysis"] = analyse(work / run.server_name, run, options.top)
            report["endpoints"][endpoint.name] = measured
        report["seconds"] = round(time.monotonic() - started)
        (work / "memory.json").write_text(json.dumps(report, indent=1))
    _write(report)


def reanalyse(directory: Path, top: int) -> dict[str, Any]:
    """The report of a kept run, its snapshots read again."""
    report: dict[str, Any] = json.loads((directory / "memory.json").read_text())
    for name, measured in report["endpoints"].items():
        if measured.get("traced"):
            run = Run(name, True, [Reading(**reading) for reading in measured["traced"]["readings"]])
            measured["analysis"] = analyse(directory / run.server_name, run, top)
    return report


def _as_json(run: Run) -> dict[str, Any]:
    return {**asdict(run), "held": run.held, "rss_per_connection": round(run.rss_per_connection)}


def _write(report: dict[str, Any]) -> None:
    (OUT / "memory.json").write_text(json.dumps(report, indent=1))
    (OUT / "memory.md").write_text(render(report))
    print(f"wrote {OUT / 'memory.json'} and {OUT / 'memory.md'} ({report.get('seconds', '?')} s)")


if __name__ == "__main__":
    main()
