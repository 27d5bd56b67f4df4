"""
Presence as the backends keep it, and the diffs connections get.

A topic's presence is a set of distinct users. Each server process records the
users it holds on each topic (a user with three tabs in one process is one
record), and a user is present while any process holds them: the first
process's record is a join, the last one's end a leave. Every join and leave of
a topic gets the topic's next `version` (1, 2, 3, ... across all processes) and
the topic's `count` just after it, so that whoever reads a state (its version)
and then the changes knows exactly which changes the state already holds.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from django.contrib.auth.base_user import AbstractBaseUser


class PresentUser(TypedDict):
    """A user in presence and typing frames."""

    id: Any
    username: str


def present_user(user: AbstractBaseUser) -> PresentUser:
    return {"id": user.pk, "username": user.get_username()}


@dataclass(frozen=True)
class Change:
    """A user's first record on `topic` (a join) or the end of their last (a leave)."""

    topic: str
    user: PresentUser
    joined: bool
    version: int
    count: int

    def as_event(self) -> list[Any]:
        return [self.topic, dict(self.user), self.joined, self.version, self.count]

    @classmethod
    def from_event(cls, item: Sequence[Any]) -> Change:
        topic, user, joined, version, count = item
        return cls(
            str(topic), {"id": user["id"], "username": str(user["username"])}, bool(joined), int(version), int(count)
        )


@dataclass(frozen=True)
class State:
    """A topic's presence at `version`: its users, or None when there are more than the limit asked."""

    count: int
    users: list[PresentUser] | None
    version: int


@dataclass(frozen=True)
class Presence:
    """What `present(topic)` answers: how many users, and who (None past the limit asked)."""

    count: int
    users: list[PresentUser] | None


class StateFrame(TypedDict):
    type: Literal["presence_state"]
    topic: str
    count: int
    users: NotRequired[list[PresentUser]]


class DiffFrame(TypedDict):
    type: Literal["presence_diff"]
    topic: str
    count: int
    joins: NotRequired[list[PresentUser]]
    leaves: NotRequired[list[PresentUser]]


class TypingFrame(TypedDict):
    type: Literal["typing"]
    topic: str
    user: PresentUser


def state_frame(topic: str, state: State, limit: int) -> StateFrame:
    frame: StateFrame = {"type": "presence_state", "topic": topic, "count": state.count}
    if state.users is not None and state.count <= limit:
        frame["users"] = sorted(state.users, key=_order)
    return frame


@dataclass(frozen=True)
class Diff:
    """The net effect of a run of changes: who is new, who is gone, and the count after the last one."""

    joins: list[PresentUser]
    leaves: list[PresentUser]
    count: int

    def frame(self, topic: str, limit: int) -> DiffFrame:
        frame: DiffFrame = {"type": "presence_diff", "topic": topic, "count": self.count}
        if self.count <= limit:
            frame["joins"] = self.joins
            frame["leaves"] = self.leaves
        return frame


def net(changes: Sequence[Change]) -> Diff:
    """
    The diff of `changes` (ascending by version): a user who was absent before
    the first of their changes and present after the last is a join; the other
    way round, a leave; a user who came and went (or went and came back) is in
    neither list.
    """
    first: dict[Hashable, Change] = {}
    last: dict[Hashable, Change] = {}
    for change in changes:
        key = _key(change.user)
        first.setdefault(key, change)
        last[key] = change
    # Absent before the first change if that change is a join; present after the last if it is one.
    joins = [last[key].user for key in last if first[key].joined and last[key].joined]
    leaves = [last[key].user for key in last if not first[key].joined and not last[key].joined]
    return Diff(sorted(joins, key=_order), sorted(leaves, key=_order), changes[-1].count)


def _key(user: PresentUser) -> Hashable:
    return str(user["id"])


def _order(user: PresentUser) -> tuple[str, str]:
    return (user["username"], str(user["id"]))
