"""
Turn bench/out/perf.json into the performance section of RESULTS.md and the
round-trip latency plot (bench/rtt-latency.png).

    python -m bench.report

Only the part of RESULTS.md between the `performance` markers is rewritten;
the rest (scale-out results, analysis) is left as it is.

    python -m bench.report --servers     # the project's four servers side by side, printed (no file written)
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.support.stats import fmt_spread

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PLOT = HERE / "rtt-latency.png"
START, END = "<!-- performance:start -->", "<!-- performance:end -->"
SERVER_NAMES = {
    "A": "A: this project on daphne",
    "B": "B: naive Channels port on daphne",
    "C": "C: the seed (FastAPI) on uvicorn",
    "D": "D: this project on uvicorn",
    "H": "H: this project on hypercorn",
    "G": "G: this project on granian",
}
PACKAGES = [
    "Django", "channels", "daphne", "Twisted", "autobahn", "channels-redis", "redis", "uvicorn", "hypercorn",
    "granian", "fastapi", "starlette", "websockets", "psycopg",
]  # fmt: skip


def figures(rounds: list[dict[str, Any]], key: str, field: str = "per_second") -> list[float]:
    return [round_[key][field] for round_ in rounds if key in round_]


def ratio(rounds: list[dict[str, Any]], top: str, bottom: str, field: str = "per_second") -> list[float]:
    return [r[top][field] / r[bottom][field] for r in rounds if top in r and bottom in r]


def cell(values: list[float], digits: int = 0, unit: str = "") -> str:
    """Median (min–max), the unit after each number."""
    return fmt_spread(values, digits, unit) if values else "—"


def verdict(values: list[float], target: float, *, at_most: bool = False) -> str:
    if not values:
        return "not measured"
    median = statistics.median(values)
    met = median <= target if at_most else median >= target
    return f"{median:.2f}× {'✓' if met else '✗ (missed)'}"


def machine() -> str:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    redis_version = _command(["redis-server", "--version"]).split(" v=")[-1].split(" ")[0]
    postgres_version = _command(["psql", "--version"]).split()[-3] if _command(["psql", "--version"]) else "?"
    return (
        f"{os.cpu_count()} cores, {memory_gib:.0f} GiB, Linux {platform.release()}; "
        f"Python {platform.python_version()}; {versions}; Redis {redis_version}, PostgreSQL {postgres_version}."
    )


def _command(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""


def render(report: dict[str, Any]) -> str:
    lines = [
        START,
        f"## Performance: four servers, one run ({report['date']})",
        "",
        f"Machine: {machine()}",
        "",
        f"`make bench` (`python -m bench.perf` then `python -m bench.report`), {report['rounds']} round(s) of "
        "scenarios 1–5, then the fan-outs, the memory breakdown and the hold once each; every figure of a "
        f"scenario in rounds is the median over rounds, with min–max. Whole run: {report['seconds'] // 60} min.",
        "",
    ]
    lines += _round_trips(report.get("rtt", []))
    lines += _handshakes(report.get("handshakes", []))
    lines += _writes(report.get("writes", []))
    lines += _pushes(report.get("pushes", []))
    lines += _memory(report.get("memory", []))
    lines += _fanout(report.get("fanout"))
    lines += _topics_memory(report.get("topics_memory"))
    lines += _breakdown(report.get("breakdown"))
    lines += _hold(report.get("hold"))
    lines += _targets(report)
    lines += _goals(report)
    lines.append(END)
    return "\n".join(lines)


def _round_trips(rounds: list[dict[str, Any]]) -> list[str]:
    if not rounds:
        return []
    lines = [
        "### Round trips per second (scenario 1)",
        "",
        "Each connection sends a message and waits for its answer, again and again; clients in two processes.",
        "",
        "| endpoint, connections | A | B | C | D | A / B | D / C |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in ("echo", "json"):
        for connections in (20, 200):
            case = f"{kind} {connections}"
            row = [cell(figures(rounds, f"{name} {case}")) for name in "ABCD"]
            lines.append(
                f"| /ws/{case} | {' | '.join(row)} | {cell(ratio(rounds, f'A {case}', f'B {case}'), 2, '×')} "
                f"| {cell(ratio(rounds, f'D {case}', f'C {case}'), 2, '×')} |"
            )
    lines += ["", "Round-trip latency, median over rounds of each round's p50 / p99, in ms:", ""]
    lines += ["| endpoint, connections | A | B | C | D |", "|---|---|---|---|---|"]
    for kind in ("echo", "json"):
        for connections in (20, 200):
            case = f"{kind} {connections}"
            row = [
                f"{statistics.median(figures(rounds, f'{n} {case}', 'p50_ms')):.2f} / "
                f"{statistics.median(figures(rounds, f'{n} {case}', 'p99_ms')):.2f}"
                if figures(rounds, f"{n} {case}", "p50_ms")
                else "—"
                for n in "ABCD"
            ]
            lines.append(f"| /ws/{case} | {' | '.join(row)} |")
    wrong = sum(v["wrong_answers"] for r in rounds for v in r.values())
    lines += ["", f"Wrong answers: {wrong}. Distributions: ![round-trip latency](rtt-latency.png)", ""]
    return lines


def _handshakes(rounds: list[dict[str, Any]]) -> list[str]:
    if not rounds:
        return []
    failures = sum(sum(v["failures"].values()) for r in rounds for v in r.values())
    return [
        "### Authenticated handshakes per second (scenario 2)",
        "",
        "Open `/ws/notifications?token=…` (token check and user lookup included) and close, 20 at a time, "
        "PostgreSQL. C is left out: the seed's endpoint looks no user up.",
        "",
        "| A | B | D | A / B |",
        "|---|---|---|---|",
        f"| {cell(figures(rounds, 'A'))} | {cell(figures(rounds, 'B'))} | {cell(figures(rounds, 'D'))} "
        f"| {cell(ratio(rounds, 'A', 'B'), 2, '×')} |",
        "",
        f"Failed handshakes: {failures}.",
        "",
    ]


def _writes(rounds: list[dict[str, Any]]) -> list[str]:
    if not rounds:
        return []
    lines = [
        "### Comment writes per second, 50 writers on one post (scenario 3)",
        "",
        "Each writer sends a comment, waits for its acknowledgement, and sends the next; every writer also "
        "watches the post, and the clock stops at the last broadcast received.",
        "",
        "| database | A | B | A / B | acked and in the database (A, B) | broadcasts delivered (A, B) |",
        "|---|---|---|---|---|---|",
    ]
    for database in ("sqlite", "postgres"):
        a, b = f"A {database}", f"B {database}"
        last = rounds[-1]
        lines.append(
            f"| {database} | {cell(figures(rounds, a))} | {cell(figures(rounds, b))} "
            f"| {cell(ratio(rounds, a, b), 2, '×')} "
            f"| {last[a]['rows']:,}/{last[a]['expected']:,}, {last[b]['rows']:,}/{last[b]['expected']:,} "
            f"| {last[a]['broadcasts']:,}/{last[a]['broadcasts_expected']:,}, "
            f"{last[b]['broadcasts']:,}/{last[b]['broadcasts_expected']:,} |"
        )
    return [*lines, ""]


def _pushes(rounds: list[dict[str, Any]]) -> list[str]:
    if not rounds:
        return []
    last = rounds[-1]
    return [
        "### Notification pushes per second to 1,000 connected users (scenario 4)",
        "",
        "A publisher sends 10 notification events per user through Redis, as `notify_user` does after its commit; "
        "the clock runs from the first publish to the last notification received.",
        "",
        "| A | B | A / B | delivered (A, B) |",
        "|---|---|---|---|",
        f"| {cell(figures(rounds, 'A'))} | {cell(figures(rounds, 'B'))} | {cell(ratio(rounds, 'A', 'B'), 2, '×')} "
        f"| {last['A']['delivered']:,}/{last['A']['expected']:,}, "
        f"{last['B']['delivered']:,}/{last['B']['expected']:,} |",
        "",
    ]


def _memory(rounds: list[dict[str, Any]]) -> list[str]:
    if not rounds:
        return []
    last = rounds[-1]
    names = [name for name in ("A", "B", "P") if name in last]
    return [
        "### Memory per idle authenticated connection, heartbeat on (scenario 5)",
        "",
        "10,000 `/ws/notifications` connections to one process, held past one heartbeat; the growth of the "
        "server's resident memory divided by the connections it still holds (its open file descriptors). P is "
        "plain daphne (`anchors/idle.py`, an application that only accepts): the floor.",
        "",
        f"| {' | '.join(names)} | A / B | opened ({', '.join(names)}) | held by the server at the end "
        f"({', '.join(names)}) | closed by the server ({', '.join(names)}) |",
        "|---|" + "---|" * (len(names) + 3),
        "| "
        + " | ".join(cell(figures(rounds, name, "kib_per_connection"), 1, " KiB") for name in names)
        + f" | {cell(ratio(rounds, 'A', 'B', 'kib_per_connection'), 2, '×')} "
        f"| {_each(last, names, 'connected')} | {_each(last, names, 'held')} | {_each(last, names, 'closed')} |",
        "",
    ]


def _fanout(fanouts: dict[str, Any] | None) -> list[str]:
    if not fanouts:
        return []
    lines = [
        "### Fan-out over two daphne processes (PostgreSQL, Redis)",
        "",
        "`bench/scaleout.py`'s fan-out: watchers of one post on `/ws/live-comments/<post_id>`, half on each "
        "process, four client processes; one writer posts comments at a steady rate; latency from the writer's "
        "send to each watcher's receipt.",
        "",
        "| watchers | comments, every | delivered / expected | p50 | p99 | max | closes | handshake failures "
        "| server exceptions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for watchers, run in fanouts.items():
        latency = run["latency_ms"]
        lines.append(
            f"| {int(watchers):,} | {run['comments_acked']} | {run['deliveries']:,} / {run['deliveries_expected']:,} "
            f"| {latency['p50']:.1f} ms | {latency['p99']:.1f} ms | {latency['max']:.1f} ms "
            f"| {sum(run['closes'].values())} | {sum(run['handshake_failures'].values())} "
            f"| {run['server_exceptions']} |"
        )
    return [*lines, ""]


def _topics_memory(measured: dict[str, Any] | None) -> list[str]:
    if not measured:
        return []
    lines = [
        "### Memory per idle user following their notifications and one post",
        "",
        f"`bench/topics.py`: {next(iter(measured.values()))['users']:,} users, each its own token, on one daphne "
        "process, held past one heartbeat; growth of resident memory divided by the users held.",
        "",
        "| arrangement | KiB per user | KiB per socket | sockets held | closed by the server |",
        "|---|---|---|---|---|",
    ]
    for name, run in measured.items():
        lines.append(
            f"| {name} | {run['kib_per_user']:.1f} | {run['kib_per_socket']:.1f} | {run['sockets_held']:,.0f} "
            f"| {sum(run['closed_by_server'].values())} |"
        )
    return [*lines, ""]


BREAKDOWN_NAMES = {"notifications": "`/ws/notifications`", "topics": "`/ws/` (notifications)", "idle": "plain daphne"}


def _breakdown(report: dict[str, Any] | None) -> list[str]:
    if not report:
        return []
    endpoints = report["endpoints"]
    names = [name for name in BREAKDOWN_NAMES if name in endpoints]
    options = report["options"]
    lines = [
        "### Where an idle connection's memory goes (`bench/memory.py`)",
        "",
        f"{options['base']:,} connections, then {options['connections']:,} more, per endpoint on a fresh daphne "
        "process; tracemalloc's bytes per connection of the second group, by package where allocated / who asked "
        "(the first frame outside the standard library). Resident memory from a second process without "
        "tracemalloc on the same timeline. Plain daphne is `bench/anchors/idle.py`: daphne, Twisted and autobahn "
        "with an application that only accepts. Every line and type: `bench/out/memory.md`.",
        "",
        "| | " + " | ".join(BREAKDOWN_NAMES[name] for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    untraced = [endpoints[name].get("untraced") for name in names]
    lines.append(
        "| **resident, KiB per connection** | "
        + " | ".join(f"**{run['rss_per_connection'] / 1024:.1f}**" if run else "—" for run in untraced)
        + " |"
    )
    analyses = [endpoints[name]["analysis"] for name in names]
    lines.append("| traced, bytes | " + " | ".join(f"{a['traced']:,}" for a in analyses) + " |")
    packages: dict[str, list[str]] = {}
    for column, analysis in enumerate(analyses):
        for entry in analysis["packages"]:
            row = packages.setdefault(entry["package"], ["0 / 0"] * len(names))
            row[column] = f"{entry['bytes']:,} / {entry['asked_for']:,}"
    biggest = sorted(
        packages,
        key=lambda package: (
            -max(
                (entry["bytes"] for a in analyses for entry in a["packages"] if entry["package"] == package), default=0
            )
        ),
    )
    for package in biggest[:16]:
        lines.append(f"| {package} | " + " | ".join(packages[package]) + " |")
    return [*lines, ""]


def _hold(run: dict[str, Any] | None) -> list[str]:
    if not run:
        return []
    lines = [
        f"### {run['connections']:,} idle authenticated connections on one daphne process for {run['minutes']:g} "
        "minutes",
        "",
        "`bench/hold.py`: `/ws/notifications`, each its own user, from eight loopback addresses per client process, "
        f"the heartbeat at its defaults (a ping every {run['heartbeat_interval_s']:g} s, each answered).",
        "",
    ]
    if run["connections"] < run["connections_asked"]:
        lines += [
            f"Asked for {run['connections_asked']:,}: the hard limit of open files here is "
            f"{run['open_files_hard_limit']:,} (raising it needs CAP_SYS_RESOURCE), so one process can hold "
            f"{run['connections']:,}.",
            "",
        ]
    lines += [
        "| connected | descriptors at start, end | closes before the end | handshake failures | pings answered "
        "| resident at start, after 1 min, end | growth after the first minute | KiB per connection "
        "| server exceptions, warnings |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {run['connected']:,} | {run['descriptors_at_start_and_end'][0]:,}, "
        f"{run['descriptors_at_start_and_end'][1]:,} | {sum(run['closes_before_the_end'].values())} "
        f"| {sum(run['handshake_failures'].values())} | {run['pings_answered']:,} (about "
        f"{run['pings_expected_about']:,} due) | {run['rss_mib_start']:,.0f}, "
        f"{run['rss_mib_after_first_minute']:,.0f}, "
        f"{run['rss_mib_end']:,.0f} MiB | {run['growth_after_first_minute_mib']:+.1f} MiB "
        f"| {run['kib_per_connection']:.1f} | {run['server_exceptions']}, {len(run['server_warnings'])} |",
        "",
    ]
    return lines


def _goals(report: dict[str, Any]) -> list[str]:
    """Issue 17's goals, each against what this run measured."""
    lines = ["### Goals of the performance issue", "", "| goal | measured |", "|---|---|"]

    def row(goal: str, measured: str, met: bool | None) -> None:
        mark = "" if met is None else (" ✓" if met else " ✗ (missed)")
        lines.append(f"| {goal} | {measured}{mark} |")

    memory = figures(report.get("memory", []), "A", "kib_per_connection")
    if memory:
        kib = statistics.median(memory)
        row("memory per idle authenticated connection (daphne, heartbeat on) ≤ 20 KiB", f"{kib:.1f} KiB", kib <= 20)
    topics = (report.get("topics_memory") or {}).get("/ws/")
    if topics:
        kib = topics["kib_per_user"]
        row("memory per `/ws/` connection following notifications and one post ≤ 20 KiB", f"{kib:.1f} KiB", kib <= 20)
    floor = figures(report.get("memory", []), "P", "kib_per_connection")
    if floor:
        row("(the floor: plain daphne, an application that only accepts)", f"{statistics.median(floor):.1f} KiB", None)
    hold = report.get("hold")
    if hold:
        dropped = sum(hold["closes_before_the_end"].values()) + sum(hold["handshake_failures"].values())
        errors = hold["server_exceptions"]
        row(
            f"{hold['connections_asked']:,} connections on one process for {hold['minutes']:g} min: 0 dropped, "
            "0 errors, flat memory after the first minute",
            f"{hold['connected']:,} held, {dropped} dropped, {errors} errors, "
            f"{hold['growth_after_first_minute_mib']:+.1f} MiB after the first minute",
            hold["connected"] == hold["connections_asked"] and dropped == 0 and errors == 0,
        )
    rtt = report.get("rtt", [])
    for case in ("echo 20", "echo 200", "json 20", "json 200"):
        values = ratio(rtt, f"A {case}", f"B {case}")
        if values:
            median = statistics.median(values)
            row(f"round trips {case}: A ≥ 4 × B (stock Channels)", f"{median:.2f}×", median >= 4)
    for case in ("echo 20", "echo 200", "json 20", "json 200"):
        values = ratio(rtt, f"D {case}", f"C {case}")
        if values:
            median = statistics.median(values)
            row(f"round trips {case}: D ≥ 1.1 × C (the seed on uvicorn)", f"{median:.2f}×", median >= 1.1)
    fanouts = report.get("fanout") or {}
    for watchers, bound in (("1000", 50.0), ("10000", 1000.0)):
        run = fanouts.get(watchers)
        if run:
            p99 = run["latency_ms"]["p99"]
            row(
                f"fan-out to {int(watchers):,} watchers over two processes: every comment delivered, "
                f"p99 ≤ {bound:g} ms",
                f"{run['lost']:,} lost, p99 {p99:.1f} ms",
                run["lost"] == 0 and p99 <= bound,
            )
    handshakes = ratio(report.get("handshakes", []), "A", "B")
    if handshakes:
        median = statistics.median(handshakes)
        row("handshakes per second: A ≥ 2 × B (stock Channels' token middleware)", f"{median:.2f}×", median >= 2)
    return [*lines, ""]


