"""A topic kind of a test's own, served on `/ws/` for the length of a `with` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from realtime.topics.kinds import TopicKind, register_topic_kind, unregister_topic_kind

Kind = TypeVar("Kind", bound=TopicKind)


@contextmanager
def topic_kind_registered(kind: Kind) -> Iterator[Kind]:
    """Register `kind` (as a feature's `AppConfig.ready()` would), and forget it afterwards."""
    register_topic_kind(kind)
    try:
        yield kind
    finally:
        unregister_topic_kind(kind)
