"""realtime.hub: one registry of a process's open connections, and the periodic checks over it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.db import OperationalError

from realtime.hub import SMALL, Hub, Members, PeriodicCheck, every, hub
from realtime.testing import ManualClock

INDEX = "test-index"


@pytest.fixture
def runs() -> list[dict[Any, set[Any]]]:
    return []


@pytest.fixture
def counting_check(runs: list[dict[Any, set[Any]]]) -> PeriodicCheck:
    async def run(on: Hub, members: Members) -> None:
        runs.append({key: set(value) for key, value in members.items()})

    return every(PeriodicCheck("counting check", INDEX, lambda: 5.0, run))


async def test_an_index_holds_members_by_key() -> None:
    here = hub()
    here.join("users", 1, "a")
    here.join("users", 1, "b")
    here.join("users", 2, "c")
    here.join("users", 2, "c")  # once
    assert here.members("users") == {1: ("a", "b"), 2: ("c",)}
    here.leave("users", 1, "a")
    here.leave("users", 2, "c")
    assert (here.members("users"), here.of("users", 1)) == ({1: ("b",)}, {"b"})
    here.leave("users", 1, "b")
    assert here.members("users") == {}


async def test_a_key_with_many_members_holds_them_in_a_set_and_its_last_leave_removes_it() -> None:
    here = hub()
    names = [f"connection {n}" for n in range(SMALL + 2)]
    for name in names[:SMALL]:
        here.join("topic", 7, name)
    assert here.members("topic") == {7: tuple(names[:SMALL])}
    here.join("topic", 7, names[SMALL])
    here.join("topic", 7, names[SMALL + 1])
    assert here.members("topic") == {7: set(names)}
    for name in names:
        here.leave("topic", 7, name)
    assert here.members("topic") == {}


async def test_a_check_runs_every_interval_while_its_index_has_members(
    realtime_clock: ManualClock, counting_check: PeriodicCheck, runs: list[Any]
) -> None:
    here = hub()
    here.join(INDEX, "key", "member")
    await realtime_clock.advance(4.9)
    assert runs == []
    await realtime_clock.advance(0.1)
    await realtime_clock.advance(5)
    assert runs == [{"key": {"member"}}, {"key": {"member"}}]
    here.leave(INDEX, "key", "member")
    await realtime_clock.advance(20)
    assert len(runs) == 2
    assert realtime_clock.pending() == 0


async def test_a_failing_check_is_logged_and_runs_again(
    realtime_clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    outcomes: list[BaseException | None] = [KeyError("a bug"), OperationalError("the database is away"), None]
    ran: list[int] = []

    async def flaky(on: Hub, members: Members) -> None:
        ran.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    every(PeriodicCheck("flaky check", "flaky-index", lambda: 1.0, flaky))
    hub().join("flaky-index", "key", "member")
    await realtime_clock.advance(3)
    hub().leave("flaky-index", "key", "member")
    assert len(ran) == 3
    logged = [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records if r.name == "realtime.hub"]
    assert logged == [
        ("ERROR", "The flaky check failed; trying again in 1.0 s", True),
        (
            "WARNING",
            "The flaky check failed; trying again in 1.0 s: the database is unavailable (OperationalError)",
            False,
        ),
    ]


async def test_a_check_whose_interval_cannot_be_read_is_logged_and_tried_again(
    realtime_clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[int] = []

    def interval() -> float:
        raise AttributeError("REALTIME has no key 'X'")

    async def run(on: Hub, members: Members) -> None:
        ran.append(1)

    every(PeriodicCheck("misconfigured check", "misconfigured-index", interval, run))
    hub().join("misconfigured-index", "key", "member")
    await realtime_clock.advance(10)
    hub().leave("misconfigured-index", "key", "member")
    assert ran == [1]
    assert next(r.getMessage() for r in caplog.records if r.name == "realtime.hub") == (
        "The misconfigured check cannot read its interval; trying again in 10.0 s"
    )


async def test_slots_are_held_per_connection_up_to_the_cap() -> None:
    here = hub()
    assert (here.take_slot("c1", 7, cap=2), here.take_slot("c2", 7, cap=2), here.take_slot("c3", 7, cap=2)) == (
        True,
        True,
        False,
    )
    assert here.give_back_slot("c1") == 7
    assert here.take_slot("c3", 7, cap=2) is True
    assert here.held_slots() == {"c2": 7, "c3": 7}
    assert here.give_back_slot("never-held") is None


async def test_each_event_loop_has_its_own_hub() -> None:
    here = hub()
    assert hub() is here
    other: list[Hub] = []
    await asyncio.to_thread(lambda: asyncio.run(_remember_hub(other)))
    assert other[0] is not here


async def _remember_hub(into: list[Hub]) -> None:
    into.append(hub())
