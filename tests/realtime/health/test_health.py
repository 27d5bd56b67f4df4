"""`/healthz` and `/readyz` on the embedded defaults (SQLite, in-memory layer), with failures made by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from realtime import lifecycle
from realtime.health import probes
from tests.support.live import free_port

pytestmark = pytest.mark.django_db(transaction=True)

OK = b'{"status":"ok"}'


@pytest.fixture(autouse=True)
def serving() -> Iterator[None]:
    lifecycle.reset()
    yield
    lifecycle.reset()


def unavailable(*failing: str) -> dict[str, Any]:
    return {"status": "unavailable", "failing": list(failing)}


def test_healthz_answers_ok_while_the_process_serves() -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.content, response["Cache-Control"]) == (200, OK, "no-store")


def test_readyz_answers_ok_when_the_database_answers() -> None:
    response = Client().get("/readyz")
    assert (response.status_code, response.content) == (200, OK)


def test_readyz_answers_503_naming_the_database_when_it_fails() -> None:
    with mock.patch.object(probes._database, "_check", side_effect=OperationalError("connection refused")):
        response = Client().get("/readyz")
    assert (response.status_code, json.loads(response.content)) == (503, unavailable("database"))


def test_readyz_gives_up_on_a_database_that_hangs_instead_of_hanging() -> None:
    with (
        mock.patch.object(probes._database, "_check", side_effect=lambda: time.sleep(2)),
        mock.patch.object(probes, "PROBE_TIMEOUT", 0.05),
    ):
        response = Client().get("/readyz")
    assert (response.status_code, json.loads(response.content)) == (503, unavailable("database"))


def test_readyz_answers_503_naming_redis_when_the_channel_layers_redis_does_not_answer(settings: Any) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [nowhere]}}
    }
    response = Client().get("/readyz")
    assert (response.status_code, json.loads(response.content)) == (503, unavailable("redis"))


def test_readyz_answers_503_once_the_process_is_stopping() -> None:
    lifecycle.mark_stopping()
    response = Client().get("/readyz")
    assert (response.status_code, json.loads(response.content)) == (503, unavailable("stopping"))
    assert Client().get("/healthz").status_code == 200


def test_the_health_endpoints_are_under_the_library_urls_too() -> None:
    assert [Client().get(f"/realtime/{name}").status_code for name in ("healthz", "readyz")] == [200, 200]
