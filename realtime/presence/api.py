"""
Who is on a topic, for a host's own views (PROTOCOL.md, "Presence and typing"):

    from realtime.presence import present

    def post_detail(request, pk):
        watching = present(f"comments:{pk}")      # Presence(count=12, users=[{"id": 3, "username": "alice"}, ...])

Read from Redis when the channel layer is channels-redis (every process's
users); without Redis, presence lives in the one server process, and only code
running in that process (a view it serves) sees it.
"""

from __future__ import annotations

from asgiref.sync import async_to_sync

from realtime.conf import realtime_settings
from realtime.hub import hub
from realtime.presence.model import Presence
from realtime.presence.tracker import tracker


async def apresent(topic: str, *, limit: int | None = None) -> Presence:
    """The users on `topic`: how many, and who (None when more than `limit`, default PRESENCE_LIST_LIMIT)."""
    state = await tracker(hub()).backend.state(topic, realtime_settings.PRESENCE_LIST_LIMIT if limit is None else limit)
    users = None if state.users is None else sorted(state.users, key=lambda user: (user["username"], str(user["id"])))
    return Presence(state.count, users)


def present(topic: str, *, limit: int | None = None) -> Presence:
    """`apresent`, from sync code (a view)."""
    return async_to_sync(apresent)(topic, limit=limit)
