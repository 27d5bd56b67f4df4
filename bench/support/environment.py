"""
The world a benchmark runs in: a fresh PostgreSQL database and Redis database,
Django set up on them in the orchestrating process, seeded users and tokens,
and client processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import redis

from bench.support.servers import ROOT

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/realtime_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
TOKEN_TTL = timedelta(hours=2)


def setup_django() -> None:
    """Set up Django in this process on the benchmark database and Redis."""
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def server_env(**extra: str) -> dict[str, str]:
    return {"DATABASE_URL": DATABASE_URL, "REDIS_URL": REDIS_URL, "DJANGO_LOG_LEVEL": "WARNING", **extra}


def _maintenance_url() -> str:
    return urlparse(DATABASE_URL)._replace(path="/postgres").geturl()


def fresh_database() -> None:
    """Drop and create the benchmark database, migrate it, and empty its Redis database."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    name = urlparse(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(_maintenance_url(), autocommit=True) as maintenance:
        maintenance.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        maintenance.execute(f'DROP DATABASE IF EXISTS "{name}"')
        maintenance.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(REDIS_URL).flushdb()


def seed_users(count: int, prefix: str) -> list[str]:
    """Create `count` users and return a token for each."""
    from django.contrib.auth import get_user_model

    from realtime.tokens import issue_token

    user_model = get_user_model()
    user_model.objects.bulk_create([user_model(username=f"{prefix}{n}") for n in range(count)], batch_size=2000)
    users = user_model.objects.filter(username__startswith=prefix).order_by("id")
    return [issue_token(user, ttl=TOKEN_TTL) for user in users]


def create_post(title: str = "Benchmark post") -> int:
    from comments.models import Post

    return int(Post.objects.create(title=title).pk)


class ConnectionSampler:
    """Samples the number of PostgreSQL connections to the benchmark database, in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        name = urlparse(DATABASE_URL).path.lstrip("/")
        with psycopg.connect(_maintenance_url(), autocommit=True) as probe:
            while not self._stop.is_set():
                row = probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()
                self.samples.append(int(row[0]) if row else 0)
                time.sleep(self.interval)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


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
