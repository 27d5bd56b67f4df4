"""One post's visible comments as a feed source (realtime/feeds/sequenced.py)."""

from __future__ import annotations

from comments import selectors
from realtime.db import database_sync_to_async
from realtime.feeds.sequenced import Entry


class PostComments:
    kind = selectors.COMMENT_FEEDS

    def __init__(self, post_id: int) -> None:
        self.post_id = post_id
        self.key = post_id

    def high_water(self) -> int | None:
        return selectors.comment_high_water(post_id=self.post_id)

    async def after_id(self, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.comments_after_id)(
            post_id=self.post_id, since_id=since_id, upto_seq=upto_seq, limit=limit
        )

    async def seq_range(self, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
        return await database_sync_to_async(selectors.comments_in_seq_range)(
            post_id=self.post_id, after_seq=after_seq, upto_seq=upto_seq, limit=limit
        )

    async def newest_ids(self, since_id: int, upto_seq: int, limit: int) -> list[int]:
        return await database_sync_to_async(selectors.comments_newest_ids)(
            post_id=self.post_id, since_id=since_id, upto_seq=upto_seq, limit=limit
        )
