"""
`/readyz` of a real daphne whose PostgreSQL and Redis are taken away through
TCP proxies: 503 naming what does not answer, 200 again once it does, never a
hang; `/healthz` answers 200 all along.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.http import get
from tests.support.live import LiveServer, start_daphne
from tests.support.proxy import TcpProxy, database_url_via, redis_url_via

pytestmark = [pytest.mark.wire, pytest.mark.services, pytest.mark.django_db(transaction=True)]

OK = (200, {"status": "ok"})


def unavailable(*failing: str) -> tuple[int, dict[str, object]]:
    return 503, {"status": "unavailable", "failing": list(failing)}


@pytest.fixture
def server(database_proxy: TcpProxy, redis_proxy: TcpProxy, log_dir: Path) -> Iterator[LiveServer]:
    env = {"DATABASE_URL": database_url_via(database_proxy), "REDIS_URL": redis_url_via(redis_proxy)}
    live = start_daphne(log_dir, env=env)
    yield live
    live.stop()


def ready(server: LiveServer) -> tuple[int, dict[str, object]]:
    answer = get(f"{server.http_url}/readyz")
    return answer.status, json.loads(answer.body)


def healthy(server: LiveServer) -> int:
    return get(f"{server.http_url}/healthz").status


def test_readyz_names_redis_while_it_is_cut_and_is_ok_once_it_is_back(
    server: LiveServer, redis_proxy: TcpProxy
) -> None:
    assert ready(server) == OK
    redis_proxy.cut()
    assert ready(server) == unavailable("redis")
    assert healthy(server) == 200
    redis_proxy.restore()
    assert ready(server) == OK


def test_readyz_names_the_database_while_it_is_cut_and_is_ok_once_it_is_back(
    server: LiveServer, database_proxy: TcpProxy
) -> None:
    assert ready(server) == OK
    database_proxy.cut()
    assert ready(server) == unavailable("database")
    assert healthy(server) == 200
    database_proxy.restore()
    assert ready(server) == OK


def test_readyz_names_both_when_both_are_cut(
    server: LiveServer, database_proxy: TcpProxy, redis_proxy: TcpProxy
) -> None:
    database_proxy.cut()
    redis_proxy.cut()
    assert ready(server) == unavailable("database", "redis")
