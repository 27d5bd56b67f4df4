"""
What a subscription reads from the database before it goes live, in one trip
to the database thread: the feed's high-water mark (where live delivery starts,
feeds/sequenced.py) and the site's permission hook's answer (auth/permissions.py).

A per-feed endpoint reads it at the handshake, in the token middleware's trip
(`FeedConsumer.read_at_handshake`): one trip for the user and the feed. That
read comes before the connection joins the feed's group, so an entry committed
between the two has no live event for this connection; the next entry's event
reveals the gap (feeds/sequenced.py), or, when there is none, the feed checks
deliver it within two `FEED_CHECK_INTERVAL`s (feeds/checks.py): nothing is lost
or doubled. A `subscribe` on `/ws/` reads it after joining the group.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import AbstractBaseUser

from realtime.auth.permissions import permission_hook

if TYPE_CHECKING:
    from realtime.topics.kinds import TopicKind


@dataclass(frozen=True, slots=True)
class Opening:
    """`found`: the key exists; `allowed`: the hook lets the user follow it; `mark`: None for a live-only kind."""

    found: bool
    allowed: bool
    mark: int | None = None


NOT_FOUND = Opening(found=False, allowed=False)


def read_opening(kind: TopicKind, key: Hashable, user: AbstractBaseUser) -> Opening:
    """Sync: in the database thread. The permission hook is asked only about a key that exists."""
    source = kind.source(key)
    mark = None
    if source is not None:
        mark = source.high_water()
        if mark is None:
            return NOT_FOUND
    asked = kind.permission_topic(key)
    allowed = asked is None or bool(permission_hook()(user, asked))
    return Opening(found=True, allowed=allowed, mark=mark)
