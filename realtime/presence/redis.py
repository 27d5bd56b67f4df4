"""
Presence in Redis, for every server process (the channel layer's first Redis).

One record per process, user and topic, and per topic the users present:

    (<prefix>: the channel layer's prefix, then "realtime:presence:": realtime/layers/redis.py)
    <prefix>processes          sorted set: process -> when it last said it is alive
    <prefix>held:<process>     hash: "<user id>\\0<topic>" -> the user (JSON): what the process holds
    <prefix>users:<topic>      hash: user id -> how many processes hold the user
    <prefix>names:<topic>      hash: user id -> the user (JSON)
    <prefix>version:<topic>    the topic's version: one more for every join and leave

A join or a leave touches one record, one user, one version: it costs the same
with 10,000 users on a topic as with one, and a process holding 10,000 topics
pays nothing per topic to stay alive (one `ZADD` a PRESENCE_INTERVAL). Each
script runs atomically, and is idempotent for a process: writing a record it
holds, or ending one it does not, changes nothing. A process that dies is
reaped by the next process that says it is alive after its records expired:
its users leave, each with a version, as if it had closed them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio

from realtime.presence.backend import KeepAlive, Record
from realtime.presence.model import Change, PresentUser, State

# Seconds the version of a topic nobody is on is kept (a topic followed again goes on from it).
VERSION_KEPT = 86_400

_FUNCTIONS = r"""
local P = ARGV[1]
local function change(topic, user, joined, out)
  local version_key = P .. 'version:' .. topic
  local version = redis.call('INCR', version_key)
  local count = redis.call('HLEN', P .. 'users:' .. topic)
  if count == 0 then redis.call('EXPIRE', version_key, tonumber(ARGV[2])) else redis.call('PERSIST', version_key) end
  table.insert(out, {topic, user, joined, version, count})
end
local function add(process, user_id, topic, user, out)
  if redis.call('HSETNX', P .. 'held:' .. process, user_id .. '\0' .. topic, user) == 0 then return end
  if redis.call('HINCRBY', P .. 'users:' .. topic, user_id, 1) == 1 then
    redis.call('HSET', P .. 'names:' .. topic, user_id, user)
    change(topic, user, 1, out)
  end
end
local function remove(process, field, out)
  local held = P .. 'held:' .. process
  local user = redis.call('HGET', held, field)
  if not user then return end
  redis.call('HDEL', held, field)
  local cut = string.find(field, '\0', 1, true)
  local user_id, topic = string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
  if redis.call('HINCRBY', P .. 'users:' .. topic, user_id, -1) <= 0 then
    redis.call('HDEL', P .. 'users:' .. topic, user_id)
    redis.call('HDEL', P .. 'names:' .. topic, user_id)
    change(topic, user, 0, out)
  end
end
"""

# ARGV: prefix, kept, process, now, number of joins, joins as (user id, topic, user)..., leaves as fields...
_APPLY = (
    _FUNCTIONS
    + r"""
local process = ARGV[3]
redis.call('ZADD', P .. 'processes', ARGV[4], process)
local out = {}
local joins = tonumber(ARGV[5])
local i = 6
for _ = 1, joins do
  add(process, ARGV[i], ARGV[i + 1], ARGV[i + 2], out)
  i = i + 3
end
for j = i, #ARGV do remove(process, ARGV[j], out) end
return out
"""
)

# ARGV: prefix, kept, process, now, records as (user id, topic, user)...
_SYNC = (
    _FUNCTIONS
    + r"""
local process = ARGV[3]
redis.call('ZADD', P .. 'processes', ARGV[4], process)
local wanted = {}
for i = 5, #ARGV, 3 do wanted[ARGV[i] .. '\0' .. ARGV[i + 1]] = true end
local out = {}
for _, field in ipairs(redis.call('HKEYS', P .. 'held:' .. process)) do
  if not wanted[field] then remove(process, field, out) end
end
for i = 5, #ARGV, 3 do add(process, ARGV[i], ARGV[i + 1], ARGV[i + 2], out) end
return out
"""
)

# ARGV: prefix, kept, process, now, cutoff. Returns {lost, changes}.
_KEEPALIVE = (
    _FUNCTIONS
    + r"""
