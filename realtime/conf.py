"""
The REALTIME settings (docs/reference/settings.md).

A host's settings hold one dict, `REALTIME = {...}`, and every key has a
default: the library's below, a feature's where the feature registers it
(`realtime.registry`). So no key is needed, and `REALTIME` itself may be left
out. Values are read when they are used, never at import time, so that a
test's settings override acts at once. `manage.py check` reports unknown keys
and unusable values (realtime/checks.py) before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

SETTING_NAME = "REALTIME"


@dataclass(frozen=True)
class Key:
    """One key of `REALTIME`: its default, what it means, and which values it takes."""

    default: Any
    doc: str
    types: tuple[type, ...]
    # Numbers: the smallest value allowed; `positive` excludes it (> rather than >=).
    minimum: float | None = None
    positive: bool = False

    def problem(self, value: Any) -> str | None:
        """Why `value` cannot be used for this key, or None."""
        if (isinstance(value, bool) and bool not in self.types) or not isinstance(value, self.types):
            return f"must be {_describe(self.types)}, not {type(value).__name__} {value!r}"
        if self.minimum is not None and isinstance(value, int | float):
            if self.positive and value <= self.minimum:
                return f"must be greater than {self.minimum:g}, not {value!r}"
            if value < self.minimum:
                return f"must be at least {self.minimum:g}, not {value!r}"
        return None


def seconds(default: float, doc: str) -> Key:
    """A positive duration, in seconds; fractions allowed."""
    return Key(float(default), doc, (int, float), minimum=0, positive=True)


def count(default: int, doc: str, *, minimum: int = 1) -> Key:
    """A whole number of at least `minimum`."""
    return Key(default, doc, (int,), minimum=minimum)


def rate(default: float, doc: str) -> Key:
    """A positive number of events per second."""
    return Key(float(default), doc, (int, float), minimum=0, positive=True)


LIBRARY_KEYS: dict[str, Key] = {
    "JWT_SECRET": Key(
        None, "HS256 secret that signs and checks tokens; `None`: Django's `SECRET_KEY`", (str, type(None))
    ),
    "TOKEN_HTTP_TTL": count(300, "seconds a token from the token endpoint is valid"),
    "HEARTBEAT_INTERVAL": seconds(30, "seconds between the server's `ping` frames on token endpoints"),
    "HEARTBEAT_TIMEOUT": seconds(10, "seconds a client has to answer a `ping` before the close 4408"),
    "FEED_CHECK_INTERVAL": seconds(1, "seconds between checks of open feeds against the database"),
    "REVOCATION_CHECK_INTERVAL": seconds(
        60, "seconds within which every process closes the connections of a deactivated or deleted user"
    ),
    "CHANNEL_BACKLOG_LIMIT": count(1000, "live events that may wait for one connection before the close 4410"),
    "WEBSOCKET_MAX_MESSAGE_SIZE": count(
        64 * 1024, "largest message a client may send and the server will send, in bytes (larger: 1009)", minimum=1024
    ),
    "SERVER_BACKLOG": count(4096, "listen backlog that `manage.py serve` gives daphne"),
    "RATE_LIMIT_MESSAGES_PER_SECOND": rate(20, "steady rate of client messages per connection"),
    "RATE_LIMIT_MESSAGES_BURST": count(60, "burst of client messages per connection"),
    "RATE_LIMIT_STRIKES": count(20, "refused messages within `RATE_LIMIT_STRIKE_SECONDS` that close with 4429"),
    "RATE_LIMIT_STRIKE_SECONDS": seconds(10, "the window of `RATE_LIMIT_STRIKES`"),
    "RATE_LIMIT_REPLAY_ENTRIES_PER_SECOND": rate(
        2000, "entries one user's replays may read a second, per process (`subscribe` with `since`)"
    ),
    "RATE_LIMIT_REPLAY_ENTRIES_BURST": count(
        10_000, "entries one user's replays may read in a burst; past it, `rate_limited` (4429 on a per-feed endpoint)"
    ),
    "TOPIC_PERMISSION": Key(
        None,
        "dotted path of `can_follow(user, topic) -> bool`, asked before a connection follows a topic; "
        "`None`: every authenticated user may",
        (str, type(None)),
    ),
    "SEND_BUFFER_LIMIT": count(
        1024 * 1024, "bytes waiting to be written to a connection before it is closed with 4410", minimum=64 * 1024
    ),
    "HANDSHAKE_TIMEOUT": seconds(10, "seconds a TCP connection has to send a complete request head (handshake)"),
    "HTTP_SEND_TIMEOUT": seconds(
        30, "seconds an HTTP response may wait for its client to read anything before the connection is dropped"
    ),
    "MAX_CONNECTIONS_PER_IP": count(
        1000,
        "open WebSocket connections per client address and process; the next is refused (4429); 0: no cap",
        minimum=0,
    ),
    "SERVER_TUNING": Key(
        True,
        "the server integration's speed and memory tuning of daphne, Twisted and autobahn (its bounds stay on)",
        (bool,),
    ),
    "SERVER_UNTESTED_VERSIONS": Key(
        False,
        "start at daphne, Twisted or autobahn versions outside the tested table, without the patches that touch them",
        (bool,),
    ),
    "SERVE_STATIC": Key(
        True,
        "serve `STATIC_URL` from the application (Django's `ASGIStaticFilesHandler`); off where a proxy serves "
        "`collectstatic`'s output",
        (bool,),
    ),
    "TRUSTED_PROXIES": Key(
        [], "addresses of the proxies whose `X-Forwarded-For` names the client (its last untrusted entry)", (list,)
    ),
    "REPLAY_LIMIT": count(1000, "entries a replay sends over the socket; past it, none, and `truncated: true`"),
    "MAX_TOPICS_PER_CONNECTION": count(50, "topics one `/ws/` connection may follow"),
    "PRESENCE": Key(True, "presence and typing on the topics whose kind switches them on", (bool,)),
    "PRESENCE_INTERVAL": seconds(1, "seconds between two `presence_diff` frames of a topic (joins and leaves batched)"),
    "PRESENCE_TTL": seconds(30, "seconds within which the users of a server process that died leave"),
    "PRESENCE_LIST_LIMIT": count(
        100, "users a topic may have for its presence frames to list them; past it, `count` only", minimum=0
    ),
    "TYPING_INTERVAL": seconds(3, "seconds between two `typing` frames of one user on one topic (more are dropped)"),
    "MAX_CONNECTIONS_PER_USER": count(
        20, "open connections per user (all processes, with Redis); the next is refused with 4429; 0: no cap", minimum=0
    ),
    "METRICS_TOKEN": Key(
        None,
        "bearer token that lets other hosts read `/metrics`; `None`: loopback clients only",
        (str, type(None)),
    ),
    "SSE_RETRY": Key(
        None,
        "seconds a browser's `EventSource` waits before reconnecting a dropped SSE stream (the stream's `retry:` "
        "field); `None`: no such field, the browser's own delay (3 s in Chromium)",
        (int, float, type(None)),
        minimum=0,
        positive=True,
    ),
}


class RealtimeSettings:
    """`realtime_settings.HEARTBEAT_INTERVAL`: the host's value, or the key's default."""

    def __init__(self, keys: Mapping[str, Key]) -> None:
        self._keys: dict[str, Key] = dict(keys)
        self._owners: dict[str, str] = dict.fromkeys(keys, "realtime")

    def register(self, owner: str, keys: Mapping[str, Key]) -> None:
        """Add a feature's keys. A key may belong to one owner only; registering it again is a no-op."""
        for name, key in keys.items():
            if self._owners.get(name, owner) != owner:
                raise ValueError(f"REALTIME key {name} belongs to {self._owners[name]}; {owner} cannot register it")
            self._keys[name] = key
            self._owners[name] = owner

    def keys(self) -> Mapping[str, Key]:
        return dict(self._keys)

    def owner(self, name: str) -> str:
        return self._owners[name]

    def configured(self) -> Mapping[str, Any]:
        """The host's `REALTIME` dict (empty when it is unset or not a dict; checks.py reports that)."""
        value = getattr(settings, SETTING_NAME, None)
        return value if isinstance(value, Mapping) else {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        key = self._keys.get(name)
        if key is None:
            raise AttributeError(f"{SETTING_NAME} has no key {name!r} (is the app that defines it installed?)")
        return self.configured().get(name, key.default)


realtime_settings = RealtimeSettings(LIBRARY_KEYS)


def _describe(types: tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", type(None): "None"}
    wanted = [names.get(kind, kind.__name__) for kind in types if not (kind is int and float in types)]
    return " or ".join(wanted)
