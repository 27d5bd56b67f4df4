"""
The ASGI entry point: the README's `asgi.py` block, plus what this repository's
site serves on top: the seed's open endpoints (`/ws/echo`, `/ws/json`) and its
own wording of a missing Redis. Static files are served as a host site's are:
by `realtime_application` (REALTIME["SERVE_STATIC"], DJANGO_SERVE_STATIC here). Served by
daphne (`make run`, or plain `daphne project.asgi:application`), or by any
ASGI server (uvicorn: README, "Performance").
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
# Set up Django before anything imports models.
django_application = get_asgi_application()

from realtime import registry, server  # noqa: E402
from realtime.asgi import realtime_application  # noqa: E402
from realtime.layers.redis import RedisTarget, RedisUnreachable, check_redis  # noqa: E402
from realtime.routing import seed_urlpatterns  # noqa: E402

server.install()


def _environment_of(target: RedisTarget) -> str:
    """The environment variable (settings.py) that named `target`, as it was set."""
    if target.sentinels:
        return (
            f"REDIS_SENTINELS={','.join(f'{host}:{port}' for host, port in target.sentinels)} (master {target.master})"
        )
    return f"REDIS_URL={target}"


try:
    check_redis()
except RedisUnreachable as unreachable:
    raise SystemExit(
        f"Cannot reach Redis at {_environment_of(unreachable.target)} ({unreachable.error}). "
        "Start Redis or correct REDIS_URL; unset REDIS_URL to run one process on the in-memory channel layer."
    ) from None

application = realtime_application(
    django_application,
    websocket_urlpatterns=[*seed_urlpatterns, *registry.websocket_urlpatterns()],
    check_redis_at_start=False,
)
