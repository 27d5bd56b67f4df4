"""
The presence of one server process (one per hub: realtime/hub.py).

It knows the subscriptions of this process on topics with presence, and keeps
the backend's records of this process equal to them: a user's first local
subscription on a topic is a record written, the end of their last one a
record ended (one batched backend call for whatever changed meanwhile, so that
1,000 users arriving in a second cost a few calls, not 1,000). The joins and
leaves a write makes, whoever made them, are published to the topic's presence
group, which the tracker of every process following the topic is in: one
channel-layer channel per process, not one per connection.

Every PRESENCE_INTERVAL it batches, for each topic, the changes heard since the
last tick into one `presence_diff` per connection, from the version of what
that connection was last sent, and sends them off the feeds' path (a slice at a
time, in a task of its own, skipping a tick while the last one's still go out): a connection never gets a change its
`presence_state` already held, nor one twice. A change missing from the run (a
publish lost with Redis) is waited for one tick, then the topic is read again
and every connection gets a fresh `presence_state`; and since the last changes
lost have no later one to reveal them, the versions of the topics followed are
compared with the backend's every half lease (every tick for a lease after an
outage), and a topic still behind at the next comparison is read again. It
also tells the backend this process is alive, which reaps the records of
processes that died.

When the backend fails, connections stay open and comments flow: presence
frames go stale (a subscription's state is this process's own users), one
warning says so, and once the backend answers again the process writes its
records again and every connection gets a fresh `presence_state`.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.layers import get_channel_layer

from realtime import codec
from realtime.conf import realtime_settings
from realtime.hub import Hub, Members, PeriodicCheck, every
from realtime.layers.health import report_lost
from realtime.layers.redis import library_prefix, redis_targets
from realtime.metrics import catalog as metrics
from realtime.presence.backend import PresenceBackend, Record
from realtime.presence.memory import MemoryPresence
from realtime.presence.model import (
    Change,
    DiffFrame,
    PresentUser,
    State,
    StateFrame,
    net,
    present_user,
    state_frame,
)
from realtime.presence.redis import RedisPresence
from realtime.types import Message

if TYPE_CHECKING:
    from realtime.feeds.subscription import Subscription

logger = logging.getLogger(__name__)

# The hub's index of subscriptions with presence, by topic: the ticks run while it has members.
PRESENCE_INDEX = "presence"
# Channel-layer event to the trackers: joins and leaves of one topic.
CHANGES = "presence.changes"
# Local event to a connection: a presence frame of one topic, already encoded.
FRAME = "presence.frame"
REDIS_TIMEOUT = 2.0
# Changes kept for connections not yet sent their state; past it, the topic is read again.
MAX_LOG = 10_000
# Seconds (at least two ticks) a missing change is waited for before the topic is read again: under a
# join storm, the changes another process publishes arrive late, not lost.
GAP_PATIENCE = 2.0
# A tick's frames go out OUTBOX_SLICE at a time, OUTBOX_PAUSE seconds apart, in a task of their own: a
# comment's fan-out waits behind one slice at most, never behind a whole tick of diffs (1,000 watchers'
# diffs are 1,000 sends). While they go out, the next tick sends nothing: its changes wait for the one after,
# in the same diff, so a busy process sends presence less often, not the feeds later.
OUTBOX_SLICE = 32
OUTBOX_PAUSE = 0.005
# Connections to Redis the tracker may hold; more requests wait for one (never "too many connections").
REDIS_POOL = 20


@dataclass
class Listener:
    """What one subscription was last sent: the version of its state or diff, the count, and whether it had the list."""

    version: int | None = None  # None until its presence_state is sent
    count: int = 0
    listed: bool = False
    # Until then: the newest version known when it joined; its state is at least there, so older changes are no use.
    floor: int = 0


def presence_group(topic: str) -> str:
    """The channel-layer group of the trackers following `topic` (a valid group name, whatever the topic)."""
    return f"realtime.presence.{hashlib.blake2b(topic.encode(), digest_size=12).hexdigest()}"


@dataclass
class StateRead:
    """One read of a topic's state, shared by the joins that ask for it before it starts."""

    result: asyncio.Future[State]
    started: bool = False


