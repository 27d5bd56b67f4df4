"""
What a subscription delivers to its consumer, in order and once: the frames
that arrived, held until the `async for` takes them, with each truncated replay
filled from the history endpoint when the consumer reaches it (so history
pages are read only as fast as they are used), and each entry at or below the
last one delivered dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from realtime.client.backfill import Backfill
from realtime.client.errors import HistoryUnavailable
from realtime.client.positions import TopicPosition
from realtime.client.protocol import Frame


class _End:
    """Queued last: the iteration ends here, raising `error` when there is one."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class Inbox:
    """
    `put` frames as they arrive, `end` once no more will; `next()` is the
    consumer's next frame, or `StopAsyncIteration` (or the error given to `end`).
    `start_backfill` makes the fill of a truncated `replay_complete`.
    """

    def __init__(self, position: TopicPosition, start_backfill: Callable[[Frame], Backfill]) -> None:
        self._position = position
        self._start_backfill = start_backfill
        self._queue: asyncio.Queue[Frame | _End] = asyncio.Queue()
        self._filled: deque[Frame] = deque()
        self._backfill: Backfill | None = None
        self._stopped = False

    def put(self, frame: Frame) -> None:
        self._position.receive(frame)
        self._queue.put_nowait(frame)

    def end(self, error: Exception | None = None) -> None:
        """No more frames: the consumer gets what is held, then the end (raising `error` when given)."""
        self._queue.put_nowait(_End(error))

    def stop(self) -> None:
        """The end, at once: what is held is dropped, and a consumer waiting in another task wakes up."""
        if not self._stopped:
            self._stopped = True
            self._filled.clear()
            self._backfill = None
            self._queue.put_nowait(_End(None))

    async def next(self) -> Frame:
        while not self._stopped:
            if self._filled:
                frame = self._filled.popleft()
            elif self._backfill is not None:
                await self._fill_more(self._backfill)
                continue
            else:
                item = await self._queue.get()
                if isinstance(item, _End):
                    self._stopped = True
                    if item.error is not None:
                        raise item.error
                    break
                if _is_truncated_replay(item):
                    self._backfill = self._start_backfill(item)
                    continue
                frame = item
            if self._position.deliver(frame):
                return frame
        raise StopAsyncIteration

    async def _fill_more(self, backfill: Backfill) -> None:
        """The next page of a fill; once over, `replay_complete` as if the replay had not been cut."""
        try:
            items = await backfill.next_items()
        except HistoryUnavailable:
            self._backfill = None
            self._position.covered(backfill.last_id)  # iterating again goes on after the gap
            raise
        if items is not None:
            self._filled.extend(items)
            return
        self._backfill = None
        last_id = self._position.covered(backfill.last_id)
        self._filled.append({**backfill.complete, "truncated": False, "last_id": last_id, "filled": True})


def _is_truncated_replay(frame: Frame) -> bool:
    complete = frame.get("type") == "replay_complete"
    return complete and frame.get("truncated") is True and isinstance(frame.get("last_id"), int)
