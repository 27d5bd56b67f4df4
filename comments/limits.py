"""The rate budget every `new_comment` spends from, on top of the message budget (realtime/limits/ratelimit.py)."""

from __future__ import annotations

from realtime.limits.ratelimit import Budget

COMMENT_BUDGET = Budget("comment", "comments", "RATE_LIMIT_COMMENTS_PER_SECOND", "RATE_LIMIT_COMMENTS_BURST")