class TopicPresence:
    def __init__(self, topic: str) -> None:
        self.group = presence_group(topic)
        # User id -> the user and their subscriptions in this process.
        self.users: dict[str, tuple[PresentUser, set[Subscription]]] = {}
        self.listeners: dict[Subscription, Listener] = {}
        self.log: dict[int, Change] = {}  # by version
        self.rebase = False
        self.gap_since: float | None = None  # when a change was first found missing
        self.reading: StateRead | None = None  # the state read the next joins share
        # The backend's version of the topic when it was last found ahead of what this process heard.
        self.behind: int | None = None

    def known_version(self) -> int:
        versions = [listener.version for listener in self.listeners.values() if listener.version is not None]
        return max([*versions, *self.log], default=0)


class Tracker:
    def __init__(self, hub: Hub, backend: PresenceBackend) -> None:
        self.hub = hub
        self.backend = backend
        self.process = uuid.uuid4().hex
        self.layer = get_channel_layer()
        self.topics: dict[str, TopicPresence] = {}
        self._touched: dict[tuple[str, str], PresentUser] = {}
        self._written: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._channel: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._typed: dict[tuple[str, str], float] = {}
        self.degraded = False
        self._verify_at = 0.0
        self._verify_often_until = 0.0
        # Frames the tick has made, for its connections: (subscription, local event).
        self._outbox: list[tuple[Subscription, Message]] = []

    # --- Subscriptions ----------------------------------------------------------------

    async def join(self, subscription: Subscription) -> StateFrame:
        """`subscription` is on its topic from now on: its `presence_state`, itself included."""
        topic = subscription.topic
        presence = self.topics.get(topic)
        if presence is None:
            presence = self.topics[topic] = TopicPresence(topic)
            await self._follow(presence)
        user = present_user(subscription.consumer.user)
        key = str(user["id"])
        presence.listeners[subscription] = listener = Listener(floor=presence.known_version())
        self.hub.join(PRESENCE_INDEX, topic, subscription)
        entry = presence.users.get(key)
        if entry is None:
            presence.users[key] = (user, {subscription})
            await self._write(topic, user)
        else:
            entry[1].add(subscription)
        state = await self._state(topic, presence)
        listener.version, listener.count, listener.listed = state.version, state.count, state.users is not None
        return state_frame(topic, state, realtime_settings.PRESENCE_LIST_LIMIT)

    def leave(self, subscription: Subscription) -> None:
        """`subscription` left its topic (unsubscribed, closed): the user leaves with their last one."""
        topic = subscription.topic
        presence = self.topics.get(topic)
        if presence is None or presence.listeners.pop(subscription, None) is None:
            return
        self.hub.leave(PRESENCE_INDEX, topic, subscription)
        key = str(subscription.consumer.user.pk)
        entry = presence.users.get(key)
        if entry is not None:
            entry[1].discard(subscription)
            if not entry[1]:
                del presence.users[key]
                self._touch(topic, entry[0])
        if not presence.listeners:
            del self.topics[topic]
            self._spawn(self._unfollow(presence.group))

    async def allow_typing(self, subscription: Subscription) -> bool:
        """At most one `typing` per user and topic every TYPING_INTERVAL, across processes."""
        interval = realtime_settings.TYPING_INTERVAL
        now = self.hub.clock.monotonic()
        key = (subscription.topic, str(subscription.consumer.user.pk))
        if now - self._typed.get(key, float("-inf")) < interval:
            return False
        self._typed[key] = now
        try:
            return await self.backend.allow_typing(key[0], key[1], interval=interval, now=self.hub.clock.wall())
        except Exception as error:
            self._degrade(error)
            return True  # this process's throttle holds meanwhile

    # --- Writes -----------------------------------------------------------------------

    def _touch(self, topic: str, user: PresentUser) -> asyncio.Future[None]:
        """Write the record of `user` on `topic` as it now is here (held or not), soon; the future says when."""
        self._touched[(topic, str(user["id"]))] = user
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._written.append(done)
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_touched())
        return done

    async def _write(self, topic: str, user: PresentUser) -> None:
        await self._touch(topic, user)

    async def _write_touched(self) -> None:
        """One backend call for everything touched since the last: what is held here is a join, the rest leaves."""
        try:
            while self._touched:
                touched, self._touched = self._touched, {}
                written, self._written = self._written, []
                joins: list[Record] = []
                leaves: list[Record] = []
                for (topic, key), user in touched.items():
                    presence = self.topics.get(topic)
                    (joins if presence is not None and key in presence.users else leaves).append((topic, user))
                try:
                    changes = await self.backend.apply(self.process, joins, leaves, now=self.hub.clock.wall())
                except Exception as error:
                    self._degrade(error)  # the next tick writes every record again
                    changes = []
                await self._announce(changes)
                for done in written:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._writer = None

    async def _announce(self, changes: Sequence[Change]) -> None:
        """Note `changes` here, and publish them to the trackers of the other processes."""
        by_topic: dict[str, list[Change]] = {}
        for change in changes:
            self._note(change)
            by_topic.setdefault(change.topic, []).append(change)
        for topic, some in by_topic.items():
            try:
                await self.layer.group_send(
                    presence_group(topic), {"type": CHANGES, "changes": [c.as_event() for c in some]}
                )
            except Exception as error:
                report_lost("publishing presence", error)

    # --- Changes heard --------------------------------------------------------------------

    def _note(self, change: Change) -> None:
        presence = self.topics.get(change.topic)
        if presence is not None:
            presence.log.setdefault(change.version, change)
            if len(presence.log) > MAX_LOG:
                presence.rebase = True

    async def _follow(self, presence: TopicPresence) -> None:
        try:
            if self._channel is None:
                self._channel = await self.layer.new_channel()
                self._reader = asyncio.ensure_future(self._read())
            await self.layer.group_add(presence.group, self._channel)
        except Exception as error:
            report_lost("following presence", error)
            self._degrade(error)

    async def _unfollow(self, group: str) -> None:
        if self._channel is not None:
            try:
                await self.layer.group_discard(group, self._channel)
            except Exception as error:
                report_lost("leaving presence", error)
        if not self.topics and self._reader is not None:
            self._reader.cancel()
            self._reader, self._channel = None, None

    async def _read(self) -> None:
        channel = self._channel
        assert channel is not None
        failures = 0
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                report_lost("reading presence", error)
                await asyncio.sleep(min(10.0, 0.5 * 2 ** (failures - 1)))
                continue
            failures = 0
            if message.get("type") == CHANGES:
                for item in message.get("changes", []):
                    self._note(Change.from_event(item))

    # --- Ticks ----------------------------------------------------------------------------

    async def tick(self) -> None:
        """Say this process is alive (and reap the dead), then send each topic's diff."""
        now = self.hub.clock.wall()
        if self.degraded:
            await self._resync(now)
        try:
            alive = await self.backend.keepalive(self.process, now=now, expires_after=lease())
        except Exception as error:
            self._degrade(error)
        else:
            await self._announce(alive.reaped)
            if alive.lost and self.topics:
                self._degrade(None)  # reaped while alive (a long stall): write everything again
        if not self.degraded and (now >= self._verify_at or now < self._verify_often_until):
            await self._verify()
            self._verify_at = now + lease() / 2
        moment = self.hub.clock.monotonic()
        interval = realtime_settings.TYPING_INTERVAL
        self._typed = {key: at for key, at in self._typed.items() if moment - at < interval}
        if self._sender is not None:
            return  # the last tick's frames are still going out: these changes go with the next tick's
        limit = realtime_settings.PRESENCE_LIST_LIMIT
        for topic, presence in list(self.topics.items()):
            if not presence.rebase:
                self._flush(topic, presence, limit)
            if presence.rebase:  # asked for before, or by the flush (a gap, a crowd back under the limit)
                await self._rebase(topic, presence, limit)
        if self._outbox:
            self._sender = asyncio.ensure_future(self._send_outbox())

    async def _send_outbox(self) -> None:
        """The tick's frames, in this one task (none per connection), a slice at a time (OUTBOX_SLICE)."""
        try:
            outbox, self._outbox = self._outbox, []
            for number, (subscription, event) in enumerate(outbox, 1):
                await subscription.consumer.handle_local_event_now(event)
                if number % OUTBOX_SLICE == 0 and number < len(outbox):
                    await asyncio.sleep(OUTBOX_PAUSE)  # what else is ready (a comment's fan-out) goes first
        finally:
            self._sender = None

    def _flush(self, topic: str, presence: TopicPresence, limit: int) -> None:
        """Each connection's diff of the changes since what it was last sent (those sent the same share one)."""
        if not presence.log:
            return
        versions = sorted(presence.log)
        newest = presence.log[versions[-1]]
        groups: dict[tuple[int, int, bool], list[Subscription]] = {}
        for subscription, listener in presence.listeners.items():
            if listener.version is not None and listener.version < versions[-1]:
                groups.setdefault((listener.version, listener.count, listener.listed), []).append(subscription)
        # A list needs every change since its version; a count needs only the newest.
        lists = newest.count <= limit
        if lists and any(not _contiguous(versions, version) for version, _, listed in groups if listed):
            now = self.hub.clock.monotonic()
            presence.gap_since = now if presence.gap_since is None else presence.gap_since
            patience = max(GAP_PATIENCE, 2 * realtime_settings.PRESENCE_INTERVAL)
            if now - presence.gap_since >= patience:
                presence.rebase = True
            return
        presence.gap_since = None
        for (version, count, listed), subscriptions in groups.items():
            if lists and not listed:
                presence.rebase = True  # back under the limit: it needs the list itself
                continue
            newer = [presence.log[each] for each in versions[bisect.bisect_right(versions, version) :]]
            text = self._diff_text(topic, newer, count, limit)
            for subscription in subscriptions:
                listener = presence.listeners[subscription]
                listener.version, listener.count, listener.listed = versions[-1], newest.count, lists
                if text is not None:
                    self._outbox.append((subscription, {"type": FRAME, "topic": topic, "text": text}))
        floor = min(
            (listener.floor if listener.version is None else listener.version)
            for listener in presence.listeners.values()
        )
        presence.log = {version: change for version, change in presence.log.items() if version > floor}

    @staticmethod
    def _diff_text(topic: str, changes: list[Change], count: int, limit: int) -> str | None:
        """The diff after `changes` for a connection last sent `count`; None when it would say nothing new."""
        if changes[-1].count > limit:
            if changes[-1].count == count:
                return None
            frame: DiffFrame = {"type": "presence_diff", "topic": topic, "count": changes[-1].count}
            return codec.encode(frame)
        diff = net(changes)
        if not diff.joins and not diff.leaves and diff.count == count:
            return None  # they came and went
        return codec.encode(diff.frame(topic, limit))

    async def _rebase(self, topic: str, presence: TopicPresence, limit: int) -> None:
        """Read the topic again and send every connection a fresh `presence_state`."""
        try:
            state = await self.backend.state(topic, limit)
        except Exception as error:
            self._degrade(error)
            return
        presence.rebase, presence.gap_since, presence.behind = False, None, None
        event = {"type": FRAME, "topic": topic, "text": codec.encode(state_frame(topic, state, limit))}
        for subscription, listener in presence.listeners.items():
            if listener.version is None:
                continue
            listener.version, listener.count, listener.listed = state.version, state.count, state.users is not None
            self._outbox.append((subscription, event))
        presence.log = {version: change for version, change in presence.log.items() if version > state.version}

    async def _verify(self) -> None:
        """Read again each topic the backend has moved past what this process heard, twice running."""
        topics = list(self.topics)
        try:
            versions = await self.backend.versions(topics)
        except Exception as error:
            self._degrade(error)
            return
        for topic in topics:
            presence = self.topics.get(topic)
            if presence is None:
                continue
            current, known = versions.get(topic, 0), presence.known_version()
            if current <= known:
                presence.behind = None
                continue
            if presence.behind is not None and known < presence.behind:
                presence.rebase = True  # what it was missing last time has still not come
            presence.behind = current

    # --- The backend lost and back -----------------------------------------------------------

    async def _state(self, topic: str, presence: TopicPresence) -> State:
        """The topic's state, read once for all the joins that ask before the read starts (a storm: one read)."""
        read = presence.reading
        if read is None or read.started:
            loop = asyncio.get_running_loop()
            read = presence.reading = StateRead(loop.create_future())
            loop.call_soon(self._spawn, self._read_state(topic, presence, read))
        return await asyncio.shield(read.result)

    async def _read_state(self, topic: str, presence: TopicPresence, read: StateRead) -> None:
        read.started = True
        if presence.reading is read:
            presence.reading = None
        try:
            state = await self.backend.state(topic, realtime_settings.PRESENCE_LIST_LIMIT)
        except Exception as error:
            self._degrade(error)
            presence.rebase = True
            users = [user for user, _ in presence.users.values()]
            state = State(len(users), users, max(presence.log, default=0))
        if not read.result.done():
            read.result.set_result(state)

    def _degrade(self, error: BaseException | None) -> None:
        if not self.degraded:
            reason = f" ({type(error).__name__}: {error})" if error is not None else ""
            logger.warning("Presence unavailable%s: its frames are stale until it answers again", reason)
        self.degraded = True

    async def _resync(self, now: float) -> None:
        held = [(topic, user) for topic, presence in self.topics.items() for user, _ in presence.users.values()]
        try:
            changes = await self.backend.sync(self.process, held, now=now)
            if self._channel is not None:
                for presence in self.topics.values():
                    await self.layer.group_add(presence.group, self._channel)
        except Exception as error:
            logger.debug("Presence still unavailable: %s", error)
            return
        self.degraded = False
        self._verify_often_until = now + lease()  # what other processes publish as they heal may be lost
        logger.info("Presence available again: every connection gets a fresh presence_state")
        await self._announce(changes)
        for presence in self.topics.values():
            presence.rebase = True

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


