"""`GET /metrics`: Prometheus' text format, for loopback clients or the bearer of METRICS_TOKEN."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

TOKEN = "a-metrics-token-long-enough-to-be-a-secret"
REFUSAL = b"/metrics is for clients on this host, or for Authorization: Bearer <METRICS_TOKEN> when it is set.\n"
PROXY = "127.0.0.1"


@pytest.mark.parametrize(
    ("peer", "headers", "proxies", "status"),
    [
        ("127.0.0.1", {}, [], 200),
        ("::1", {}, [], 200),
        ("127.0.0.1", {}, [PROXY], 200),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "127.0.0.5"}, [PROXY], 200),
        ("203.0.113.5", {}, [], 403),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, [PROXY], 403),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, [], 403),
        ("127.0.0.1", {"HTTP_X_REAL_IP": "203.0.113.5"}, [], 403),
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "127.0.0.1"}, [PROXY], 403),
        ("203.0.113.5", {"HTTP_X_FORWARDED_FOR": "127.0.0.1"}, [PROXY], 403),
    ],
    ids=[
        "loopback",
        "loopback-ipv6",
        "loopback-scraper-where-the-proxy-is-trusted",
        "loopback-client-through-the-trusted-proxy",
        "another-host",
        "another-host-through-the-trusted-proxy",
        "another-host-through-a-proxy-nobody-named",
        "another-host-through-a-proxy-saying-x-real-ip",
        "through-the-proxy-naming-only-itself",
        "another-host-claiming-loopback",
    ],
)
def test_only_clients_on_this_host_read_the_metrics_without_a_token(
    peer: str, headers: dict[str, Any], proxies: list[str], status: int, realtime_settings: Any
) -> None:
    realtime_settings.TRUSTED_PROXIES = proxies
    response = Client(REMOTE_ADDR=peer, **headers).get("/metrics")
    assert response.status_code == status
    if status == 403:
        assert response.content == REFUSAL


def test_the_metrics_are_prometheus_text_with_every_family_of_the_contract() -> None:
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    declared = {line.split()[2] for line in response.content.decode().splitlines() if line.startswith("# TYPE ")}
    assert {
        "realtime_connections",
        "realtime_handshakes_total",
        "realtime_closes_total",
        "realtime_messages_received_total",
        "realtime_messages_sent_total",
        "realtime_error_frames_total",
        "realtime_delivery_seconds",
        "realtime_replayed_entries_total",
        "realtime_presence_topics",
        "realtime_channel_layer_failures_total",
        "realtime_database_failures_total",
    } <= declared


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(f"Bearer {TOKEN}", 200), (f"bearer {TOKEN}", 200), (f"Bearer {TOKEN}x", 401), ("Bearer ", 401), (None, 401)],
    ids=["token", "lowercase-scheme", "wrong-token", "empty-token", "no-header"],
)
def test_another_host_reads_the_metrics_with_the_token_only(
    authorization: str | None, status: int, realtime_settings: Any
) -> None:
    realtime_settings.METRICS_TOKEN = TOKEN
    headers: dict[str, Any] = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = Client(REMOTE_ADDR="203.0.113.5", **headers).get("/metrics")
    assert response.status_code == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert response.content == REFUSAL


def test_a_bearer_token_is_no_use_while_metrics_token_is_unset() -> None:
    response = Client().get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer None")
    assert response.status_code == 403


def test_the_metrics_are_under_the_library_urls_too() -> None:
    assert Client().get("/realtime/metrics").status_code == 200


def test_only_get_reads_the_metrics() -> None:
    assert Client().post("/metrics").status_code == 405
