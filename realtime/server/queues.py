"""
daphne's and channels-redis' queue per connection, lean (realtime/layers/queues.py).

daphne makes an `asyncio.Queue` for every connection's messages to the
application, and channels-redis' pub/sub layer one for every channel; both
are empty nearly all the time and cost about 3.5 KiB each. Each module gets an
`asyncio` of its own whose `Queue` is `LeanQueue`; everything else is asyncio's.
"""

from __future__ import annotations

import asyncio
import importlib
import types
from typing import Any

from realtime.layers.queues import LeanQueue

MODULES = ("daphne.server", "channels_redis.pubsub")


class _AsyncioWithLeanQueues(types.ModuleType):
    Queue = LeanQueue

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)


def install() -> list[str]:
    """Give each module its lean queues; the modules it applied to (those installed)."""
    applied = []
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if not isinstance(getattr(module, "asyncio", None), _AsyncioWithLeanQueues):
            setattr(module, "asyncio", _AsyncioWithLeanQueues("asyncio"))  # noqa: B010  (a module's global)
        applied.append(name)
    return applied