_tasks: set[asyncio.Future[Any]] = set()


def presence_keys() -> str:
    """The prefix of the presence keys in Redis."""
    return f"{library_prefix()}presence:"


def _contiguous(versions: list[int], after: int) -> bool:
    """Whether `versions` (sorted, distinct) hold every version from `after` + 1 to their last."""
    return len(versions) - bisect.bisect_right(versions, after) == versions[-1] - after


def lease() -> float:
    """Seconds a process's records outlive its last sign of life: its users leave within PRESENCE_TTL."""
    interval = float(realtime_settings.PRESENCE_INTERVAL)
    return max(float(realtime_settings.PRESENCE_TTL) - 2 * interval, 2 * interval)


_trackers: weakref.WeakKeyDictionary[Hub, Tracker] = weakref.WeakKeyDictionary()


def tracker(hub: Hub) -> Tracker:
    """The hub's tracker, on the channel layer's Redis when it has one."""
    found = _trackers.get(hub)
    if found is None:
        targets = redis_targets()
        backend: PresenceBackend = (
            RedisPresence(targets[0].async_client(timeout=REDIS_TIMEOUT, pool=REDIS_POOL), presence_keys())
            if targets
            else MemoryPresence()
        )
        found = _trackers[hub] = Tracker(hub, backend)
    return found


async def forget(hub: Hub) -> None:
    """Drop the hub's tracker and its Redis client (tests, between event loops)."""
    found = _trackers.pop(hub, None)
    if found is not None:
        loop = asyncio.get_running_loop()
        running = (found._reader, found._writer, found._sender)
        tasks = [task for task in running if task is not None and task.get_loop() is loop]
        for task in tasks:
            task.cancel()
        # Wait for them to stop before the client closes, or one in a command reconnects and leaks its socket.
        await asyncio.gather(*tasks, return_exceptions=True)
        await found.backend.close()


def _topics_followed() -> int:
    """The topics with presence this process follows, for `realtime_presence_topics`."""
    return sum(len(found.topics) for found in list(_trackers.values()))


metrics.presence_topics.set_function(_topics_followed)


async def _tick(hub: Hub, members: Members) -> None:
    await tracker(hub).tick()


every(PeriodicCheck("presence", PRESENCE_INDEX, lambda: realtime_settings.PRESENCE_INTERVAL, _tick))
