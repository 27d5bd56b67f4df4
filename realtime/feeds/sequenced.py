"""
Replay, then live, with no gap and no duplicate (PROTOCOL.md, "Nothing lost").

A feed is a per-key stream of stored entries (a user's notifications, a post's
comments) numbered by `seq` = 1, 2, 3... in commit order. Writers take a lock on
the key while they number and insert an entry, so an entry's `seq` is committed
only after every smaller one. A connection then needs only its last delivered
`seq`:

1. before accepting, read the key's committed high-water `seq` and join the
   key's group (`start`; feeds/opening.py says in which order, and what
   catches up an entry committed between the two);
2. after accepting, replay the entries after the client's `since` id up to that
   high-water mark (`replay`);
3. for each live event: a `seq` already delivered is a duplicate and dropped;
   the next `seq` is sent; a larger one means events were lost on the way (a
   full channel, a Redis outage, a reordering between processes), so the
   missing entries are read from the database first.

The channel layer is therefore only a hint that something new exists: delivery
is exactly-once and in order as long as the database has the entries. A lost
last event has no later event to reveal it; realtime/feeds/checks.py finds those.

When a gap cannot be read because the database is away, the live event is held
back rather than sent out of order, and the connection stays open: the entries
are committed, so the feed checks deliver them, in order, once the database
answers. (A replay that cannot be read is another matter: the connection is
closed with 4503 and the client comes back with `since`.)
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict
from urllib.parse import parse_qs

from django.db import DatabaseError

from realtime.feeds.checks import FeedKind
from realtime.outage import log_database_failure

# The largest entry id (a PostgreSQL bigint).
MAX_ID = 2**63 - 1
# Entries read per query in a replay or a gap fill. One waiting for a slow client holds none: what the client
# could not take yet is let go, and read again once it has caught up.
PAGE_SIZE = 100

logger = logging.getLogger(__name__)


class FeedNotFound(LookupError):
    """The feed's key (a post, say) does not exist."""


class InvalidSince(ValueError):
    """`?since=` is not a non-negative integer id."""


def parse_id(text: str) -> int | None:
    """The entry id `text` spells (decimal digits, at most MAX_ID), or None."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def is_id(value: object) -> bool:
    """Whether a JSON value is an entry id (a `since` in a message)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def since_from_query(scope: dict[str, Any]) -> int | None:
    """The `since` id of the connection's query string, if it has one."""
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("since")
    if not values:
        return None
    since = parse_id(values[0])
    if since is None:
        raise InvalidSince("since must be a non-negative integer id")
    return since


@dataclass(frozen=True)
class Entry:
    id: int
    seq: int
    frame: dict[str, Any]


