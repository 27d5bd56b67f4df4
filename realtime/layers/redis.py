"""
The Redis behind the channel layer, for the library's own use.

The library needs no Redis setting of its own: when `CHANNEL_LAYERS["default"]`
is a channels-redis layer, its hosts are the library's Redis too (connection
caps across processes). `check_redis()` makes sure they answer at start, with
an error that says what to do, instead of consumers failing one by one later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlparse

import redis
import redis.asyncio
from django.conf import settings
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

STARTUP_TIMEOUT = 3.0
REDIS_BACKENDS_PACKAGE = "channels_redis."
# channels-redis' prefix of channels and groups when the layer names none.
DEFAULT_PREFIX = "asgi"


@dataclass(frozen=True)
class RedisTarget:
    """One Redis host of the channel layer: a URL, or sentinels and a master's name."""

    url: str | None = None
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""

    def __str__(self) -> str:
        if self.sentinels:
            return f"sentinels {','.join(f'{host}:{port}' for host, port in self.sentinels)} (master {self.master})"
        return without_password(self.url or "")

    def client(self, *, timeout: float, retry: bool = True) -> redis.Redis:
        """A client; `retry=False` fails at the first refusal instead of redis-py's retries with backoff."""
        options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        if not retry:
            options["retry"] = Retry(NoBackoff(), 0)
        if self.sentinels:
            # redis-py leaves Sentinel untyped.
            sentinel: Any = cast(Any, Sentinel)(list(self.sentinels), sentinel_kwargs=options, **options)
            master: redis.Redis = sentinel.master_for(self.master, **options)
            return master
        return redis.Redis.from_url(self.url or "", **options)

    def async_client(self, *, timeout: float, pool: int | None = None) -> redis.asyncio.Redis:
        """A client; with `pool`, at most that many connections, a request past them waiting (up to `timeout`)."""
        if pool is not None and not self.sentinels:
            connections = redis.asyncio.BlockingConnectionPool.from_url(
                self.url or "",
                max_connections=pool,
                timeout=timeout,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
            )
            return redis.asyncio.Redis.from_pool(connections)  # which it closes with itself
        if self.sentinels:
            sentinel: Any = cast(Any, AsyncSentinel)(list(self.sentinels), socket_timeout=timeout)
            master: redis.asyncio.Redis = sentinel.master_for(
                self.master, socket_timeout=timeout, socket_connect_timeout=timeout
            )
            return master
        return redis.asyncio.Redis.from_url(self.url or "", socket_timeout=timeout, socket_connect_timeout=timeout)


class RedisUnreachable(Exception):
    """A Redis host of the channel layer does not answer; `str()` says what to do."""

    def __init__(self, target: RedisTarget, error: Exception) -> None:
        super().__init__(
            f"Cannot reach Redis at {target} ({error}), a host of CHANNEL_LAYERS['default']. "
            "Start Redis, or correct the channel layer's hosts in your settings."
        )
        self.target = target
        self.error = error


def library_prefix(alias: str = "default") -> str:
    """Where the library's own keys live in Redis: under the channel layer's prefix (by default "asgi")."""
    layer = getattr(settings, "CHANNEL_LAYERS", {}).get(alias) or {}
    return f"{(layer.get('CONFIG') or {}).get('prefix', DEFAULT_PREFIX)}:realtime:"


def redis_targets(alias: str = "default") -> list[RedisTarget]:
    """The Redis hosts of channel layer `alias` (none when it is not a channels-redis layer)."""
    layer = getattr(settings, "CHANNEL_LAYERS", {}).get(alias) or {}
    if not str(layer.get("BACKEND", "")).startswith(REDIS_BACKENDS_PACKAGE):
        return []
    hosts: Sequence[Any] = (layer.get("CONFIG") or {}).get("hosts") or [("localhost", 6379)]
    return [_target(host) for host in hosts]


def _target(host: Any) -> RedisTarget:
    if isinstance(host, dict):
        if "sentinels" in host:
            return RedisTarget(
                sentinels=tuple((str(h), int(p)) for h, p in host["sentinels"]), master=str(host.get("master_name"))
            )
        host = host.get("address", ("localhost", 6379))
    if isinstance(host, str):
        return RedisTarget(url=host)
    address, port = host
    return RedisTarget(url=f"redis://{address}:{port}")


def check_redis() -> None:
    """With a Redis channel layer, make sure every host answers, or raise `RedisUnreachable`."""
    for target in redis_targets():
        try:
            client = target.client(timeout=STARTUP_TIMEOUT, retry=False)
            client.ping()
            client.close()
        except (redis.RedisError, OSError, ValueError) as error:
            raise RedisUnreachable(target, error) from None


def without_password(url: str) -> str:
    parts = urlparse(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
