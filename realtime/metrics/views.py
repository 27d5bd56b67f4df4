"""`GET /metrics`: this process's metrics in Prometheus' text format (access.py says who may read them)."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from realtime.conf import realtime_settings
from realtime.metrics.access import from_loopback, presents_the_token

NO_STORE = "no-store"
REFUSED = "/metrics is for clients on this host, or for Authorization: Bearer <METRICS_TOKEN> when it is set.\n"


@require_GET
async def metrics(request: HttpRequest) -> HttpResponse:
    if not (from_loopback(request) or presents_the_token(request)):
        return _refused()
    # Off the event loop, and off the database thread that sync views share.
    body = await asyncio.to_thread(generate_latest, REGISTRY)
    response = HttpResponse(body, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response["Cache-Control"] = NO_STORE
    return response


def _refused() -> HttpResponse:
    """401 asking for the token when there is one to ask for; 403 when only loopback clients may read."""
    if realtime_settings.METRICS_TOKEN:
        response = HttpResponse(REFUSED, status=401, content_type="text/plain; charset=utf-8")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    else:
        response = HttpResponse(REFUSED, status=403, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = NO_STORE
    return response
