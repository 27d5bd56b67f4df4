"""
A replay or a gap fill holds no page while the client is behind
(realtime/feeds/sequenced.py): it sends while the client keeps up, lets the
rest of the page go, waits, and reads on from the last entry sent.
"""

from __future__ import annotations

import gc
from collections.abc import Hashable
from typing import Any

import pytest

from realtime.feeds import sequenced
from realtime.feeds.sequenced import Entry, SequencedFeed

ENTRIES = 10


class Source:
    kind: Any = None
    key: Hashable = 1

    def __init__(self) -> None:
        self.entries = [Entry(id=100 + n, seq=n, frame={"n": n}) for n in range(1, ENTRIES + 1)]
        self.reads: list[tuple[str, int]] = []

    def high_water(self) -> int | None:
        return ENTRIES

    async def after_id(self, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
        self.reads.append(("after_id", since_id))
        return [e for e in self.entries if e.id > since_id and e.seq <= upto_seq][:limit]

    async def seq_range(self, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
        self.reads.append(("seq_range", after_seq))
        return [e for e in self.entries if after_seq < e.seq <= upto_seq][:limit]

    async def newest_ids(self, since_id: int, upto_seq: int, limit: int) -> list[int]:
        return [e.id for e in reversed(self.entries) if e.id > since_id and e.seq <= upto_seq][:limit]


class Client:
    """Reads `burst` frames, then is behind until the feed waits for it (`ready`)."""

    def __init__(self, source: Source, burst: int) -> None:
        self.source, self.burst = source, burst
        self.got: list[int] = []
        self.unread = 0
        self.pages_alive_while_waiting: list[int] = []

    async def send_entry(self, frame: dict[str, Any], seq: int) -> None:
        assert self.unread < self.burst, "sent to a client that is behind"
        self.got.append(frame["n"])
        self.unread += 1

    def client_keeps_up(self) -> bool:
        return self.unread < self.burst

    async def until_writable(self) -> None:
        gc.collect()
        pages = [o for o in gc.get_objects() if type(o) is list and o and type(o[0]) is Entry]
        self.pages_alive_while_waiting.append(sum(page is not self.source.entries for page in pages))
        self.unread = 0


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sequenced, "PAGE_SIZE", 4)


async def test_a_replay_sends_while_the_client_keeps_up_and_reads_on_after_the_last_sent() -> None:
    source = Source()
    client = Client(source, burst=3)
    feed = SequencedFeed(source, client)
    feed.start(ENTRIES)
    complete = await feed.replay(0, limit=100)
    assert client.got == list(range(1, ENTRIES + 1))  # each once, in order
    assert complete == {"type": "replay_complete", "last_id": 100 + ENTRIES, "truncated": False}
    assert source.reads == [("after_id", since) for since in (0, 103, 106, 109)]
    assert client.pages_alive_while_waiting == [0, 0, 0]  # no page held while the client was behind
    assert feed.replayed == ENTRIES


async def test_a_gap_fill_is_paced_the_same() -> None:
    source = Source()
    client = Client(source, burst=3)
    feed = SequencedFeed(source, client)
    await feed.catch_up(ENTRIES)
    assert client.got == list(range(1, ENTRIES + 1))
    assert feed.delivered_seq == ENTRIES
    assert source.reads == [("seq_range", after) for after in (0, 3, 6, 9)]
    assert client.pages_alive_while_waiting == [0, 0, 0]


async def test_without_pacing_a_replay_reads_whole_pages() -> None:
    source = Source()
    got: list[int] = []

    class Unpaced:
        async def send_entry(self, frame: dict[str, Any], seq: int) -> None:
            got.append(frame["n"])

        async def until_writable(self) -> None:
            return None  # it has always read everything

        def client_keeps_up(self) -> bool:
            return True

    feed = SequencedFeed(source, Unpaced())
    feed.start(ENTRIES)
    await feed.replay(0, limit=100)
    assert got == list(range(1, ENTRIES + 1))
    assert source.reads == [("after_id", since) for since in (0, 104, 108)]
