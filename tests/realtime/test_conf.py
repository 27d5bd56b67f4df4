"""realtime.conf: one REALTIME dict, a default for every key, features adding theirs."""

from __future__ import annotations

from typing import Any

import pytest

from realtime.conf import LIBRARY_KEYS, Key, RealtimeSettings, count, realtime_settings, seconds


def test_without_realtime_in_the_settings_every_key_has_its_default(settings: Any) -> None:
    del settings.REALTIME
    assert (realtime_settings.HEARTBEAT_INTERVAL, realtime_settings.MAX_CONNECTIONS_PER_USER) == (30.0, 20)


def test_a_configured_key_wins_over_its_default(realtime_settings: Any) -> None:
    realtime_settings.HEARTBEAT_INTERVAL = 5
    from realtime.conf import realtime_settings as read

    assert read.HEARTBEAT_INTERVAL == 5


def test_the_features_keys_are_keys_of_realtime_with_their_defaults() -> None:
    keys = realtime_settings.keys()
    assert (keys["COMMENT_MAX_LENGTH"].default, keys["RATE_LIMIT_COMMENTS_BURST"].default) == (5000, 10)
    assert realtime_settings.COMMENT_MAX_LENGTH == 5000
    assert realtime_settings.owner("COMMENT_MAX_LENGTH") == "comments"


def test_reading_an_unknown_key_names_it() -> None:
    with pytest.raises(AttributeError) as unknown:
        _ = realtime_settings.HEARTBEAT_INTERVALS
    assert str(unknown.value) == "REALTIME has no key 'HEARTBEAT_INTERVALS' (is the app that defines it installed?)"


def test_a_key_belongs_to_one_owner() -> None:
    keys = RealtimeSettings(LIBRARY_KEYS)
    keys.register("comments", {"COMMENT_MAX_LENGTH": count(5000, "longest body")})
    keys.register("comments", {"COMMENT_MAX_LENGTH": count(5000, "longest body")})
    with pytest.raises(ValueError, match="REALTIME key COMMENT_MAX_LENGTH belongs to comments; blog cannot"):
        keys.register("blog", {"COMMENT_MAX_LENGTH": count(100, "another")})


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (seconds(30, "s"), 2.5, None),
        (seconds(30, "s"), 3, None),
        (seconds(30, "s"), 0, "must be greater than 0, not 0"),
        (seconds(30, "s"), "30", "must be a number, not str '30'"),
        (seconds(30, "s"), True, "must be a number, not bool True"),
        (count(20, "n", minimum=0), 0, None),
        (count(20, "n"), 0, "must be at least 1, not 0"),
        (count(20, "n"), 2.5, "must be an integer, not float 2.5"),
        (Key(None, "secret", (str, type(None))), 12, "must be a string or None, not int 12"),
    ],
    ids=["fraction", "integer-seconds", "zero-seconds", "string", "bool", "zero-allowed", "below-minimum",
         "float-count", "not-a-string"],
)  # fmt: skip
def test_each_key_says_which_values_it_takes(key: Key, value: Any, problem: str | None) -> None:
    assert key.problem(value) == problem
