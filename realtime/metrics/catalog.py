"""
Every metric the library exports (PROTOCOL.md, "Observing it"; docs/reference/metrics.md).

They live in prometheus_client's default registry, one per process, beside the
process and garbage-collector metrics it registers itself (resident memory,
open descriptors, CPU). Every label has a bounded set of values: an endpoint is
a route, never a path (a post id); a topic kind, never a topic; a close code
from the table of known codes, anything else counted as "other"; no user, no
address. The per-message counts are plain integers read when scraped
(traffic.py): nothing per message goes through a lock.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# `realtime_handshakes_total{outcome}`: what became of a WebSocket handshake.
ACCEPTED = "accepted"
REFUSED_TOKEN = "refused_token"  # no usable token (1008)
REFUSED_ORIGIN = "refused_origin"  # a browser from an origin the site does not allow (1008)
REFUSED_CAP = "refused_cap"  # MAX_CONNECTIONS_PER_USER or MAX_CONNECTIONS_PER_IP (4429)
REFUSED_FORBIDDEN = "refused_forbidden"  # the site's permission hook (4403)
REFUSED_NOT_FOUND = "refused_not_found"  # no such post, no such path (4404)
REFUSED_UNAVAILABLE = "refused_unavailable"  # the database could not be reached (4503)
REFUSED_OTHER = "refused_other"  # a consumer of the site's own refused with another code
ABANDONED = "abandoned"  # the client left before it was answered
OUTCOMES = (
    ACCEPTED,
    REFUSED_TOKEN,
    REFUSED_ORIGIN,
    REFUSED_CAP,
    REFUSED_FORBIDDEN,
    REFUSED_NOT_FOUND,
    REFUSED_UNAVAILABLE,
    REFUSED_OTHER,
    ABANDONED,
)

# `realtime_fell_behind_total{cause}`: why a connection was closed with 4410 (or dropped).
SEND_BUFFER = "send_buffer"  # more than SEND_BUFFER_LIMIT bytes waited to be written (the server's transport)
BACKLOG = "backlog"  # more than CHANNEL_BACKLOG_LIMIT live events waited in the process
UNREAD_REPLAY = "unread_replay"  # a replay the client did not read for a heartbeat (the pacing timeout)
DROPPED = "dropped"  # not even its close was read: the connection was dropped
STALLED_SEND = "stalled_send"  # the server's send waited a heartbeat for the client (servers other than daphne)
FELL_BEHIND_CAUSES = (SEND_BUFFER, BACKLOG, UNREAD_REPLAY, DROPPED, STALLED_SEND)

# `realtime_database_failures_total{error}`.
OUTAGE = "outage"  # the database refused or dropped the connection: expected while it restarts
OTHER_ERROR = "other"  # any other DatabaseError: a bug

# Close codes counted by their number; any other is counted as "other" (a client chooses its own).
KNOWN_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015}
    | set(range(4001, 4016))
    | {4401, 4403, 4404, 4408, 4410, 4429, 4503}
)
OTHER_CODE = "other"

# Commit to send: from a millisecond (one process, idle) to the feed checks' pace and beyond (Redis away).
DELIVERY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

connections = Gauge("realtime_connections", "WebSocket connections open now, by endpoint", ["endpoint"])
handshakes = Counter(
    "realtime_handshakes", "WebSocket handshakes answered, by endpoint and outcome", ["endpoint", "outcome"]
)
# `realtime_closes_total{by}`: who sent the first close of an accepted connection. A client chooses
# its own code (a 1011 from a client is not a crash of ours); an alert on the server's 1011 reads `by="server"`.
BY_CLIENT = "client"  # the client's close frame, or its socket lost (1006)
BY_SERVER = "server"  # the application's close, its crash (1011), or the server stopping it (1006)
CLOSERS = (BY_CLIENT, BY_SERVER)
closes = Counter(
    "realtime_closes",
    "Accepted WebSocket connections ended, by endpoint, close code and who sent the close (client or server)",
    ["endpoint", "code", "by"],
)
error_frames = Counter("realtime_error_frames", "Error frames sent, by code", ["code"])
delivery_seconds = Histogram(
    "realtime_delivery_seconds",
    "Seconds from the commit of an entry (a comment, a notification) to its live send, by topic kind",
    ["kind"],
    buckets=DELIVERY_BUCKETS,
)
replayed_entries = Counter("realtime_replayed_entries", "Entries sent in replays, by topic kind", ["kind"])
replay_truncations = Counter(
    "realtime_replay_truncations", "Replays past REPLAY_LIMIT, sent none and truncated, by topic kind", ["kind"]
)
presence_topics = Gauge("realtime_presence_topics", "Topics whose presence this process tracks")
channel_layer_failures = Counter(
    "realtime_channel_layer_failures", "Channel-layer operations that failed (Redis away): publish, join, read"
)
database_failures = Counter(
    "realtime_database_failures", "Database operations that failed while serving, outage or other error", ["error"]
)
fell_behind = Counter(
    "realtime_fell_behind", "Connections closed with 4410 (or dropped) because they fell behind, by cause", ["cause"]
)
rate_limited = Counter(
    "realtime_rate_limited", "Client messages or frames refused by a rate limit, by budget", ["budget"]
)

for _cause in FELL_BEHIND_CAUSES:
    fell_behind.labels(_cause)
for _error in (OUTAGE, OTHER_ERROR):
    database_failures.labels(_error)


def close_code_label(code: int) -> str:
    """The `code` label of a close: its number when it is a known code, else "other"."""
    return str(code) if code in KNOWN_CLOSE_CODES else OTHER_CODE
