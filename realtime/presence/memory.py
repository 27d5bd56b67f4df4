"""Presence kept in this process: one server process, the in-memory channel layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from realtime.presence.backend import KeepAlive, Record
from realtime.presence.model import Change, PresentUser, State


class MemoryPresence:
    """Records by process, users by topic (with how many processes hold each), versions by topic."""

    def __init__(self) -> None:
        self._held: dict[str, dict[tuple[str, str], PresentUser]] = {}
        self._users: dict[str, dict[str, tuple[PresentUser, int]]] = {}
        self._versions: dict[str, int] = {}
        self._typed: dict[tuple[str, str], float] = {}
        self._typed_pruned_at = float("-inf")

    async def apply(
        self, process: str, joins: Sequence[Record], leaves: Sequence[Record], *, now: float
    ) -> list[Change]:
        changes: list[Change] = []
        for topic, user in joins:
            self._add(process, topic, user, changes)
        for topic, user in leaves:
            self._remove(process, topic, str(user["id"]), changes)
        return changes

    async def sync(self, process: str, held: Sequence[Record], *, now: float) -> list[Change]:
        wanted = {(topic, str(user["id"])): user for topic, user in held}
        changes: list[Change] = []
        for topic, user_id in set(self._held.get(process, {})) - set(wanted):
            self._remove(process, topic, user_id, changes)
        for (topic, _), user in wanted.items():
            self._add(process, topic, user, changes)
        return changes

    async def keepalive(self, process: str, *, now: float, expires_after: float) -> KeepAlive:
        return KeepAlive()  # one process: nobody else to reap

    async def state(self, topic: str, limit: int) -> State:
        users = self._users.get(topic, {})
        listed = [user for user, _ in users.values()] if len(users) <= limit else None
        return State(len(users), listed, self._versions.get(topic, 0))

    async def versions(self, topics: Sequence[str]) -> dict[str, int]:
        return {topic: self._versions.get(topic, 0) for topic in topics}

    async def allow_typing(self, topic: str, user_id: Any, *, interval: float, now: float) -> bool:
        key = (topic, str(user_id))
        if now - self._typed.get(key, float("-inf")) < interval:
            return False
        if now - self._typed_pruned_at >= interval:  # forget the stale, once an interval
            self._typed = {k: at for k, at in self._typed.items() if now - at < interval}
            self._typed_pruned_at = now
        self._typed[key] = now
        return True

    async def close(self) -> None:
        pass

    def _add(self, process: str, topic: str, user: PresentUser, changes: list[Change]) -> None:
        held = self._held.setdefault(process, {})
        key = (topic, str(user["id"]))
        if key in held:
            return
        held[key] = user
        users = self._users.setdefault(topic, {})
        known = users.get(key[1])
        users[key[1]] = (user, 1 if known is None else known[1] + 1)
        if known is None:
            changes.append(self._change(topic, user, joined=True))

    def _remove(self, process: str, topic: str, user_id: str, changes: list[Change]) -> None:
        user = self._held.get(process, {}).pop((topic, user_id), None)
        if user is None:
            return
        if not self._held[process]:
            del self._held[process]
        users = self._users[topic]
        known, holders = users[user_id]
        if holders > 1:
            users[user_id] = (known, holders - 1)
            return
        del users[user_id]
        changes.append(self._change(topic, user, joined=False))
        if not users:  # nobody left; its versions go on from where they are (one number per topic ever followed)
            del self._users[topic]

    def _change(self, topic: str, user: PresentUser, *, joined: bool) -> Change:
        version = self._versions[topic] = self._versions.get(topic, 0) + 1
        return Change(topic, user, joined, version, len(self._users.get(topic, {})))
