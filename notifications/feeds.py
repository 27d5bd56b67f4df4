"""One user's notifications as a feed source (realtime/feeds/sequenced.py)."""

from __future__ import annotations

from typing import Any

from notifications import selectors
from realtime.db import database_sync_to_async
from realtime.feeds.sequenced import Entry


class UserNotifications:
    kind = selectors.NOTIFICATION_FEEDS

    def __init__(self, user_id: Any) -> None:
        self.user_id = user_id
        self.key = user_id

    def high_water(self) -> int:
        return selectors.notification_high_water(user_id=self.user_id)

    async def after_id(self, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.notifications_after_id)(
            user_id=self.user_id, since_id=since_id, upto_seq=upto_seq, limit=limit
        )

    async def seq_range(self, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.notifications_in_seq_range)(
            user_id=self.user_id, after_seq=after_seq, upto_seq=upto_seq, limit=limit
        )

    async def newest_ids(self, since_id: int, upto_seq: int, limit: int) -> list[int]:
        return await database_sync_to_async(selectors.notifications_newest_ids)(
            user_id=self.user_id, since_id=since_id, upto_seq=upto_seq, limit=limit
        )
