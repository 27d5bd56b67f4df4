"""realtime.layers.health: one warning per outage of the layer's Redis, one line at its end, none for a blip."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis

from realtime.layers import health
from realtime.layers.health import LayerHealth, LayerState

LOGGER = "realtime.layers.health"
LOST = "Channel layer unavailable ({}); live events come from the feed checks until it is back"
BACK = "Channel layer available again: live events flow through it"


class FakeRedis:
    """A Redis client whose pings the test answers one by one (True: it answers; False: connection refused)."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[bool] = asyncio.Queue()
        self.pings = 0
        self.closed = False

    async def ping(self) -> bool:
        up = await self.answers.get()
        self.pings += 1
        self.answers.task_done()  # the probe goes on at once, before answer() returns
        if not up:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return True

    async def answer(self, *ups: bool) -> None:
        for up in ups:
            self.answers.put_nowait(up)
        await self.answers.join()

    async def aclose(self) -> None:
        self.closed = True


class FakeTarget:
    def __init__(self, client: FakeRedis) -> None:
        self.client = client

    def async_client(self, *, timeout: float) -> FakeRedis:
        return self.client


@pytest.fixture
def redis_server(monkeypatch: pytest.MonkeyPatch) -> FakeRedis:
    client = FakeRedis()
    monkeypatch.setattr(health, "redis_targets", lambda: [FakeTarget(client)])
    monkeypatch.setattr(health, "PROBE_INTERVAL", 0)
    return client


def lines(caplog: pytest.LogCaptureFixture, level: int = logging.INFO) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER and r.levelno >= level]


async def test_a_failure_while_redis_answers_is_no_outage(
    redis_server: FakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, LOGGER)
    record = LayerHealth()
    record.report_lost("leaving realtime.user.1", RuntimeError("readuntil() called while another coroutine waits"))
    assert record.state is LayerState.SUSPECT
    await redis_server.answer(True)
    assert (record.state, record._probe, redis_server.pings, redis_server.closed) == (LayerState.WORKING, None, 1, True)
    assert lines(caplog) == []
    assert lines(caplog, logging.DEBUG) == [
        (
            logging.DEBUG,
            "Channel layer failed once (leaving realtime.user.1: RuntimeError: readuntil() called while another "
            "coroutine waits) and answers: no outage",
        )
    ]


async def test_an_outage_is_one_warning_and_its_end_one_line(
    redis_server: FakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    record = LayerHealth()
    record.report_lost("publishing", ConnectionError("Redis is away"))
    assert lines(caplog) == []  # not before a ping fails too
    await redis_server.answer(False)
    assert record.state is LayerState.LOST
    for _ in range(3):
        record.report_lost("reading a channel", ConnectionError("Redis is away"))
        await redis_server.answer(False)
    await redis_server.answer(True)
    assert (record.state, record._probe, redis_server.pings) == (LayerState.WORKING, None, 5)
    assert lines(caplog) == [
        (logging.WARNING, LOST.format("publishing: ConnectionError: Redis is away")),
        (logging.INFO, BACK),
    ]


async def test_something_through_the_layer_ends_the_outage_before_the_probe_does(
    redis_server: FakeRedis, caplog: pytest.LogCaptureFixture
) -> None:
    record = LayerHealth()
    record.report_lost("publishing", None)
    probe = record._probe
    assert probe is not None
    await redis_server.answer(False)
    record.report_working()
    await probe  # it stops without another ping
    assert (record.state, record._probe, redis_server.pings, redis_server.closed) == (LayerState.WORKING, None, 1, True)
    assert lines(caplog) == [(logging.WARNING, LOST.format("publishing")), (logging.INFO, BACK)]


async def test_a_second_outage_is_warned_again(redis_server: FakeRedis, caplog: pytest.LogCaptureFixture) -> None:
    record = LayerHealth()
    for what in ("publishing", "following presence"):
        record.report_lost(what, None)
        await redis_server.answer(False, True)
    assert lines(caplog) == [
        (logging.WARNING, LOST.format("publishing")),
        (logging.INFO, BACK),
        (logging.WARNING, LOST.format("following presence")),
        (logging.INFO, BACK),
    ]


async def test_with_no_redis_to_probe_the_first_failure_is_warned_at_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(health, "redis_targets", lambda: [])
    record = LayerHealth()
    record.report_lost("publishing", None)
    record.report_lost("publishing", None)
    assert (record.state, record._probe) == (LayerState.LOST, None)
    assert lines(caplog) == [(logging.WARNING, LOST.format("publishing"))]


def test_outside_an_event_loop_each_failure_is_one_plain_line(caplog: pytest.LogCaptureFixture) -> None:
    health.report_lost("publishing", ConnectionError("Redis is away"))
    assert lines(caplog) == [
        (logging.WARNING, "Channel layer unavailable (publishing): ConnectionError('Redis is away')")
    ]


async def test_a_cancelled_probe_still_closes_its_client(redis_server: FakeRedis) -> None:
    record = LayerHealth()
    record.report_lost("publishing", None)
    probe = record._probe
    assert probe is not None
    await asyncio.sleep(0)  # the probe waits for its ping's answer
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert (redis_server.closed, record._probe) == (True, None)