def _each(figures_: dict[str, Any], names: list[str], field: str) -> str:
    return ", ".join(f"{figures_[name][field]:,}" for name in names)


def _targets(report: dict[str, Any]) -> list[str]:
    rtt, hs = report.get("rtt", []), report.get("handshakes", [])
    writes, pushes, memory = report.get("writes", []), report.get("pushes", []), report.get("memory", [])
    lines = ["### Targets", "", "| target | measured (median) |", "|---|---|"]
    for case in ("echo 20", "echo 200", "json 20", "json 200"):
        lines.append(f"| {case}: A ≥ 2.5 × B | {verdict(ratio(rtt, f'A {case}', f'B {case}'), 2.5)} |")
    for case in ("echo 20", "echo 200", "json 20", "json 200"):
        lines.append(f"| {case}: D ≥ 1.0 × C | {verdict(ratio(rtt, f'D {case}', f'C {case}'), 1.0)} |")
    lines.append(f"| handshakes: A ahead of B | {verdict(ratio(hs, 'A', 'B'), 1.0)} |")
    for database in ("sqlite", "postgres"):
        measured = verdict(ratio(writes, f"A {database}", f"B {database}"), 1.0)
        lines.append(f"| comment writes ({database}): A ahead of B | {measured} |")
    lines.append(f"| pushes: A ahead of B | {verdict(ratio(pushes, 'A', 'B'), 1.0)} |")
    measured = verdict(ratio(memory, "A", "B", "kib_per_connection"), 1.5, at_most=True)
    lines.append(f"| memory per connection: A ≤ 1.5 × B | {measured} |")
    return [*lines, ""]


