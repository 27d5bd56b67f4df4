"""The `endpoint` label is the route a connection came by, written as a path; never the path itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import path

from realtime.consumers.seed import EchoConsumer
from realtime.metrics.endpoints import OTHER, EndpointLabels, route_label
from realtime.routing import websocket_route

APP: Any = EchoConsumer.as_asgi()  # a route of either kind (Django's `path` knows views only)


@pytest.mark.parametrize(
    ("route", "label"),
    [
        (websocket_route(r"^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$", APP), "/ws/live-comments/<post_id>"),
        (websocket_route(r"^ws/notifications/?$", APP), "/ws/notifications"),
        (websocket_route(r"^ws/?$", APP, name="/ws/"), "/ws/"),
        (websocket_route(r"^ws/rooms/(\w+)/(?P<n>\d+)$", APP), "/ws/rooms/<arg>/<n>"),
        (websocket_route(r"^ws/a\.b$", APP), "/ws/a.b"),
        (path("ws/rooms/<slug:room>/", APP), "/ws/rooms/<room>/"),
    ],
    ids=["named-group", "optional-slash", "named-route", "unnamed-group", "escaped", "django-path"],
)
def test_a_route_is_labelled_by_its_pattern_written_as_a_path(route: object, label: str) -> None:
    assert route_label(route) == label  # type: ignore[arg-type]  # a URLPattern either way


def test_a_path_is_labelled_by_the_first_route_that_matches_it_and_other_by_none() -> None:
    labels = EndpointLabels(
        [
            websocket_route(r"^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$", APP),
            websocket_route(r"^ws/?$", APP, name="/ws/"),
        ]
    )
    assert [labels.of({"path": p}) for p in ("/ws/live-comments/17", "/ws/live-comments/18/", "/ws/", "/ws/x")] == [
        "/ws/live-comments/<post_id>",
        "/ws/live-comments/<post_id>",
        "/ws/",
        OTHER,
    ]
