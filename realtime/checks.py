"""
System checks (`manage.py check`): what would otherwise fail only once a
connection arrives, as an HTTP 500 or a close 1011. Each names the setting and
what to set it to.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from realtime.auth.tokens import signing_secret
from realtime.conf import SETTING_NAME, realtime_settings
from realtime.docs import docs_page

TAG = "realtime"
# RFC 7518 3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_SECRET_BYTES = 32
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
SETTINGS_PAGE = docs_page("reference/settings.md")


@register(TAG)
def check_realtime_settings(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """`REALTIME` is a dict whose every key is known and every value usable."""
    configured = getattr(settings, SETTING_NAME, {})
    if not isinstance(configured, dict):
        return [
            Error(
                f"{SETTING_NAME} must be a dict, not {type(configured).__name__}.",
                hint=f"Set {SETTING_NAME} = {{}} (every key has a default; {SETTINGS_PAGE}).",
                id="realtime.E001",
            )
        ]
    keys = realtime_settings.keys()
    problems: list[CheckMessage] = []
    for name, value in configured.items():
        key = keys.get(name)
        if key is None:
            close = difflib.get_close_matches(str(name), keys, n=1)
            problems.append(
                Error(
                    f"{SETTING_NAME} has an unknown key {name!r}.",
                    hint=(f"Did you mean {close[0]!r}? " if close else "")
                    + f"The keys are listed in {SETTINGS_PAGE} (a feature's keys need its app in INSTALLED_APPS).",
                    id="realtime.E002",
                )
            )
            continue
        problem = key.problem(value)
        if problem is not None:
            problems.append(
                Error(
                    f"{SETTING_NAME}[{name!r}] {problem}.",
                    hint=f"{key.doc[0].upper()}{key.doc[1:]}; the default is {key.default!r}.",
                    id="realtime.E003",
                )
            )
    return problems


@register(TAG)
def check_signing_secret(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Tokens are signed with a secret long enough for HS256."""
    secret = signing_secret() if _usable("JWT_SECRET") else settings.SECRET_KEY
    size = len(str(secret or "").encode())
    if size >= MIN_SECRET_BYTES:
        return []
    own = _usable("JWT_SECRET") and realtime_settings.configured().get("JWT_SECRET") is not None
    source = f'{SETTING_NAME}["JWT_SECRET"]' if own else "SECRET_KEY"
    return [
        Error(
            f"Tokens would be signed with {source}, which is {'empty' if not size else f'{size} bytes long'}.",
            hint=f"Set {source} to a random string of at least {MIN_SECRET_BYTES} bytes "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))').",
            id="realtime.E004",
        )
    ]