def plot(rounds: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot, ticker

    figure, axes = pyplot.subplots(2, 2, figsize=(11, 7.5), sharey=True)
    colors = {"A": "tab:blue", "B": "tab:red", "C": "tab:green", "D": "tab:purple"}
    last = rounds[-1]
    quantiles = [n / 200 for n in range(1, 200)]
    cases = [("echo", 20), ("echo", 200), ("json", 20), ("json", 200)]
    for axis, (kind, connections) in zip(axes.flat, cases, strict=True):
        for name in "ABCD":
            figures_ = last.get(f"{name} {kind} {connections}")
            if figures_:
                axis.plot(figures_["quantiles_ms"], quantiles, label=SERVER_NAMES[name], color=colors[name])
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        axis.set_title(f"/ws/{kind}, {connections} connections")
        axis.set_xlabel("round-trip latency (ms, log scale)")
        axis.grid(True, which="both", alpha=0.3)
    for axis in axes[:, 0]:
        axis.set_ylabel("fraction of round trips")
    axes.flat[0].legend(loc="lower right", fontsize=8)
    figure.suptitle("Round-trip latency distributions (last round)")
    figure.tight_layout()
    figure.savefig(PLOT, dpi=110)


PROJECT_SERVERS = ("A", "D", "H", "G")
# Each scenario's anchor (bench/README.md): round trips against B (stock Channels) and C (the seed on uvicorn),
# handshakes and memory against B, memory also against P (plain daphne, the floor); the fan-out against A.
RTT_CASES = ("echo 20", "echo 200", "json 20", "json 200")


def servers(report: dict[str, Any]) -> str:
    """The four servers side by side (`--servers`): each figure, and its ratio to the bench's anchor."""
    rtt, hs, memory = report.get("rtt", []), report.get("handshakes", []), report.get("memory", [])
    fanouts = report.get("servers_fanout") or {}
    lines = [f"Machine: {machine()}", ""]
    if rtt:
        lines += [
            "Round trips per second, median over rounds (min–max); ratios taken within each round, then the median.",
            "",
            "| server | " + " | ".join(f"/ws/{case}" for case in RTT_CASES) + " |",
            "|---|" + "---|" * len(RTT_CASES),
        ]
        for name in ("B", "C", *PROJECT_SERVERS):
            lines.append(
                f"| {SERVER_NAMES[name]} | "
                + " | ".join(cell(figures(rtt, f"{name} {case}")) for case in RTT_CASES)
                + " |"
            )
        for name in PROJECT_SERVERS:
            for anchor in ("B", "C"):
                ratios = [cell(ratio(rtt, f"{name} {case}", f"{anchor} {case}"), 2, "×") for case in RTT_CASES]
                lines.append(f"| {name} ÷ {anchor} | " + " | ".join(ratios) + " |")
        lines += ["", "Round-trip latency, median over rounds of each round's p50 / p99, ms:", ""]
        lines += ["| server | " + " | ".join(f"/ws/{case}" for case in RTT_CASES) + " |", "|---|" + "---|" * 4]
        for name in ("B", "C", *PROJECT_SERVERS):
            row = [
                f"{statistics.median(figures(rtt, f'{name} {case}', 'p50_ms')):.2f} / "
                f"{statistics.median(figures(rtt, f'{name} {case}', 'p99_ms')):.2f}"
                if figures(rtt, f"{name} {case}", "p50_ms")
                else "—"
                for case in RTT_CASES
            ]
            lines.append(f"| {name} | " + " | ".join(row) + " |")
        wrong = sum(v["wrong_answers"] for r in rtt for v in r.values())
        lines += ["", f"Wrong answers: {wrong}.", ""]
    lines += [
        "| server | handshakes/s | ÷ B | KiB per idle connection | ÷ B | ÷ P | opened / held / closed "
        "| fan-out 1,000: delivered | p50 | p99 | max | p99 ÷ A |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    a_p99 = (fanouts.get("A") or {}).get("latency_ms", {}).get("p99")
    for name in ("B", "P", *PROJECT_SERVERS):
        last = memory[-1].get(name) if memory else None
        counts = f"{last['connected']:,} / {last['held']:,} / {last['closed']:,}" if last else "—"
        run = fanouts.get(name)
        fan = "— | — | — | — | —"
        if run:
            latency = run["latency_ms"]
            against_a = f"{latency['p99'] / a_p99:.2f}×" if a_p99 else "—"
            fan = (
                f"{run['deliveries']:,} / {run['deliveries_expected']:,} | {latency['p50']:.1f} ms "
                f"| {latency['p99']:.1f} ms | {latency['max']:.1f} ms | {against_a}"
            )
        lines.append(
            f"| {SERVER_NAMES.get(name, 'P: plain daphne')} | {cell(figures(hs, name))} "
            f"| {cell(ratio(hs, name, 'B'), 2, '×')} | {cell(figures(memory, name, 'kib_per_connection'), 1)} "
            f"| {cell(ratio(memory, name, 'B', 'kib_per_connection'), 2, '×')} "
            f"| {cell(ratio(memory, name, 'P', 'kib_per_connection'), 2, '×')} | {counts} | {fan} |"
        )
    for name, run in fanouts.items():
        closes, failures = sum(run["closes"].values()), sum(run["handshake_failures"].values())
        if closes or failures or run["server_exceptions"] or run["lost"]:
            lines.append(
                f"\n{name}'s fan-out: {run['lost']:,} lost, closes {run['closes']}, handshake failures "
                f"{run['handshake_failures']}, {run['server_exceptions']} server exceptions."
            )
    return "\n".join(lines)


def main() -> None:
    import sys

    report = json.loads((HERE / "out" / "perf.json").read_text())
    if "--servers" in sys.argv[1:]:  # print the four servers side by side; RESULTS.md is left alone
        print(servers(report))
        return
    section = render(report)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if START in text:
        before, _, rest = text.partition(START)
        _, _, after = rest.partition(END)
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)
    if report.get("rtt"):
        plot(report["rtt"])
    print(f"wrote {RESULTS}" + (f" and {PLOT}" if report.get("rtt") else ""))


if __name__ == "__main__":
    main()
