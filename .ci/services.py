"""Fail early, with what to do, when CI's PostgreSQL or Redis is not reachable."""

from __future__ import annotations

import sys
import time
from urllib.parse import urlparse

import psycopg
import redis

WAIT_SECONDS = 30


def main(database_url: str, redis_url: str) -> int:
    server = urlparse(database_url)._replace(path="/postgres").geturl()
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        problems = []
        try:
            psycopg.connect(server, connect_timeout=3).close()
        except psycopg.Error as error:
            problems.append(f"PostgreSQL at {server}: {error}")
        try:
            redis.Redis.from_url(redis_url, socket_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis at {redis_url}: {error}")
        if not problems:
            return 0
        if time.monotonic() > deadline:
            print("CI needs PostgreSQL and Redis running:", *problems, sep="\n  ", file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
