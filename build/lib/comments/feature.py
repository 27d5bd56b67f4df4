"""What the comments app tells the realtime library about itself (realtime/registry.py)."""

from __future__ import annotations

from realtime.conf import count, rate
from realtime.limits.ratelimit import Budget
from realtime.registry import Feature

INVALID_BODY = "invalid_body"
INVALID_CLIENT_ID = "invalid_client_id"

# The rate budget every `new_comment` spends from, on top of the message budget.
COMMENT_BUDGET = Budget("comment", "comments", "RATE_LIMIT_COMMENTS_PER_SECOND", "RATE_LIMIT_COMMENTS_BURST")

COMMENTS = Feature(
    name="comments",
    settings={
        "COMMENT_MAX_LENGTH": count(5000, "longest comment body, in characters"),
        "RATE_LIMIT_COMMENTS_PER_SECOND": rate(1, "steady rate of `new_comment` messages per connection"),
        "RATE_LIMIT_COMMENTS_BURST": count(10, "burst of `new_comment` messages per connection"),
    },
    error_codes={
        INVALID_BODY: "a `new_comment` whose `body` is not a non-blank string, is too long, "
        "or holds text the database cannot store (NUL, lone surrogates)",
        INVALID_CLIENT_ID: "a `client_id` that is not a non-empty string of at most 64 characters",
    },
    budgets=[COMMENT_BUDGET],
    websocket_urlpatterns="comments.routing.websocket_urlpatterns",
)
