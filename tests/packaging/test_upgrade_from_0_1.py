"""
An upgrade from 0.1, where notifications lived in the `realtime` app: a
database that release created (its own code, checked out from git, migrates
it and stores notifications) is migrated by this one, and every notification,
every sequence counter and the content types survive, under the new app.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings

from tests.support.live import database_url_for_tests

pytestmark = pytest.mark.packaging

# The last commit of 0.1 (the first release), before the library became installable.
RELEASE_0_1 = "59bbef181b28ddae28ae48c564d0e1d720c3f600"
COMMAND_TIMEOUT = 120
UPGRADE_DATABASE = "realtime_upgrade_check"


def checkout_of(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(settings.BASE_DIR), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
        timeout=COMMAND_TIMEOUT,
    )
    assert archive.returncode == 0, f"this test needs the repository's history ({commit}): {archive.stderr.decode()}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def manage(root: Path, database_url: str, *args: str) -> str:
    environment = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env={**environment, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 0, f"manage.py {args[0]} in {root} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


def shell(root: Path, database_url: str, code: str) -> Any:
    """Run `code` in that checkout's Django shell; it prints one JSON value."""
    return json.loads(manage(root, database_url, "shell", "--no-imports", "-c", textwrap.dedent(code)).splitlines()[-1])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'upgraded.sqlite3'}"


@pytest.fixture
def postgresql_url() -> Iterator[str]:
    server = urlparse(database_url_for_tests())
    admin_url = server._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {UPGRADE_DATABASE}")
        connection.execute(f"CREATE DATABASE {UPGRADE_DATABASE}")
    yield server._replace(path=f"/{UPGRADE_DATABASE}").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {UPGRADE_DATABASE} WITH (FORCE)")


STORED_BY_0_1 = """
    import json
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType
    from realtime.services import notify_user
    alice = User.objects.create_user("alice")
    first, second = notify_user(alice, {"text": "one"}), notify_user(alice, {"text": "two"})
    print(json.dumps([first.pk, second.pk, ContentType.objects.get(model="notification").pk]))
"""

READ_BY_THIS_RELEASE = """
    import json
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from notifications.models import Notification, NotificationSequence
    from notifications.services import notify_user
    third = notify_user(User.objects.get(username="alice"), {"text": "three"})
    print(json.dumps({
        "notifications": [[n.pk, n.recipient.username, n.seq, n.payload] for n in Notification.objects.order_by("pk")],
        "counter": NotificationSequence.objects.get().last_seq,
        "content_type": list(ContentType.objects.filter(model="notification").values_list("pk", "app_label")),
        "tables": sorted(t for t in connection.introspection.table_names() if "notification" in t),
    }))
"""


def upgrade(tmp_path: Path, database_url: str) -> None:
    old = checkout_of(RELEASE_0_1, tmp_path / "release-0.1")
    manage(old, database_url, "migrate", "--noinput")
    first, second, content_type = shell(old, database_url, STORED_BY_0_1)
    manage(Path(settings.BASE_DIR), database_url, "migrate", "--noinput")
    seen = shell(Path(settings.BASE_DIR), database_url, READ_BY_THIS_RELEASE)
    assert seen == {
        "notifications": [
            [first, "alice", 1, {"text": "one"}],
            [second, "alice", 2, {"text": "two"}],
            [second + 1, "alice", 3, {"text": "three"}],
        ],
        "counter": 3,
        "content_type": [[content_type, "notifications"]],
        "tables": ["notifications_notification", "notifications_notificationsequence"],
    }


def test_a_sqlite_database_of_0_1_keeps_its_notifications(tmp_path: Path, sqlite_url: str) -> None:
    upgrade(tmp_path, sqlite_url)


@pytest.mark.services
def test_a_postgresql_database_of_0_1_keeps_its_notifications(tmp_path: Path, postgresql_url: str) -> None:
    upgrade(tmp_path, postgresql_url)
