"""Real daphne processes for over-the-wire tests."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

STARTUP_TIMEOUT = 30.0
# Seconds a server has to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
# LiveServer.settle: how long a server must stay idle to count as settled, and the most it is waited for.
SETTLED_FOR, SETTLE_WITHIN = 0.3, 10.0
# The project's application plus test-only consumers (tests/support/wire_app.py).
WIRE_APPLICATION = "tests.support.wire_app:application"
# Rate limits out of the way: tests of the limits set their own.
# Presence diffs out of the way (each subscription still gets its presence_state): tests of presence set their own.
QUIET_PRESENCE = {"PRESENCE_INTERVAL": "3600"}
GENEROUS_RATE_LIMITS = {
    "RATE_LIMIT_MESSAGES_PER_SECOND": "1000000",
    "RATE_LIMIT_MESSAGES_BURST": "1000000",
    "RATE_LIMIT_COMMENTS_PER_SECOND": "1000000",
    "RATE_LIMIT_COMMENTS_BURST": "1000000",
    "RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND": "1000000000",
    "RATE_LIMIT_REPLAY_ENTRIES_BURST": "1000000000",
}


@dataclass
class LiveServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    # Which server it is (tests/support/live.py's SERVERS).
    name: str = "daphne"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _processes(self) -> Iterator[int]:
        """The server's main process and its workers (their children too)."""
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                children = [
                    Path(f"/proc/{pid}/task/{task}/children").read_text() for task in os.listdir(f"/proc/{pid}/task")
                ]
            except OSError:  # gone meanwhile
                continue
            yield pid
            pending.extend(int(child) for listed in children for child in listed.split())

    def _proc_files(self, name: str) -> Iterator[str]:
        """`/proc/<pid>/<name>` of each of the server's processes still there."""
        for pid in self._processes():
            try:
                yield Path(f"/proc/{pid}/{name}").read_text()
            except OSError:  # gone meanwhile
                continue

    def memory_kib(self) -> int:
        """Resident memory of the server's processes together (its main process and its workers), KiB."""
        return sum(
            next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for status in self._proc_files("status")
        )

    def cpu_ticks(self) -> int:
        """CPU time the server's processes have used (every thread, user and system), in clock ticks."""
        total = 0
        for stat in self._proc_files("stat"):
            fields = stat[stat.rindex(")") + 2 :].split()  # after the command's name, which may hold spaces
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
        return total

    def settle(self, *samples: Callable[[], object], within: float = SETTLE_WITHIN) -> None:
        """
        Wait until the server is idle, with nothing more to do: no CPU used, its memory and `samples`
        (what its clients see: their socket queues, say) unchanged, over SETTLED_FOR seconds; or
        until `within` seconds passed.
        """
        deadline = time.monotonic() + within
        last: tuple[object, ...] = ()
        since = time.monotonic()
        while time.monotonic() < deadline:
            now = (self.cpu_ticks(), self.memory_kib(), *(sample() for sample in samples))
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= SETTLED_FOR:
                return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop_later(self) -> None:
        """
        SIGTERM now, and go on: `wait_until_stopped()` waits for it, with every other server of the
        session stopped so, rather than one after the other (each takes up to half a second).
        """
        if self.process.poll() is None:
            self.process.terminate()
            _STOPPING.append(self)


# Servers told to stop (`LiveServer.stop_later`), not yet waited for.
_STOPPING: list[LiveServer] = []


