"""
Django settings for the realtime port.

Every value an operator can change comes from the environment, read here and
nowhere else (django-environ parses it). The defaults are the embedded ones: a
SQLite file next to this project and the in-memory channel layer, so a fresh
clone runs with nothing else installed. See README.md, "Configuration".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ

from project.secrets import configured_secret, local_secret_key
from realtime.layers.config import channel_layers, sentinel_address

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Secrets (README, "Secrets"): a configured one must be at least 32 bytes, or
# nothing starts. With no DJANGO_SECRET_KEY, a random key is made on first start
# and kept in an untracked file, so `make run` needs no configuration and no key
# anyone else knows signs a token. Production sets DJANGO_SECRET_KEY (and usually
# JWT_SECRET) to long random values.
SECRET_KEY_FILE = Path(env.str("DJANGO_SECRET_KEY_FILE", default=str(BASE_DIR / ".secret_key")))
SECRET_KEY: str = configured_secret(os.environ, "DJANGO_SECRET_KEY") or local_secret_key(SECRET_KEY_FILE)
DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
# Origins (besides the site's own) that browsers may post forms and open WebSockets from.
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "realtime",
    "notifications",
    "comments",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # At most DATABASE_POOL_MAX_SIZE connections per server process, whatever its load
    # (README, "Security"): under ASGI each HTTP request's database work runs in a thread
    # of its own, and persistent connections (CONN_MAX_AGE) would keep one per thread.
    # Django's pool (psycopg_pool) lends a connection for each request and each
    # database_sync_to_async call, and takes it back after; a request that finds every
    # connection lent waits up to DATABASE_POOL_TIMEOUT seconds for one, in turn. Each
    # connection is checked as it is lent (an empty query: one round trip), so that after
    # the database restarted no operation gets a connection that died idle in the pool.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=3.0),
    }
else:
    # SQLite: a file, no server to exhaust. Consumers reach it through
    # database_sync_to_async, in one shared thread per process: one connection kept
    # for that thread instead of opening the file for every message, and no health
    # check before each use (a round trip to every message for a file that does not restart).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Writers take the lock when their transaction begins, so concurrent
            # writers queue up (for `timeout` seconds) instead of failing with
            # "database is locked" when a read transaction upgrades to a write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # Write-ahead logging: readers do not wait for the writer, and a commit
            # is one append and one sync, still durable (synchronous=FULL).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        }
    )
    # Tests that run a real daphne share this file with the test process.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(BASE_DIR / "test-db.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ----------------------------------------------------------

# Without Redis: the in-memory layer, one process. With REDIS_URL (several
# comma-separated URLs shard channels and groups over those hosts) or with
# REDIS_SENTINELS: channels-redis' pub/sub layer. README, "Choosing the channel
# layer" has the measurements behind that choice.
REDIS_URLS: list[str] = env.list("REDIS_URL", default=[])
REDIS_URL: str = ",".join(REDIS_URLS)
REDIS_SENTINELS: list[tuple[str, int]] = [sentinel_address(a) for a in env.list("REDIS_SENTINELS", default=[])]
REDIS_SENTINEL_MASTER: str = env.str("REDIS_SENTINEL_MASTER", default="mymaster")
# This site's channels, groups and keys in Redis: sites sharing one Redis server need distinct prefixes.
REDIS_PREFIX: str = env.str("REDIS_PREFIX", default="asgi")
CHANNEL_LAYERS = channel_layers(
    redis_urls=REDIS_URLS, sentinels=REDIS_SENTINELS, sentinel_master=REDIS_SENTINEL_MASTER, prefix=REDIS_PREFIX
)

# --- The realtime apps (README, "Settings") ------------------------------------

# Every key has a default in the apps; the environment variables of PROTOCOL.md
# (same names) set those an operator wants otherwise.
REALTIME_ENVIRONMENT: dict[str, Any] = {
    "JWT_SECRET": lambda name: configured_secret(os.environ, name),
    "TOKEN_HTTP_TTL": env.int,
    "HEARTBEAT_INTERVAL": env.float,
    "HEARTBEAT_TIMEOUT": env.float,
    "FEED_CHECK_INTERVAL": env.float,
    "REVOCATION_CHECK_INTERVAL": env.float,
    "CHANNEL_BACKLOG_LIMIT": env.int,
    "WEBSOCKET_MAX_MESSAGE_SIZE": env.int,
    "SERVER_BACKLOG": env.int,
    "RATE_LIMIT_MESSAGES_PER_SECOND": env.float,
    "RATE_LIMIT_MESSAGES_BURST": env.int,
    "RATE_LIMIT_STRIKES": env.int,
    "RATE_LIMIT_STRIKE_SECONDS": env.float,
    "MAX_CONNECTIONS_PER_USER": env.int,
    "METRICS_TOKEN": env.str,
    "SSE_RETRY": env.float,
    "SEND_BUFFER_LIMIT": env.int,
    "HANDSHAKE_TIMEOUT": env.float,
    "HTTP_SEND_TIMEOUT": env.float,
    "MAX_CONNECTIONS_PER_IP": env.int,
    "TRUSTED_PROXIES": env.list,
    "REPLAY_LIMIT": env.int,
    "MAX_TOPICS_PER_CONNECTION": env.int,
    "PRESENCE": env.bool,
    "PRESENCE_INTERVAL": env.float,
    "PRESENCE_TTL": env.float,
    "PRESENCE_LIST_LIMIT": env.int,
    "TYPING_INTERVAL": env.float,
    "TOPIC_PERMISSION": env.str,
    "COMMENT_MAX_LENGTH": env.int,
    "RATE_LIMIT_COMMENTS_PER_SECOND": env.float,
    "RATE_LIMIT_COMMENTS_BURST": env.int,
    "SERVER_TUNING": env.bool,
    "SERVER_UNTESTED_VERSIONS": env.bool,
    "RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND": env.float,
    "RATE_LIMIT_REPLAY_ENTRIES_BURST": env.int,
}
REALTIME: dict[str, Any] = {name: read(name) for name, read in REALTIME_ENVIRONMENT.items() if name in os.environ}

# --- HTTP -------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "demo:page"
LOGOUT_REDIRECT_URL = "demo:page"

# /static/ (admin and demo assets, the JavaScript client) is served by the ASGI
# application itself, as in a host site (REALTIME["SERVE_STATIC"]); DJANGO_SERVE_STATIC=off
# when a proxy or CDN serves `collectstatic` output instead.
if "DJANGO_SERVE_STATIC" in os.environ:
    REALTIME["SERVE_STATIC"] = env.bool("DJANGO_SERVE_STATIC")
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging ----------------------------------------------------------------

LOG_LEVEL: str = env.str("DJANGO_LOG_LEVEL", default="INFO")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "realtime": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "notifications": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "comments": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
