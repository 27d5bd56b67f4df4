"""
docs/how-to/several-processes.md's settings block: it configures what this
repository's two-process tests run on (Django's pool for PostgreSQL, channels-redis'
pub/sub layer), `manage.py check` has nothing to say about it, and, with Redis,
two layers built from it hear each other as two processes do.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from channels.layers import ChannelLayerManager
from django.conf import settings
from django.core.checks import run_checks

from realtime.layers.config import PUBSUB_BACKEND
from tests.support.docs import block

PAGE = "docs/how-to/several-processes.md"
FIRST_LINE = "# mysite/settings.py (append, several processes)"
REDIS = "redis://127.0.0.1:6379/9"


def appended(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> dict[str, Any]:
    """The block appended to a startproject site's settings (SQLite, `REALTIME = {}`), with its environment."""
    monkeypatch.setenv("DATABASE_PASSWORD", "a password")
    monkeypatch.setenv("REDIS_URL", redis_url)
    namespace: dict[str, Any] = {
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}},
        "REALTIME": {},
    }
    exec(block(PAGE, FIRST_LINE), namespace)
    return namespace


def test_the_block_configures_a_pool_and_the_pubsub_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = appended(monkeypatch, REDIS)
    database = configured["DATABASES"]["default"]
    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.internal",
        "NAME": "mysite",
        "USER": "mysite",
        "PASSWORD": "a password",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {"pool": {"min_size": 1, "max_size": 20, "timeout": 3}},
    }
    assert configured["CHANNEL_LAYERS"] == {
        "default": {"BACKEND": PUBSUB_BACKEND, "CONFIG": {"hosts": [{"address": REDIS}]}}
    }
    assert configured["REALTIME"] == {"TRUSTED_PROXIES": ["127.0.0.1"]}
    assert configured["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_manage_py_check_has_nothing_to_say_about_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = appended(monkeypatch, REDIS)
    for name in ("DATABASES", "CHANNEL_LAYERS", "REALTIME"):
        monkeypatch.setattr(settings, name, configured[name])
    assert [message for message in run_checks() if (message.id or "").startswith("realtime.")] == []


def test_without_its_pool_the_block_would_be_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = appended(monkeypatch, REDIS)
    database = configured["DATABASES"]["default"]
    database.update(CONN_MAX_AGE=60, OPTIONS={})
    monkeypatch.setattr(settings, "DATABASES", configured["DATABASES"])
    assert [message.id for message in run_checks() if (message.id or "").startswith("realtime.")] == ["realtime.W003"]


@pytest.mark.services
async def test_two_layers_from_the_block_hear_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = appended(monkeypatch, settings.REDIS_URLS[0])
    monkeypatch.setattr(settings, "CHANNEL_LAYERS", configured["CHANNEL_LAYERS"])
    one, other = (ChannelLayerManager().make_backend("default") for _ in range(2))
    group = f"docs-{uuid.uuid4().hex}"
    channel = await one.new_channel()
    await one.group_add(group, channel)
    await other.group_send(group, {"type": "comment.created", "text": "from the other process"})
    assert await one.receive(channel) == {"type": "comment.created", "text": "from the other process"}
    await one.group_discard(group, channel)
    await one.flush()
    await other.flush()
