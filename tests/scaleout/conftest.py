"""TCP proxies in front of Redis and PostgreSQL, for the fault tests to cut and restore."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.conf import settings

from tests.support.proxy import TcpProxy


@pytest.fixture
def redis_proxy() -> Iterator[TcpProxy]:
    target = urlparse(settings.REDIS_URL)
    proxy = TcpProxy(target.port or 6379, target.hostname or "127.0.0.1").start()
    yield proxy
    proxy.close()


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    database = settings.DATABASES["default"]
    proxy = TcpProxy(int(database["PORT"] or 5432), database["HOST"] or "127.0.0.1").start()
    yield proxy
    proxy.close()
