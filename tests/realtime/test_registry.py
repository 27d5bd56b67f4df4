"""realtime.registry: features tell the library their settings, error codes, budgets and routes."""

from __future__ import annotations

import pytest

from comments.feature import COMMENTS
from realtime import registry
from realtime.frames import error_codes, error_frame
from realtime.limits.ratelimit import budget
from realtime.registry import Feature


def test_the_installed_features_are_registered_in_app_order() -> None:
    assert [feature.name for feature in registry.features()] == ["notifications", "comments"]


def test_a_features_error_codes_and_budgets_become_known() -> None:
    assert {"invalid_body", "invalid_client_id"} <= error_codes()
    assert budget("comment").plural == "comments"


def test_the_websocket_routes_are_ws_then_every_features() -> None:
    routes = [str(pattern.pattern) for pattern in registry.websocket_urlpatterns()]
    assert routes == ["^ws/?$", "^ws/notifications/?$", "^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$"]


def test_registering_a_feature_again_changes_nothing() -> None:
    registry.register(COMMENTS)
    assert [feature.name for feature in registry.features()] == ["notifications", "comments"]


def test_another_feature_under_a_taken_name_is_refused() -> None:
    with pytest.raises(ValueError, match="Another feature is already registered as 'comments'"):
        registry.register(Feature(name="comments"))


def test_an_error_frame_with_an_unregistered_code_is_a_bug() -> None:
    with pytest.raises(ValueError, match="Unknown error code 'made_up'"):
        error_frame("made_up", "No such code.")
