"""
The channel layer's Redis, lost and back: one log line each (docs/how-to/several-processes.md).

When Redis goes away, every open connection meets it (its channel, its groups,
each publish), and channels-redis logs a traceback a second from its receiving
task. Here the process says it once. The first failure makes the layer
*suspect*, and a probe pings Redis at once: no answer, and the process warns
that the layer is *lost*, then pings every `PROBE_INTERVAL` seconds until Redis
answers, which logs one line more. An answer instead means the failure was
passing (redis-py reconnecting after an outage can fail one command that raced
its reconnection): it is logged at DEBUG, and nothing is said twice. Meanwhile
nothing is lost: feeds get their entries from the feed checks
(realtime/feeds/checks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import weakref

import redis.asyncio

from realtime.layers.redis import RedisTarget, redis_targets
from realtime.metrics.catalog import channel_layer_failures

logger = logging.getLogger(__name__)

PROBE_INTERVAL = 1.0
PROBE_TIMEOUT = 2.0


class LayerState(enum.Enum):
    WORKING = "working"
    SUSPECT = "suspect"  # a failure seen; the probe's first ping decides
    LOST = "lost"  # warned; the probe pings until Redis answers


class LayerHealth:
    """What one event loop knows of the channel layer's Redis."""

    def __init__(self) -> None:
        self.state = LayerState.WORKING
        self._first_failure = ""
        self._probe: asyncio.Task[None] | None = None

    def report_lost(self, what: str, error: BaseException | None) -> None:
        reason = f"{what}: {type(error).__name__}: {error}" if error is not None else what
        if self.state is not LayerState.WORKING:
            logger.debug("Channel layer still unavailable (%s)", reason)
            return
        targets = redis_targets()
        if not targets:  # nothing to probe: say it now
            self._warn(reason)
            return
        self.state = LayerState.SUSPECT
        self._first_failure = reason
        if self._probe is None:
            self._probe = asyncio.ensure_future(self._until_back(targets[0]))

    def report_working(self) -> None:
        """Something went through the layer: it works (a probe may not even have run)."""
        self._back()

    async def _until_back(self, target: RedisTarget) -> None:
        client = target.async_client(timeout=PROBE_TIMEOUT)
        try:
            while self.state is not LayerState.WORKING:
                if await self._answers(client):
                    self._back()
                    return
                if self.state is LayerState.SUSPECT:
                    self._warn(self._first_failure)
                await asyncio.sleep(PROBE_INTERVAL)
        finally:
            self._probe = None
            with contextlib.suppress(Exception):
                await client.aclose()

    @staticmethod
    async def _answers(client: redis.asyncio.Redis) -> bool:
        try:
            await client.ping()
        except (redis.RedisError, OSError):
            return False
        return True

    def _warn(self, reason: str) -> None:
        self.state = LayerState.LOST
        logger.warning("Channel layer unavailable (%s); live events come from the feed checks until it is back", reason)

    def _back(self) -> None:
        if self.state is LayerState.LOST:
            logger.info("Channel layer available again: live events flow through it")
        elif self.state is LayerState.SUSPECT:
            logger.debug("Channel layer failed once (%s) and answers: no outage", self._first_failure)
        self.state = LayerState.WORKING


_health: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerHealth] = weakref.WeakKeyDictionary()


def health() -> LayerHealth | None:
    """The running loop's record (None outside an event loop: a command, the shell)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    found = _health.get(loop)
    if found is None:
        found = _health[loop] = LayerHealth()
    return found


def report_lost(what: str, error: BaseException | None = None) -> None:
    """Tell the process the layer failed; logs once per outage (plainly, outside an event loop); counts every one."""
    channel_layer_failures.inc()
    record = health()
    if record is None:
        logger.warning("Channel layer unavailable (%s): %r", what, error)
        return
    record.report_lost(what, error)


def report_working() -> None:
    """Something went through the layer again: if it was lost, it is back."""
    record = health()
    if record is not None:
        record.report_working()


# channels-redis' own error lines while Redis is away, and what each was doing.
NOISY = (
    ("Unexpected exception in receive task", "its receiving task"),
    ("Unexpected exception while cleaning-up channel", "leaving a channel"),
)


class QuietChannelsRedis(logging.Filter):
    """
    channels-redis' "Unexpected exception in receive task", a traceback a second
    while Redis is away, and its "Unexpected exception while cleaning-up
    channel", a traceback for each connection that closes meanwhile (or as the
    server stops), become one report of the outage (installed on its logger by
    realtime.server.install()).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for noisy, what in NOISY:
            if message.startswith(noisy):
                error = record.exc_info[1] if record.exc_info else None
                if not isinstance(error, asyncio.CancelledError):  # a channel left as the server stops: no outage
                    report_lost(what, error)
                return False
        return True
