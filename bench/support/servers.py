"""Server processes for benchmarks: start, wait until listening, read their memory, stop."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def processes(self) -> list[int]:
        """The server's process and its workers (hypercorn's and granian's), by pid."""
        found, pending = [], [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
                children = [Path(f"/proc/{pid}/task/{task}/children").read_text() for task in tasks]
            except OSError:  # gone meanwhile
                continue
            found.append(pid)
            pending.extend(int(child) for listed in children for child in listed.split())
        return found

    def rss_kib(self) -> int:
        """Resident memory of the server, its workers included, KiB."""
        total = 0
        for pid in self.processes():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        if not total:
            raise RuntimeError(f"{self.name}: no VmRSS")
        return total

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far, user and system, seconds."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted from the state
        return (utime + stime) / CLOCK_TICKS

    def open_descriptors(self) -> int:
        """File descriptors the server holds, its workers included: one per open connection, plus their own few."""
        return sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in self.processes())

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    name: str,
    command: list[str],
    port: int,
    env: dict[str, str],
    log_dir: Path,
    *,
    open_files: int | None = None,
    checkout: Path = ROOT,
) -> Server:
    """
    With `open_files`, the process may hold that many descriptors (or its hard limit, where it may not be raised).
    `checkout`: the tree whose code the server runs (its working directory: its own modules are imported).
    """
    log_path = log_dir / f"{name}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}

    def limits() -> None:
        if open_files is not None:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
            except (ValueError, OSError):  # not allowed to raise the hard limit: up to it
                hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=checkout, env=full_env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limits
        )
    server = Server(name, port, process, log_path, env)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not listen on {port} within {STARTUP_TIMEOUT} s")


def daphne(
    name: str,
    env: dict[str, str],
    log_dir: Path,
    app: str = "project.asgi:application",
    *,
    open_files: int | None = None,
) -> Server:
    """daphne with a listen backlog that holds thousands of simultaneous handshakes."""
    port = free_port()
    endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=4096"
    command = [sys.executable, "-m", "daphne", "-e", endpoint, "--access-log", os.devnull, app]
    return start(name, command, port, env, log_dir, open_files=open_files)


def uvicorn(name: str, env: dict[str, str], log_dir: Path, app: str, options: tuple[str, ...] = ()) -> Server:
    """uvicorn with `options` (a server's own, e.g. the README's for this project) after the bench's."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--backlog", "4096", "--log-level", "warning", *options,
    ]  # fmt: skip
    return start(name, command, port, env, log_dir)


def hypercorn(name: str, env: dict[str, str], log_dir: Path, app: str = "project.asgi:application") -> Server:
    """hypercorn by its plain command (PROTOCOL.md, "On every ASGI server"), with the bench's backlog."""
    port = free_port()
    command = [
        sys.executable, "-m", "hypercorn", app, "--bind", f"127.0.0.1:{port}", "--backlog", "4096",
        "--log-level", "warning",
    ]  # fmt: skip
    return start(name, command, port, env, log_dir)


def granian(name: str, env: dict[str, str], log_dir: Path, app: str = "project.asgi:application") -> Server:
    """granian by its plain command, with the bench's backlog."""
    port = free_port()
    command = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
        "--backlog", "4096", "--log-level", "warning", app,
    ]  # fmt: skip
    return start(name, command, port, env, log_dir)


def of_kind(kind: str, name: str, env: dict[str, str], log_dir: Path, app: str = "project.asgi:application") -> Server:
    """The project's application on server `kind`: daphne, uvicorn, hypercorn or granian, by its plain command."""
    if kind == "daphne":
        return daphne(name, env, log_dir, app)
    if kind == "uvicorn":
        return uvicorn(name, env, log_dir, app)
    if kind == "hypercorn":
        return hypercorn(name, env, log_dir, app)
    if kind == "granian":
        return granian(name, env, log_dir, app)
    raise ValueError(kind)