@register(TAG)
def check_heartbeat(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """A heartbeat whose answer is due after the next ping would be due pings more often than HEARTBEAT_INTERVAL."""
    if not (_usable("HEARTBEAT_INTERVAL") and _usable("HEARTBEAT_TIMEOUT")):
        return []  # check_realtime_settings reports the values themselves
    interval, timeout = realtime_settings.HEARTBEAT_INTERVAL, realtime_settings.HEARTBEAT_TIMEOUT
    if timeout <= interval:
        return []
    return [
        Warning(
            f'{SETTING_NAME}["HEARTBEAT_TIMEOUT"] ({timeout:g} s) is longer than HEARTBEAT_INTERVAL '
            f"({interval:g} s): a ping would be due before the answer to the last one is late, so pings "
            "go out every HEARTBEAT_TIMEOUT instead.",
            hint="Set HEARTBEAT_TIMEOUT below HEARTBEAT_INTERVAL (the defaults are 10 and 30 seconds).",
            id="realtime.W002",
        )
    ]


@register(TAG)
def check_channel_layer(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Live events need a channel layer; without one they only arrive with the feed checks."""
    layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
    layer = layers.get("default")
    if not layer:
        return [
            Error(
                "No channel layer is configured (CHANNEL_LAYERS has no 'default'): "
                "pushes and broadcasts would not reach open connections.",
                hint='Set CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}} '
                f"for one process, or channels-redis' layer for several ({docs_page('how-to/several-processes.md')}).",
                id="realtime.E006",
            )
        ]
    try:
        import_string(layer.get("BACKEND", ""))
    except ImportError as error:
        return [
            Error(
                f"CHANNEL_LAYERS['default']['BACKEND'] cannot be imported: {error}.",
                hint="Install the package that provides it (channels-redis for channels_redis.*), or correct the path.",
                id="realtime.E007",
            )
        ]
    return []


@register(TAG)
def check_asgi_application(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "ASGI_APPLICATION", None):
        return []
    return [
        Error(
            "ASGI_APPLICATION is not set: daphne and manage.py serve would not know what to serve.",
            hint='Set ASGI_APPLICATION = "<your project>.asgi.application", the application of your asgi.py.',
            id="realtime.E008",
        )
    ]


@register(TAG)
def check_topic_permission(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The permission hook named in TOPIC_PERMISSION can be imported."""
    if not _usable("TOPIC_PERMISSION") or realtime_settings.TOPIC_PERMISSION is None:
        return []
    try:
        hook = import_string(realtime_settings.TOPIC_PERMISSION)
    except ImportError as error:
        problem = f"cannot be imported: {error}"
    else:
        problem = "" if callable(hook) else "is not a function"
    if not problem:
        return []
    return [
        Error(
            f'{SETTING_NAME}["TOPIC_PERMISSION"] {problem}.',
            hint="Name a function can_follow(user, topic) -> bool, as a dotted path "
            f"({docs_page('how-to/permissions.md')}).",
            id="realtime.E009",
        )
    ]


@register(TAG)
def check_token_endpoint_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The token endpoint knows the signed-in user from Django's authentication middleware."""
    if AUTH_MIDDLEWARE in getattr(settings, "MIDDLEWARE", []):
        return []
    return [
        Warning(
            f"{AUTH_MIDDLEWARE} is not in MIDDLEWARE: the token endpoint (realtime.urls) cannot see who is signed in.",
            hint="Add django.contrib.sessions' SessionMiddleware and AuthenticationMiddleware, as startproject does.",
            id="realtime.W001",
        )
    ]


@register(TAG)
def check_database_pool(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """PostgreSQL under ASGI: a pool bounds the connections; persistent connections, one per request thread, do not."""
    problems: list[CheckMessage] = []
    for alias, database in getattr(settings, "DATABASES", {}).items():
        if not database.get("ENGINE", "").endswith("postgresql") or database.get("OPTIONS", {}).get("pool"):
            continue
        if database.get("CONN_MAX_AGE", 0) == 0:
            continue  # a connection per request, closed after it: bounded by the concurrent requests
        problems.append(
            Warning(
                f"DATABASES[{alias!r}] keeps connections (CONN_MAX_AGE) without a pool: under ASGI each "
                "request's database work runs in a thread of its own, each thread keeps a connection, and "
                "a flood of requests exhausts PostgreSQL's connections.",
                hint=f'Use Django\'s pool: DATABASES[{alias!r}]["OPTIONS"]["pool"] = {{"max_size": 20}}, with '
                '"CONN_MAX_AGE": 0 and "CONN_HEALTH_CHECKS": True (pip install "psycopg[pool]"; '
                f"{docs_page('explanation/security.md')}).",
                id="realtime.W003",
            )
        )
    return problems


@register(TAG)
def check_server_versions(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """daphne, Twisted and autobahn at the versions the server integration is tested with."""
    from realtime.server import versions

    untested = versions.untested()
    if not untested or (_usable("SERVER_UNTESTED_VERSIONS") and realtime_settings.SERVER_UNTESTED_VERSIONS):
        return []
    found = ", ".join(f"{name} {version}" for name, version in untested.items())
    return [
        Warning(
            f"{found}: realtime.server.install() (your asgi.py, manage.py serve) is tested with "
            f"{versions.describe_tested()}, and refuses to start with another.",
            hint='Install a tested version, or set REALTIME["SERVER_UNTESTED_VERSIONS"] = True to start without '
            f"the patches that touch it ({docs_page('how-to/choose-a-server.md')}).",
            id="realtime.W004",
        )
    ]


def _usable(name: str) -> bool:
    """True when `REALTIME[name]` is unset or a value its key accepts."""
    configured = realtime_settings.configured()
    return name not in configured or realtime_settings.keys()[name].problem(configured[name]) is None
