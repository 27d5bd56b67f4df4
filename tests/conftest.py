from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import post_migrate

from realtime import pools
from realtime.auth.tokens import issue_token
from realtime.limits import connections as connection_cap
from realtime.presence.tracker import presence_keys
from tests.support.availability import skip_unless_available
from tests.support.live import (
    GENEROUS_RATE_LIMITS,
    QUIET_PRESENCE,
    WIRE_APPLICATION,
    LiveServer,
    start_daphne,
    wait_until_stopped,
)
from tests.support.nginx import nginx_binary

if TYPE_CHECKING:
    from realtime.testing.fixtures import RealtimeOverrides

# An installed package gives these fixtures through its entry point (pyproject.toml, `pytest11`); this
# checkout is not installed (make install), so it names them here. Both register them once, under one name.
pytest_plugins = ["realtime.testing.fixtures"]

SERVICES_MISSING = (
    "the service-backed tests need PostgreSQL and Redis: set DATABASE_URL and REDIS_URL (as .ci/run does)"
)


NGINX_MISSING = "the deployment tests run deploy/'s nginx configuration: apt-get install nginx (.ci/run does)"

PACKAGING_NOT_ASKED = (
    "the packaging tests install this checkout into a new virtualenv and upgrade a 0.1 database (a minute): "
    "run make test-packaging (REALTIME_PACKAGING=1); CI runs it"
)


def services_configured() -> bool:
    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_unless_available(
        items,
        marker="packaging",
        available=bool(os.environ.get("REALTIME_PACKAGING")),
        required_by="REALTIME_REQUIRE_PACKAGING",
        missing=PACKAGING_NOT_ASKED,
    )
    skip_unless_available(
        items,
        marker="nginx",
        available=nginx_binary() is not None,
        required_by="REALTIME_REQUIRE_NGINX",
        missing=NGINX_MISSING,
    )
    skip_unless_available(
        items,
        marker="services",
        available=services_configured(),
        required_by="REALTIME_REQUIRE_SERVICES",
        missing=SERVICES_MISSING,
    )


@pytest.fixture(scope="session", autouse=True)
def flushes_without_post_migrate(django_db_setup: None) -> Iterator[None]:
    """
    A transactional test empties every table afterwards, and Django then emits
    post_migrate, whose receivers re-create every content type and permission:
    nine tenths of the cost of such a test here. Once the test database exists,
    those two receivers are off: no test relies on permission rows (superusers
    need none), and content types are created on first use.
    """
    receivers = [(create_permissions, "django.contrib.auth.management.create_permissions"), (create_contenttypes, None)]
    for receiver, uid in receivers:
        post_migrate.disconnect(receiver, dispatch_uid=uid)
    yield
    for receiver, uid in receivers:
        post_migrate.connect(receiver, dispatch_uid=uid)


@pytest.fixture(scope="session", autouse=True)
def servers_stopped_together(django_db_setup: None) -> Iterator[None]:
    """
    The session's servers, stopped at its end (`LiveServer.stop_later`), are waited for here,
    together, and before the test database goes (PostgreSQL drops none still in use).
    """
    yield
    wait_until_stopped()


@pytest.fixture(autouse=True)
def content_types_forgotten() -> Iterator[None]:
    """The cache of content types forgets the rows a flush deleted (create_contenttypes would have cleared it)."""
    yield
    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def no_outage_left() -> Iterator[None]:
    """
    A test that met a database outage leaves no lowered pool and no probe behind
    (realtime/pools.py): once the database answered, the probe would replace the
    pool under a later test, whose teardown then found it closed.
    """
    yield
    pools.forget()


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
    No connection leases nor presence left in Redis by an earlier test or run:
    the test database numbers its users from 1 again, so those leases would
    count against this test's users (realtime/limits/connections.py), and its
    posts might be on them.
    """
    if not settings.REDIS_URLS:
        return
    client = redis.Redis.from_url(settings.REDIS_URLS[0])
    try:
        leftovers = [*client.scan_iter(match=connection_cap.key("*")), *client.scan_iter(match=f"{presence_keys()}*")]
        if leftovers:
            client.delete(*leftovers)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """
    Passwords hashed in one round: the tests sign users in, they do not test
    PBKDF2. The browser tests' daphne hashes the same way
    (tests/support/browser_settings.py).
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def generous_rate_limits(realtime_settings: RealtimeOverrides) -> None:
    """Rate limits out of the way: tests of the limits set their own."""
    for name, value in GENEROUS_RATE_LIMITS.items():
        setattr(realtime_settings, name, int(value))


@pytest.fixture(autouse=True)
def quiet_presence(realtime_settings: RealtimeOverrides) -> None:
    """
    No `presence_diff` in the middle of tests about something else: the
    presence_state of each subscription comes, its diffs would come only every
    hour. The tests of presence set their own interval, on a manual clock.
    """
    for name, value in QUIET_PRESENCE.items():
        setattr(realtime_settings, name, float(value))


@pytest.fixture
def in_memory_layer(settings: Any) -> None:
    """The in-memory channel layer, whatever REDIS_URL says."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("daphne-logs")


# A plain daphne (`daphne project.asgi:application`, as a host runs it: the bounds must hold without
# `manage.py serve`) with small limits, for the tests of limits (tests/realtime/limits, tests/realtime/server):
# a message size of 1 KiB; a message budget of two with one strike (so frames: twenty); a send buffer
# of 128 KiB; handshakes within 1 s; HTTP responses read within 1 s; three connections per address; a
# heartbeat of 0.5 s (so a replay nobody reads is given up after 0.75 s). Each test stays within two
# messages per connection and closes what it opens, unless it is about that limit.
GUARDED_LIMITS = {
    "WEBSOCKET_MAX_MESSAGE_SIZE": "1024",
    "RATE_LIMIT_MESSAGES_PER_SECOND": "0.001",
    "RATE_LIMIT_MESSAGES_BURST": "2",
    "RATE_LIMIT_STRIKES": "1",
    "SEND_BUFFER_LIMIT": str(128 * 1024),
    "HANDSHAKE_TIMEOUT": "1",
    "HTTP_SEND_TIMEOUT": "1",
    "MAX_CONNECTIONS_PER_IP": "3",
    "HEARTBEAT_INTERVAL": "0.5",
    "HEARTBEAT_TIMEOUT": "0.25",
    # Replays larger than every buffer on the way (tests/realtime/server/test_wire_hostile_clients.py).
    "REPLAY_LIMIT": "10000",
}


@pytest.fixture(scope="session")
def guarded_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(log_dir, env=GUARDED_LIMITS, plain=True)
    yield server
    server.stop_later()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    """
    One real daphne on the test database with the default settings, for the
    whole run: project.asgi, plus the test-only routes of tests/support/wire_app.py.
    """
    # Feed checks four times a second: what another process stores arrives within half a second.
    # Replays larger than every buffer on the way (tests/realtime/server/test_wire_hostile_clients.py).
    env = {"FEED_CHECK_INTERVAL": "0.25", "REPLAY_LIMIT": "10000"}
    server = start_daphne(log_dir, application=WIRE_APPLICATION, env=env)
    yield server
    server.stop_later()


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
