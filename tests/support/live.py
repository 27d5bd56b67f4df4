"""Real daphne processes for over-the-wire tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

STARTUP_TIMEOUT = 30.0
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

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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
    log_path = log_dir / f"daphne-{port}.log"
    process_env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "PYTHONUNBUFFERED": "1",
        **GENEROUS_RATE_LIMITS,
        **QUIET_PRESENCE,
        **(env or {}),
    }
    dotted = application.replace(":", ".")
    if plain:
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), *args, application]
    else:
        command = [sys.executable, "manage.py", "serve", "--port", str(port), "--application", dotted, "--", *args]
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
    """Wait until `process` accepts connections on `port`; `RuntimeError` with its log if it exits or never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"daphne did not listen within {STARTUP_TIMEOUT} s:\n{log_path.read_text(errors='replace')}")
