"""
`GET /healthz`: 200 `{"status":"ok"}` while the process serves (liveness).

`GET /readyz`: 200 `{"status":"ok"}` when the database and, when the channel
layer is Redis, Redis answer (probes.py); else 503 `{"status":"unavailable",
"failing":[...]}` naming `database` and/or `redis`. A process that has begun to
stop answers 503 with `"failing":["stopping"]` (realtime/lifecycle.py), also when
its probes were already under way: a proxy sends no new client to it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from realtime import lifecycle
from realtime.health import probes

NO_STORE = "no-store"
DATABASE = "database"
REDIS = "redis"
STOPPING = "stopping"
SERVICE_UNAVAILABLE = 503


@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    return _answer({"status": "ok"})


@require_GET
async def readyz(request: HttpRequest) -> JsonResponse:
    if lifecycle.stopping():
        return _unavailable([STOPPING])
    database, redis = await asyncio.gather(probes.database_answers(), probes.redis_answers())
    failing = [name for name, answers in ((DATABASE, database), (REDIS, redis)) if not answers]
    if lifecycle.stopping():  # began to stop while the probes ran
        failing.append(STOPPING)
    if failing:
        return _unavailable(failing)
    return _answer({"status": "ok"})


def _unavailable(failing: list[str]) -> JsonResponse:
    return _answer({"status": "unavailable", "failing": failing}, status=SERVICE_UNAVAILABLE)


def _answer(body: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    response["Cache-Control"] = NO_STORE
    return response
