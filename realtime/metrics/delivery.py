"""
`realtime_delivery_seconds`: from an entry's commit to its live send.

Publishing after commit (realtime/feeds/publish.py) stamps each channel-layer
event with the wall-clock time of the commit; the subscription that sends the
entry live observes the time since (realtime/feeds/subscription.py). Entries
sent by a replay or the feed checks are not live deliveries and are not
observed. The stamp is the wall clock of the process that committed: across
hosts, delivery times are as good as their clocks' agreement (NTP).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.metrics import Histogram

from realtime.metrics import catalog

# The key of a published event that holds its commit time (seconds since the epoch).
COMMITTED_AT = "committed_at"

_by_kind: dict[str, Histogram] = {}


def stamped(event: dict[str, Any], committed_at: float) -> dict[str, Any]:
    """`event` with its commit time."""
    return {**event, COMMITTED_AT: committed_at}


def observe(kind: str, event: dict[str, Any] | None) -> None:
    """An entry of a topic of `kind` went out live, announced by `event`; without a stamp, nothing is observed."""
    committed_at = None if event is None else event.get(COMMITTED_AT)
    if not isinstance(committed_at, float):
        return
    histogram = _by_kind.get(kind)
    if histogram is None:
        histogram = _by_kind[kind] = catalog.delivery_seconds.labels(kind)
    histogram.observe(max(0.0, time.time() - committed_at))
