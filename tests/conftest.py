from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from django.conf import settings

from realtime.auth.tokens import issue_token
from realtime.limits import connections as connection_cap
from tests.support.availability import skip_unless_available
from tests.support.live import GENEROUS_RATE_LIMITS, LiveServer, start_daphne

if TYPE_CHECKING:
    from realtime.testing.fixtures import RealtimeOverrides

pytest_plugins = ["realtime.testing.fixtures"]

SERVICES_MISSING = (
    "the service-backed tests need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)"
)


def services_configured() -> bool:
    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_unless_available(
        items,
        marker="services",
        available=services_configured(),
        required_by="REALTIME_REQUIRE_SERVICES",
        missing=SERVICES_MISSING,
    )


@pytest.fixture(autouse=True)
def isolated_async_state(realtime_isolation: None) -> None:
    """
    Each test gets new channel layers, bound to its own event loop, and leaves
    no database connection open in the thread that runs database_sync_to_async
    (PostgreSQL refuses to drop a test database that is still in use).
    """


@pytest.fixture(autouse=True)
def no_connection_leases() -> None:
    """
    No connection leases left in Redis by an earlier test or run: the test
    database numbers its users from 1 again, so those leases would count
    against this test's users (realtime/connection_cap.py).
    """
    if not settings.REDIS_URLS:
        return
    client = redis.Redis.from_url(settings.REDIS_URLS[0])
    try:
        leases = list(client.scan_iter(match=connection_cap.key("*")))
        if leases:
            client.delete(*leases)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def generous_rate_limits(realtime_settings: RealtimeOverrides) -> None:
    """Rate limits out of the way: tests of the limits set their own."""
    for name, value in GENEROUS_RATE_LIMITS.items():
        setattr(realtime_settings, name, int(value))


@pytest.fixture
def in_memory_layer(settings: Any) -> None:
    """The in-memory channel layer, whatever REDIS_URL says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("daphne-logs")


@pytest.fixture(scope="module")
def daphne_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    """One real daphne serving project.asgi on the test database, per test module."""
    server = start_daphne(log_dir)
    yield server
    server.stop()


# --- Users and tokens -------------------------------------------------------------


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob")


@pytest.fixture
def token(user: Any) -> str:
    return issue_token(user)


@pytest.fixture
def post() -> Any:
    from comments.models import Post

    return Post.objects.create(title="A post")
