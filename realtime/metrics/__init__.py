"""
Prometheus metrics of the realtime library (docs/reference/metrics.md).

Every metric is defined in catalog.py and served by `realtime.metrics.views.metrics`
(`GET /metrics`). What other code of a site may use:

- `realtime.metrics.presence_topics`, the gauge `realtime_presence_topics`:
  the presence code keeps it current, either with `presence_topics.inc()` /
  `.dec()` as it starts and stops tracking a topic, or once, with
  `presence_topics.set_function(lambda: len(tracked_topics))`, read at each scrape.
- `realtime.metrics.connections.handshake_refused(scope, outcome)`: a middleware
  of the site's own that refuses a handshake names its outcome.
"""

from __future__ import annotations

from realtime.metrics import database, traffic
from realtime.metrics.catalog import presence_topics

__all__ = ["database", "presence_topics", "traffic"]
