from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.conf import settings

from tests.support.live import LiveServer, start_daphne

SERVICES_MISSING = "needs PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)"


def services_configured() -> bool:
    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if services_configured():
        return
    if os.environ.get("REALTIME_REQUIRE_SERVICES"):
        raise pytest.UsageError(f"REALTIME_REQUIRE_SERVICES is set but the suite {SERVICES_MISSING}")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=SERVICES_MISSING))


@pytest.fixture(autouse=True)
async def fresh_channel_layers() -> AsyncIterator[None]:
    """Each test gets new channel layers, bound to its own event loop."""
    channel_layers.backends = {}
    yield
    for layer in channel_layers.backends.values():
        flush = getattr(layer, "flush", None)
        if flush is not None:
            await flush()
    channel_layers.backends = {}


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("daphne-logs")


@pytest.fixture(scope="module")
def daphne_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    """One real daphne serving project.asgi on the test database, per test module."""
    server = start_daphne(log_dir)
    yield server
    server.stop()
