"""What the comments app tells the realtime library about itself (realtime/registry.py)."""

from __future__ import annotations

from comments import errors
from comments.limits import COMMENT_BUDGET
from comments.topics import COMMENTS_TOPIC
from realtime.conf import count, rate
from realtime.registry import Feature

COMMENTS = Feature(
    name="comments",
    settings={
        "COMMENT_MAX_LENGTH": count(5000, "longest comment body, in characters"),
        "RATE_LIMIT_COMMENTS_PER_SECOND": rate(1, "steady rate of `new_comment` messages per connection"),
        "RATE_LIMIT_COMMENTS_BURST": count(10, "burst of `new_comment` messages per connection"),
    },
    error_codes=errors.WHEN,
    budgets=[COMMENT_BUDGET],
    websocket_urlpatterns="comments.routing.websocket_urlpatterns",
    topics=[COMMENTS_TOPIC],
    urlpatterns="comments.urls.urlpatterns",
)
