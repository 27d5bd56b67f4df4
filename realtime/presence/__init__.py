"""
Presence and typing on topics (PROTOCOL.md, "Presence and typing").

A topic kind switches them on (`TopicKind.presence`, `TopicKind.typing`); the
library does the rest, on `/ws/` and on the kind's per-feed endpoint alike:

- model.py: who is present, as the backends record it (users, changes, states)
  and the diff a connection gets from a run of changes;
- memory.py, redis.py: where presence is kept: this process, or Redis for
  every process (a crashed process's users are reaped within PRESENCE_TTL);
- tracker.py: one per server process: the local subscriptions by topic, the
  writes to the backend, the changes other processes publish, and every
  PRESENCE_INTERVAL the batched `presence_diff` of each topic;
- typing.py: `typing`, throttled per user and topic, relayed to the others;
- api.py: `present(topic)`, for a host's own views ("12 watching").
"""

from realtime.presence.api import apresent, present
from realtime.presence.model import Presence

__all__ = ["Presence", "apresent", "present"]
