"""realtime.checks: `manage.py check` reports what would otherwise fail only when a connection arrives."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core import checks

pytestmark = pytest.mark.usefixtures("clean_realtime_settings")


@pytest.fixture
def clean_realtime_settings(settings: Any) -> None:
    settings.REALTIME = {}


def reported() -> list[tuple[str, str, str | None]]:
    return [(message.id or "", message.msg, message.hint) for message in checks.run_checks(tags=["realtime"])]


def test_this_sites_settings_are_clean() -> None:
    assert reported() == []


def test_realtime_must_be_a_dict(settings: Any) -> None:
    settings.REALTIME = ["HEARTBEAT_INTERVAL"]
    assert reported()[0] == (
        "realtime.E001",
        "REALTIME must be a dict, not list.",
        "Set REALTIME = {} (every key has a default; docs/reference/settings.md).",
    )


def test_an_unknown_key_is_reported_with_the_closest_known_one(settings: Any) -> None:
    settings.REALTIME = {"HEARTBEAT_INTERVALL": 5}
    assert reported() == [
        (
            "realtime.E002",
            "REALTIME has an unknown key 'HEARTBEAT_INTERVALL'.",
            "Did you mean 'HEARTBEAT_INTERVAL'? The keys are listed in docs/reference/settings.md "
            "(a feature's keys need its app in INSTALLED_APPS).",
        )
    ]


def test_an_unusable_value_names_the_key_and_its_default(settings: Any) -> None:
    settings.REALTIME = {"HEARTBEAT_TIMEOUT": "10"}
    assert reported() == [
        (
            "realtime.E003",
            "REALTIME['HEARTBEAT_TIMEOUT'] must be a number, not str '10'.",
            "Seconds a client has to answer a `ping` before the close 4408; the default is 10.0.",
        )
    ]


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        ({"JWT_SECRET": "short"}, 'Tokens would be signed with REALTIME["JWT_SECRET"], which is 5 bytes long.'),
        ({"JWT_SECRET": ""}, 'Tokens would be signed with REALTIME["JWT_SECRET"], which is empty.'),
    ],
    ids=["short", "empty"],
)
def test_a_signing_secret_too_short_for_hs256_is_an_error(
    settings: Any, configured: dict[str, str], message: str
) -> None:
    settings.REALTIME = configured
    assert [(id_, msg) for id_, msg, _ in reported()] == [("realtime.E004", message)]


def test_a_short_secret_key_is_an_error_when_it_signs_tokens(settings: Any) -> None:
    settings.SECRET_KEY = "x" * 31
    assert reported() == [
        (
            "realtime.E004",
            "Tokens would be signed with SECRET_KEY, which is 31 bytes long.",
            "Set SECRET_KEY to a random string of at least 32 bytes "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))').",
        )
    ]


def test_a_heartbeat_timeout_longer_than_its_interval_is_a_warning(settings: Any) -> None:
    settings.REALTIME = {"HEARTBEAT_INTERVAL": 5, "HEARTBEAT_TIMEOUT": 8}
    assert [(id_, msg) for id_, msg, _ in reported()] == [
        (
            "realtime.W002",
            'REALTIME["HEARTBEAT_TIMEOUT"] (8 s) is longer than HEARTBEAT_INTERVAL (5 s): a ping would be due '
            "before the answer to the last one is late, so pings go out every HEARTBEAT_TIMEOUT instead.",
        )
    ]


def test_no_channel_layer_is_an_error(settings: Any) -> None:
    del settings.CHANNEL_LAYERS
    assert [id_ for id_, _, _ in reported()] == ["realtime.E006"]


def test_a_channel_layer_that_cannot_be_imported_is_an_error(settings: Any) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.nowhere.Layer"}}
    assert [id_ for id_, _, _ in reported()] == ["realtime.E007"]


def test_a_missing_asgi_application_is_an_error(settings: Any) -> None:
    del settings.ASGI_APPLICATION
    assert reported() == [
        (
            "realtime.E008",
            "ASGI_APPLICATION is not set: daphne and manage.py serve would not know what to serve.",
            'Set ASGI_APPLICATION = "<your project>.asgi.application", the application of your asgi.py.',
        )
    ]


def test_the_token_endpoint_without_authentication_middleware_is_a_warning(settings: Any) -> None:
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if "AuthenticationMiddleware" not in name]
    assert [id_ for id_, _, _ in reported()] == ["realtime.W001"]


POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "site", "OPTIONS": {}}


def test_postgresql_with_persistent_connections_and_no_pool_is_warned_about(settings: Any) -> None:
    with mock.patch.dict(settings.DATABASES, {"reports": {**POSTGRES, "CONN_MAX_AGE": 60}}):
        found = reported()
    assert found == [
        (
            "realtime.W003",
            "DATABASES['reports'] keeps connections (CONN_MAX_AGE) without a pool: under ASGI each request's "
            "database work runs in a thread of its own, each thread keeps a connection, and a flood of requests "
            "exhausts PostgreSQL's connections.",
            'Use Django\'s pool: DATABASES[\'reports\']["OPTIONS"]["pool"] = {"max_size": 20}, with '
            '"CONN_MAX_AGE": 0 and "CONN_HEALTH_CHECKS": True (pip install "psycopg[pool]"; '
            "docs/explanation/security.md).",
        )
    ]


@pytest.mark.parametrize(
    "database",
    [{**POSTGRES, "CONN_MAX_AGE": 0, "OPTIONS": {"pool": {"max_size": 20}}}, {**POSTGRES, "CONN_MAX_AGE": 0}],
    ids=["pooled", "a-connection-per-request"],
)
def test_postgresql_with_a_pool_or_without_persistent_connections_is_clean(
    settings: Any, database: dict[str, Any]
) -> None:
    with mock.patch.dict(settings.DATABASES, {"reports": database}):
        assert reported() == []


def test_an_untested_server_version_is_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    from realtime.server import versions

    monkeypatch.setattr(versions, "installed", {"daphne": "4.3.0", "Twisted": "26.10.0", "autobahn": "26.11.1"}.get)
    assert reported() == [
        (
            "realtime.W004",
            "daphne 4.3.0: realtime.server.install() (your asgi.py, manage.py serve) is tested with daphne 4.2.x "
            "(tested at 4.2.3), Twisted 26.10.x (tested at 26.10.0), autobahn 26.11.x (tested at 26.11.1), and "
            "refuses to start with another.",
            'Install a tested version, or set REALTIME["SERVER_UNTESTED_VERSIONS"] = True to start without the '
            "patches that touch it (docs/how-to/choose-a-server.md).",
        )
    ]
