"""
A bound on the frames a connection may send (PROTOCOL.md, "No input crashes anything").

The rate limits of realtime/limits/ratelimit.py count messages, which the
application sees; autobahn parses every frame before that, and a message can be
made of any number of fragments, zero-length ones included, and interleaved
control frames. Five million empty continuation frames cost daphne twenty
seconds of CPU, and each kept an empty bytes object until the message ended.
Here each connection may send at most `MAX_FRAGMENTS_PER_MESSAGE` frames per
message (more: close 1009, as a message too big) and, all frames together, a
burst and a rate `FRAME_ALLOWANCE` times those of its messages (more: close
4429, as for messages); one that goes on sending long after that close is dropped.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from realtime.close_codes import CLOSE_MESSAGE_TOO_BIG, CLOSE_RATE_LIMITED
from realtime.limits.ratelimit import MESSAGE, Rate, TokenBucket
from realtime.metrics import catalog as metrics
from realtime.server.patching import replace

logger = logging.getLogger(__name__)

MAX_FRAGMENTS_PER_MESSAGE = 1024
# Frames allowed per message allowed: fragments, pings and pongs around each message.
FRAME_ALLOWANCE = 10
LAST_DATA_OPCODE = 7
# The rate budget of all frames together, in realtime_rate_limited_total.
FRAMES_BUDGET = "frames"
# Frames a connection that was told to stop may still send (those already on their way) before it is dropped.
MAX_FRAMES_AFTER_REFUSAL = 10_000


def _frame_budget() -> TokenBucket:
    rate = MESSAGE.rate()
    return TokenBucket(Rate(FRAME_ALLOWANCE * rate.per_second, FRAME_ALLOWANCE * rate.burst), time.monotonic())


def install() -> bool:
    """Apply to daphne's WebSocket protocol; False without daphne."""
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:
        return False

    def counting(original: Any) -> Any:
        def on_frame_begin(self: Any) -> None:
            first_of_message = not self.inside_message
            original(self)  # always: autobahn prepares the frame's state here
            refused_since = getattr(self, "realtime_refused_since", None)
            if refused_since is not None:
                self.realtime_refused_since = refused_since + 1
                if refused_since + 1 > MAX_FRAMES_AFTER_REFUSAL:
                    self.dropConnection(abort=True)  # it was told, and goes on
                return
            budget = getattr(self, "realtime_frames", None)
            if budget is None:
                budget = self.realtime_frames = _frame_budget()
            if self.current_frame.opcode <= LAST_DATA_OPCODE:
                self.realtime_fragments = 1 if first_of_message else getattr(self, "realtime_fragments", 0) + 1
                if self.realtime_fragments > MAX_FRAGMENTS_PER_MESSAGE:
                    _refuse(self, CLOSE_MESSAGE_TOO_BIG, f"more than {MAX_FRAGMENTS_PER_MESSAGE} frames in one message")
                    return
            if not budget.take(time.monotonic()):
                metrics.rate_limited.labels(FRAMES_BUDGET).inc()
                _refuse(self, CLOSE_RATE_LIMITED, "too many frames")

        return on_frame_begin

    replace(WebSocketProtocol, "onFrameBegin", counting)
    return True


def _refuse(protocol: Any, code: int, why: str) -> None:
    protocol.realtime_refused_since = 0
    logger.warning("WebSocket %s closed with %s: %s", getattr(protocol.request, "path", "?"), code, why)
    protocol._fail_connection(code, why)