class FeedSource(Protocol):
    """
    Reads one key's entries; each call is one short database operation. The
    high-water mark is read in the database thread (sync), in the same trip as
    whatever else a subscription reads before it goes live (feeds/opening.py).
    """

    @property
    def kind(self) -> FeedKind: ...

    @property
    def key(self) -> Hashable: ...

    def high_water(self) -> int | None:
        """The largest committed `seq` of the key (0 when there is none); None when the key does not exist. Sync."""
        ...

    async def after_id(self, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
        """Deliverable entries with `id > since_id` and `seq <= upto_seq`, by `seq`."""
        ...

    async def seq_range(self, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
        """Deliverable entries with `after_seq < seq <= upto_seq`, by `seq`."""
        ...

    async def newest_ids(self, since_id: int, upto_seq: int, limit: int) -> list[int]:
        """The ids of deliverable entries with `id > since_id` and `seq <= upto_seq`, newest first, at most `limit`."""
        ...


class ReplayComplete(TypedDict):
    """After a replay (PROTOCOL.md, "Nothing lost"): the last id replayed, or, truncated, the newest there is."""

    type: Literal["replay_complete"]
    last_id: int
    truncated: bool


class FeedSink(Protocol):
    """Where a feed's entries go: a connection's subscription (feeds/subscription.py)."""

    async def send_entry(self, frame: dict[str, Any], seq: int) -> None:
        """Send one entry's frame, waiting, if it must, for the client to read what went before."""
        ...

    async def until_writable(self) -> None:
        """Return once the client has read what was sent."""
        ...

    def client_keeps_up(self) -> bool:
        """Whether the client has read what was sent."""
        ...


class SequencedFeed:
    """
    Entries go to `sink` in order. A replay or a gap fill holds no page while
    the client is behind: it sends a page's entries while the client keeps up
    (`sink.client_keeps_up()`), lets the rest of the page go, waits
    (`sink.until_writable()`), and reads on from the last entry sent
    (PROTOCOL.md, "Slow and hostile clients").
    """

    # One per feed a connection follows, for its whole life: no per-instance dict, no bound methods held.
    __slots__ = ("_opened_at", "_sink", "_source", "delivered_seq", "replayed", "rows_read")

    def __init__(self, source: FeedSource, sink: FeedSink) -> None:
        self._source = source
        self._sink = sink
        self.delivered_seq = 0
        self._opened_at = 0
        # Entries sent by replays so far (realtime_replayed_entries_total), and rows they read (replay budgets).
        self.replayed = 0
        self.rows_read = 0

    def start(self, mark: int) -> None:
        """
        Live delivery starts after `mark`, the key's high-water mark (read before
        accepting the connection, feeds/opening.py): everything committed after it
        reaches the client, live, filled in or caught up; `replay` sends what came
        before it.
        """
        self.delivered_seq = self._opened_at = mark

    async def replay(self, since_id: int, *, limit: int) -> ReplayComplete:
        """
        Send the entries after `since_id` that were committed before `open()`,
        unless there are more than `limit`: then none, and the client reads them
        over HTTP. Returns the `replay_complete` frame that says which.
        """
        upto = self._opened_at
        newest = await self._newest_past(since_id, upto, limit)
        if newest is not None:
            return {"type": "replay_complete", "last_id": newest, "truncated": True}
        last_id, more = await self._replay_page(since_id, upto)
        while more:
            await (
                self._sink.until_writable()
            )  # the client is behind: nothing read, nothing held, until it has caught up
            last_id, more = await self._replay_page(last_id, upto)
        return {"type": "replay_complete", "last_id": last_id, "truncated": False}

    async def _replay_page(self, after_id: int, upto: int) -> tuple[int, bool]:
        """One page after `after_id`, sent while the client keeps up: the last id sent, and whether more may follow."""
        entries = await self._source.after_id(after_id, upto, PAGE_SIZE)
        self.rows_read += len(entries)  # those let go too: they are read again
        sent = await self._send_while_writable(entries)
        self.replayed += sent
        last_id = entries[sent - 1].id if sent else after_id
        return last_id, sent < len(entries) or len(entries) == PAGE_SIZE

    async def _newest_past(self, since_id: int, upto: int, limit: int) -> int | None:
        """
        The newest id after `since_id` when there are more than `limit`, else
        None. The ids read (up to `limit` + 1 ints: 0.8 MB at 20,000) go when this
        returns, not at the end of a replay that waits for a slow client.
        """
        newest = await self._source.newest_ids(since_id, upto, limit + 1)
        self.rows_read += len(newest)
        return newest[0] if len(newest) > limit else None

    async def live(self, seq: int, frame: dict[str, Any]) -> None:
        """A live event for entry `seq`."""
        if seq <= self.delivered_seq:
            return
        if seq > self.delivered_seq + 1 and not await self._filled(upto=seq - 1):
            return  # held back: the feed checks deliver it after the gap
        await self._sink.send_entry(frame, seq)
        self.delivered_seq = seq

    async def catch_up(self, upto: int) -> None:
        """The key's committed high-water mark is `upto`: send what is missing up to it."""
        if upto > self.delivered_seq and await self._filled(upto):
            self.delivered_seq = upto

    async def _filled(self, upto: int) -> bool:
        """Send the entries after the last delivered one up to `upto`; False if the database is away."""
        try:
            await self._fill_gap(upto)
        except DatabaseError as error:
            kind, key = type(self._source.kind).__name__, self._source.key
            log_database_failure(logger, error, "Could not read the gap up to seq %s in %s %s", upto, kind, key)
            return False
        return True

    async def _fill_gap(self, upto: int) -> None:
        """Each entry sent moves `delivered_seq`, so a fill cut short resumes where it stopped."""
        while await self._fill_page(upto):
            await self._sink.until_writable()

    async def _fill_page(self, upto: int) -> bool:
        """One page of the gap, sent while the client keeps up; whether more may follow."""
        entries = await self._source.seq_range(self.delivered_seq, upto, PAGE_SIZE)
        sent = await self._send_while_writable(entries, moves_delivered=True)
        return sent < len(entries) or len(entries) == PAGE_SIZE

    async def _send_while_writable(self, entries: list[Entry], *, moves_delivered: bool = False) -> int:
        """
        Send `entries` in order while the client keeps up (the first one in any
        case: `send` waits for it); how many went. The rest are read again later.
        """
        for sent, entry in enumerate(entries):
            if sent and not self._sink.client_keeps_up():
                return sent
            await self._sink.send_entry(entry.frame, entry.seq)
            if moves_delivered:
                self.delivered_seq = entry.seq
        return len(entries)
