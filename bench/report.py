"""
Turn bench/out/perf.json into the performance section of RESULTS.md and the
round-trip latency plot (bench/rtt-latency.png).

    python -m bench.report

Only the part of RESULTS.md between the `performance` markers is rewritten;
the rest (scale-out results, analysis) is left as it is.
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
}
PACKAGES = ["Django", "channels", "daphne", "Twisted", "autobahn", "channels-redis", "redis", "uvicorn", "fastapi",
            "starlette", "websockets", "psycopg"]  # fmt: skip


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
        f"`make bench` (`python -m bench.perf` then `python -m bench.report`), {report['rounds']} round(s); "
        f"every figure is the median over rounds, with min–max. Whole run: {report['seconds'] // 60} min.",
        "",
    ]
    lines += _round_trips(report.get("rtt", []))
    lines += _handshakes(report.get("handshakes", []))
    lines += _writes(report.get("writes", []))
    lines += _pushes(report.get("pushes", []))
    lines += _memory(report.get("memory", []))
    lines += _targets(report)
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
    return [
        "### Memory per idle authenticated connection, heartbeat on (scenario 5)",
        "",
        "10,000 `/ws/notifications` connections to one process, held past one heartbeat; the growth of the "
        "server's resident memory divided by the connections it still holds (its open file descriptors).",
        "",
        "| A | B | A / B | opened (A, B) | held by the server at the end (A, B) | closed by the server (A, B) |",
        "|---|---|---|---|---|---|",
        f"| {cell(figures(rounds, 'A', 'kib_per_connection'), 1, ' KiB')} "
        f"| {cell(figures(rounds, 'B', 'kib_per_connection'), 1, ' KiB')} "
        f"| {cell(ratio(rounds, 'A', 'B', 'kib_per_connection'), 2, '×')} "
        f"| {last['A']['connected']:,}, {last['B']['connected']:,} | {last['A']['held']:,}, {last['B']['held']:,} "
        f"| {last['A']['closed']:,}, {last['B']['closed']:,} |",
        "",
    ]


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


def main() -> None:
    report = json.loads((HERE / "out" / "perf.json").read_text())
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