local processes = P .. 'processes'
local lost = 0
if not redis.call('ZSCORE', processes, ARGV[3]) then lost = 1 end
redis.call('ZADD', processes, ARGV[4], ARGV[3])
local out = {}
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', processes, '-inf', '(' .. ARGV[5])) do
  redis.call('ZREM', processes, dead)
  for _, field in ipairs(redis.call('HKEYS', P .. 'held:' .. dead)) do remove(dead, field, out) end
end
return {lost, out}
"""
)

# ARGV: key, now, interval (seconds). 1 when a typing may go, once per interval.
_TYPING = r"""
local last = redis.call('GET', ARGV[1])
if last and tonumber(ARGV[2]) - tonumber(last) < tonumber(ARGV[3]) then return 0 end
redis.call('SET', ARGV[1], ARGV[2], 'PX', math.ceil(tonumber(ARGV[3]) * 1000))
return 1
"""

# ARGV: prefix, topic, limit. Returns {version, count[, users]}.
_STATE = r"""
local P, topic = ARGV[1], ARGV[2]
local count = redis.call('HLEN', P .. 'users:' .. topic)
local version = tonumber(redis.call('GET', P .. 'version:' .. topic) or '0')
if count > tonumber(ARGV[3]) then return {version, count} end
return {version, count, redis.call('HVALS', P .. 'names:' .. topic)}
"""


class RedisPresence:
    def __init__(self, client: redis.asyncio.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._apply = client.register_script(_APPLY)
        self._sync = client.register_script(_SYNC)
        self._keepalive = client.register_script(_KEEPALIVE)
        self._state = client.register_script(_STATE)
        self._typing = client.register_script(_TYPING)

    async def apply(
        self, process: str, joins: Sequence[Record], leaves: Sequence[Record], *, now: float
    ) -> list[Change]:
        if not joins and not leaves:
            return []
        args: list[Any] = [*self._head(process, now), len(joins), *_records(joins)]
        args += [f"{user['id']}\0{topic}" for topic, user in leaves]
        return _changes(await self._apply(keys=[], args=args))

    async def sync(self, process: str, held: Sequence[Record], *, now: float) -> list[Change]:
        return _changes(await self._sync(keys=[], args=[*self._head(process, now), *_records(held)]))

    async def keepalive(self, process: str, *, now: float, expires_after: float) -> KeepAlive:
        args: list[Any] = [self._prefix, VERSION_KEPT, process, now, now - expires_after]
        lost, changes = await self._keepalive(keys=[], args=args)
        return KeepAlive(reaped=_changes(changes), lost=bool(lost))

    async def state(self, topic: str, limit: int) -> State:
        version, count, *listed = await self._state(keys=[], args=[self._prefix, topic, limit])
        users = [_user(text) for text in listed[0]] if listed else None
        return State(int(count), users, int(version))

    async def versions(self, topics: Sequence[str]) -> dict[str, int]:
        if not topics:
            return {}
        found = await self._client.mget([f"{self._prefix}version:{topic}" for topic in topics])
        return {topic: int(value or 0) for topic, value in zip(topics, found, strict=True)}

    async def allow_typing(self, topic: str, user_id: Any, *, interval: float, now: float) -> bool:
        key = f"{self._prefix}typing:{user_id}\0{topic}"
        return bool(await self._typing(keys=[], args=[key, now, interval]))

    async def close(self) -> None:
        await self._client.aclose()

    def _head(self, process: str, now: float) -> list[Any]:
        return [self._prefix, VERSION_KEPT, process, now]


def _records(records: Sequence[Record]) -> list[Any]:
    flat: list[Any] = []
    for topic, user in records:
        flat += [str(user["id"]), topic, json.dumps(user, separators=(",", ":"), ensure_ascii=False)]
    return flat


def _changes(raw: Sequence[Sequence[Any]]) -> list[Change]:
    return [
        Change(_text(topic), _user(user), bool(int(joined)), int(version), int(count))
        for topic, user, joined, version, count in raw
    ]


def _user(raw: bytes | str) -> PresentUser:
    data = json.loads(raw)
    return {"id": data["id"], "username": str(data["username"])}


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
