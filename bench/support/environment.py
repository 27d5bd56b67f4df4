"""
The world a benchmark runs in: fresh databases (PostgreSQL, or a SQLite file)
and Redis, seeded users with tokens and posts, and client processes. The
orchestrating process never imports Django: servers and the seeding run in
processes of their own.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import redis

from bench.support.sampling import Sampler
from bench.support.servers import ROOT

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/realtime_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")


@dataclass(frozen=True)
class Seed:
    tokens: list[str]
    user_ids: list[int]
    post_ids: list[int]


# Benchmarks measure throughput: the per-connection rate limits are checked, and never refuse. Every client
# is 127.0.0.1: the per-address cap (MAX_CONNECTIONS_PER_IP, 1,000 a process) would refuse the crowds.
UNLIMITED = {
    "MAX_CONNECTIONS_PER_IP": "0",
    "RATE_LIMIT_MESSAGES_PER_SECOND": "1e9",
    "RATE_LIMIT_MESSAGES_BURST": "1000000000",
    "RATE_LIMIT_COMMENTS_PER_SECOND": "1e9",
    "RATE_LIMIT_COMMENTS_BURST": "1000000000",
    "RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND": "1e12",
    "RATE_LIMIT_REPLAY_ENTRIES_BURST": "1000000000000",
}


def server_env(database_url: str = DATABASE_URL, *, redis: bool = True, **extra: str) -> dict[str, str]:
    env = {"DATABASE_URL": database_url, "DJANGO_LOG_LEVEL": "WARNING", **UNLIMITED, **extra}
    if redis:
        env["REDIS_URL"] = REDIS_URL
    return env


def _maintenance_url(database_url: str = DATABASE_URL) -> str:
    return urlparse(database_url)._replace(path="/postgres").geturl()


def fresh_database(
    database_url: str = DATABASE_URL,
    *,
    users: int,
    posts: int = 1,
    comments: int = 0,
    settings_module: str = "project.settings",
    checkout: Path = ROOT,
) -> Seed:
    """
    An empty, migrated database (PostgreSQL or a SQLite file) with `users` users and `posts` posts, seeded by
    `checkout` (another tree's: its migrations, its models, its bench/support/seed.py and its signing key).
    """
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("sqlite"):
        path = Path(parsed.path)
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    else:
        name = parsed.path.lstrip("/")
        with psycopg.connect(_maintenance_url(database_url), autocommit=True) as maintenance:
            maintenance.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            maintenance.execute(f'DROP DATABASE IF EXISTS "{name}"')
            maintenance.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": settings_module}
    env.pop("REDIS_URL", None)
    output = subprocess.run(
        [sys.executable, "-m", "bench.support.seed", str(users), str(posts), str(comments)],
        cwd=checkout, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    seeded = json.loads(output)
    return Seed(tokens=seeded["tokens"], user_ids=seeded["user_ids"], post_ids=seeded["post_ids"])


def count_rows(database_url: str, table: str) -> int:
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("sqlite"):
        with sqlite3.connect(parsed.path) as db:
            return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    with psycopg.connect(database_url) as db:
        row = db.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


class ConnectionSampler(Sampler):
    """
    Samples the number of PostgreSQL connections to the benchmark database, in a thread; with
    `application_name`, those of the processes whose DATABASE_URL names it (`?application_name=…`).
    """

    def __init__(self, interval: float = 0.25, *, application_name: str | None = None) -> None:
        super().__init__(interval)
        self.samples: list[int] = []
        self._name = urlparse(DATABASE_URL).path.lstrip("/")
        self._application_name = application_name
        self._probe: psycopg.Connection[Any] | None = None

    def sample(self) -> None:
        if self._probe is None:  # not yet connected
            return
        if self._application_name is None:
            query, value = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", self._name
        else:
            query, value = "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", self._application_name
        row = self._probe.execute(query, [value]).fetchone()
        self.samples.append(int(row[0]) if row else 0)

    def _run(self) -> None:
        with psycopg.connect(_maintenance_url(), autocommit=True) as self._probe:
            super()._run()

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


def django_shell(checkout: Path, env: dict[str, str], code: str) -> str:
    """Run `code` in `manage.py shell` of `checkout`, with the server's environment `env`; what it printed."""
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=checkout, env={**os.environ, **env}, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


@contextmanager
def workdir() -> Iterator[Path]:
    """A scratch directory for configs, results and logs; BENCH_KEEP=1 keeps it."""
    if os.environ.get("BENCH_KEEP"):
        directory = tempfile.mkdtemp(prefix="bench-")
        print(f"keeping {directory}", file=sys.stderr)
        yield Path(directory)
        return
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        yield Path(directory)


def spawn_client(module: str, config: dict[str, Any], directory: Path, name: str) -> subprocess.Popen[bytes]:
    """Start `python -m module CONFIG` with `config` written next to its result."""
    config_path = directory / f"{name}.json"
    config_path.write_text(json.dumps(config))
    log = (directory / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", module, str(config_path)], cwd=ROOT, stdout=log, stderr=log)


def wait_for_files(paths: list[Path], timeout: float, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout
    while not all(path.exists() for path in paths):
        if time.monotonic() > deadline:
            raise TimeoutError(f"clients not ready within {timeout} s")
        for process in processes:
            if process.poll() not in (None, 0):
                raise RuntimeError(f"a client exited with {process.returncode}")
        time.sleep(0.2)


def exceptions_in(log_path: Path) -> int:
    """How many application exceptions a server logged."""
    text = log_path.read_text(errors="replace")
    return text.count("Exception inside application") + text.count("Traceback (most recent call last)")


def warnings_in(logs: list[str]) -> dict[str, int]:
    """Warning and error lines in server logs (their texts), by message (numbers and paths blanked)."""
    counted: dict[str, int] = {}
    for log in logs:
        for line in log.splitlines():
            if " WARNING " in line or " ERROR " in line:
                message = re.sub(r"\d+", "N", " ".join(line.split()[2:]))
                counted[message] = counted.get(message, 0) + 1
    return counted
