"""
What features tell the library about themselves (STYLE.md: the library imports
no feature app).

A feature app (`notifications`, `comments`, a host's own) registers one
`Feature` from its `AppConfig.ready()`:

    register(Feature(
        name="comments",
        settings={"COMMENT_MAX_LENGTH": count(5000, "...")},
        error_codes={"invalid_body": "a new_comment whose body ..."},
        budgets=[Budget("comment", "comments", "RATE_LIMIT_COMMENTS_PER_SECOND", "RATE_LIMIT_COMMENTS_BURST")],
        websocket_urlpatterns="comments.routing.websocket_urlpatterns",
    ))

Its settings become keys of `REALTIME` (with their defaults and checks), its
error codes and rate budgets become known to every consumer, and its WebSocket
routes are served by `realtime.asgi.realtime_application()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import import_string

from realtime.conf import Key, realtime_settings
from realtime.frames import register_error_codes
from realtime.limits.ratelimit import Budget, register_budget
from realtime.topics.kinds import TopicKind, register_topic_kind


@dataclass(frozen=True)
class Feature:
    name: str
    settings: Mapping[str, Key] = field(default_factory=dict)
    # Error code slug -> when the feature sends it (the table of docs/reference/errors.md).
    error_codes: Mapping[str, str] = field(default_factory=dict)
    budgets: Sequence[Budget] = ()
    # Dotted path of a list of URL patterns (resolved when the ASGI application is built).
    websocket_urlpatterns: str | None = None
    # The kinds of topics `/ws/` serves for the feature (realtime/topics/kinds.py).
    topics: Sequence[TopicKind] = ()
    # Dotted path of a list of HTTP URL patterns, served under `realtime.urls` (history, say).
    urlpatterns: str | None = None


_features: dict[str, Feature] = {}


def register(feature: Feature) -> None:
    """Tell the library about `feature`. Registering the same feature again changes nothing."""
    known = _features.get(feature.name)
    if known is not None:
        if known != feature:
            raise ValueError(f"Another feature is already registered as {feature.name!r}")
        return
    realtime_settings.register(feature.name, feature.settings)
    register_error_codes(feature.name, list(feature.error_codes))
    for budget in feature.budgets:
        register_budget(budget)
    for kind in feature.topics:
        register_topic_kind(kind)
    _features[feature.name] = feature


def features() -> list[Feature]:
    """The registered features, in the order their apps are installed (ready() order)."""
    return list(_features.values())


def websocket_urlpatterns() -> list[Any]:
    """`/ws/` (when a feature has topics) and every registered feature's WebSocket routes, in registration order."""
    patterns: list[Any] = []
    if any(feature.topics for feature in _features.values()):
        patterns.extend(import_string("realtime.routing.topics_urlpatterns"))
    for feature in _features.values():
        if feature.websocket_urlpatterns is not None:
            patterns.extend(import_string(feature.websocket_urlpatterns))
    return patterns


def http_urlpatterns() -> list[Any]:
    """Every registered feature's HTTP routes, served under `realtime.urls`."""
    patterns: list[Any] = []
    for feature in _features.values():
        if feature.urlpatterns is not None:
            patterns.extend(import_string(feature.urlpatterns))
    return patterns