def wait_until_stopped() -> None:
    """Wait for the servers told to stop; kill those still running STOP_TIMEOUT seconds on."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while _STOPPING:
        server = _STOPPING.pop()
        try:
            server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url_for_tests() -> str:
    """A DATABASE_URL naming the test database this test process uses."""
    db: dict[str, Any] = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    host = f"{credentials}@" if credentials else ""
    return f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# PROTOCOL.md, "On every ASGI server": each server by its plain command, nothing but the address added.
SERVERS = ("daphne", "uvicorn", "hypercorn", "granian")


def plain_command(server: str, application: str, port: int) -> list[str]:
    """`<server> <site>.asgi:application`, listening on 127.0.0.1:`port`."""
    commands = {
        "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application],
        "uvicorn": ["-m", "uvicorn", application, "--host", "127.0.0.1", "--port", str(port)],
        "hypercorn": ["-m", "hypercorn", application, "--bind", f"127.0.0.1:{port}"],
        "granian": ["-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port), application],
    }
    return [sys.executable, *commands[server]]


def start_server(
    log_dir: Path,
    server: str,
    *,
    application: str = "project.asgi:application",
    env: dict[str, str] | None = None,
) -> LiveServer:
    """`server` (one of SERVERS) serving `application` on the test database, started by its plain command."""
    if server == "daphne":
        return start_daphne(log_dir, application=application, env=env, plain=True)
    port = free_port()
    started = _started(log_dir / f"{server}-{port}.log", plain_command(server, application, port), port, env)
    started.name = server
    wait_until_serving(started)  # its workers may load the application after the socket listens
    return started


def wait_until_serving(server: LiveServer) -> None:
    """Wait until `server` answers `/healthz`; `RuntimeError` with its log if it never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.http_url}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not serve /healthz within {STARTUP_TIMEOUT} s:\n{server.log()}")


def start_daphne(
    log_dir: Path,
    *,
    application: str = "project.asgi:application",
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    port: int | None = None,
    plain: bool = False,
) -> LiveServer:
    """
    daphne on the test database, through `manage.py serve`, or, `plain`, as a host
    runs it: `daphne <application>`, with nothing but the application's own
    `realtime.server.install()` (PROTOCOL.md: every bound holds under plain daphne).
    """
    port = port or free_port()
    dotted = application.replace(":", ".")
    if plain:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *args, application]
    else:
        command = [sys.executable, "manage.py", "serve", "--port", str(port), "--application", dotted, "--", *args]
    return _started(log_dir / f"daphne-{port}.log", command, port, env)


def _started(log_path: Path, command: list[str], port: int, env: dict[str, str] | None) -> LiveServer:
    process_env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "PYTHONUNBUFFERED": "1",
        **GENEROUS_RATE_LIMITS,
        **QUIET_PRESENCE,
        **(env or {}),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=process_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveServer("127.0.0.1", port, process, log_path)
    try:
        wait_until_listening(process, server.host, port, log_path)
    except RuntimeError:
        server.stop()
        raise
    return server


def wait_until_listening(process: subprocess.Popen[bytes], host: str, port: int, log_path: Path) -> None:
    """
    Wait until `process` listens on `port`; `RuntimeError` with its log if it exits or never does.
    Read from the kernel's table of sockets, without connecting: a connection would be one the server
    knows of (daphne keeps a closed one for up to a second, and its own shutdown stumbles on it).
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        if listening(host, port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen within {STARTUP_TIMEOUT} s:\n{log_path.read_text(errors='replace')}")


# TCP states in /proc/net/tcp: listening, and (listed among the listening sockets by older kernels) SYN_RECV.
LISTEN, SYN_RECV = "0A", "03"


def listening(host: str, port: int) -> bool:
    """
    Whether a socket listens on `host`:`port` (an IPv4 loopback or wildcard address), by /proc/net/tcp.
    The kernel lists the listening sockets first: only those are read, not the rest of a table that a
    machine with many connections makes long (70,000 lines take 0.3 s of CPU to list).
    """
    wanted = {f"{address}:{port:04X}" for address in (_proc_address(host), "00000000")}
    try:
        with open("/proc/net/tcp") as table:
            next(table)  # the header
            for line in table:
                fields = line.split()
                if fields[3] not in (LISTEN, SYN_RECV):
                    return False  # past the listening sockets
                if fields[3] == LISTEN and fields[1] in wanted:
                    return True
            return False
    except OSError:  # not Linux: ask by connecting
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False


def _proc_address(host: str) -> str:
    """An IPv4 address as /proc/net/tcp writes it: a 32-bit number in the machine's byte order, in hex."""
    return f"{struct.unpack('=I', socket.inet_aton(host))[0]:08X}"


def shift_clock(server: LiveServer, seconds: float, *, wall: bool = True) -> None:
    """
    Move `server`'s time on by `seconds` at once (tests/support/wire_app.py's /test/clock; the
    server must run WIRE_APPLICATION); `wall=False` moves only its monotonic clock.
    """
    query = f"shift={seconds}" + ("" if wall else "&wall=0")
    request = urllib.request.Request(f"{server.http_url}/test/clock?{query}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 200:
            raise RuntimeError(f"{server.name} answered /test/clock with HTTP {answer.status}")
