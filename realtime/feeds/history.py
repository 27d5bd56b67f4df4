"""
A feed's entries over HTTP (PROTOCOL.md, "Nothing lost across reconnects",
History over HTTP): what a client reads after a replay that was too long for
the socket (`replay_complete` with `truncated: true`).

    GET <prefix>/history/<topic path>?after=<id>&limit=<n>
    ->  {"items": [<frame>, ...], "next_after": <id or null>}

The items are the frames the socket sends for the feed's entries (without
`topic`: the path names it), ascending by id, after `after`, up to the feed's
committed high-water mark, at most `limit` (default HISTORY_PAGE_SIZE, at most
HISTORY_MAX_PAGE_SIZE) per page, and no more entries than fit in
HISTORY_MAX_PAGE_BYTES of JSON (at least one, however large); `next_after` is
the `after` of the next page, null on the last. A feature serves its kinds with
`history_view(kind)` in its HTTP URL patterns (`Feature.urlpatterns`). The request is authenticated as
realtime/auth/requests.py says; the key must exist (404) and the site's
permission hook allow it (403), as for a subscription. A page costs the user
(and session), the high-water mark, and one or two queries for its entries
(more only when they are long): a request holds about the page, never the
entries of a `limit` it could not send.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from realtime.auth.requests import Unauthenticated, request_user
from realtime.auth.views import NO_STORE
from realtime.db import database_sync_to_async
from realtime.feeds.opening import read_opening
from realtime.feeds.sequenced import FeedSource, parse_id
from realtime.outage import log_database_failure
from realtime.topics.kinds import TopicKind, UnknownTopic

logger = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 100
HISTORY_MAX_PAGE_SIZE = 500
# The JSON of a page's items, in bytes: past it the page ends (a page of 500 long comments was 15 MB).
HISTORY_MAX_PAGE_BYTES = 256 * 1024
# Entries the first query of a page reads; the next reads as many as the bytes left are likely to hold.
FIRST_BATCH = 25
_SEPARATORS = (",", ":")

HistoryView = Callable[..., Coroutine[Any, Any, HttpResponse]]


class InvalidQuery(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def page_query(request: HttpRequest) -> tuple[int, int]:
    """`after` (default 0) and `limit` (default HISTORY_PAGE_SIZE, cut to HISTORY_MAX_PAGE_SIZE)."""
    after = parse_id(request.GET.get("after", "0"))
    if after is None:
        raise InvalidQuery("invalid_after", '"after" must be a non-negative integer id.')
    limit = parse_id(request.GET.get("limit", str(HISTORY_PAGE_SIZE)))
    if limit is None or limit < 1:
        raise InvalidQuery("invalid_limit", f'"limit" must be a whole number from 1 to {HISTORY_MAX_PAGE_SIZE}.')
    return after, min(limit, HISTORY_MAX_PAGE_SIZE)


def history_view(kind: TopicKind, *, key_argument: str | None = None) -> HistoryView:
    """
    The history view of `kind`'s topics; `key_argument` names the URL argument
    holding the key (`post_id`), None for a kind without keys (`notifications`).
    """

    @require_GET
    async def history(request: HttpRequest, **arguments: Any) -> HttpResponse:
        key_text = None if key_argument is None else str(arguments[key_argument])
        try:
            user = await request_user(request)
            after, limit = page_query(request)
            key = kind.parse(key_text, user)
        except Unauthenticated as refused:
            return _answer({"error": "login_required", "message": str(refused)}, status=401)
        except InvalidQuery as invalid:
            return _answer({"error": invalid.code, "message": str(invalid)}, status=400)
        except UnknownTopic as unknown:
            return _answer({"error": "not_found", "message": f"{unknown}."}, status=404)
        except DatabaseError as error:
            return _unavailable(error, request)
        topic = kind.topic(key)
        source = kind.source(key)
        if source is None:
            return _answer({"error": "not_found", "message": f"{topic} is live only: it has no history."}, status=404)
        try:
            opening = await database_sync_to_async(read_opening)(kind, key, user)
            if not opening.found or opening.mark is None:
                return _answer({"error": "not_found", "message": f"There is no {topic}."}, status=404)
            if not opening.allowed:
                logger.info("Refused the history of %s: the permission hook refused it to user %s", topic, user.pk)
                return _answer({"error": "forbidden", "message": f"This user may not follow {topic}."}, status=403)
            mark = opening.mark
            items, next_after = await _page(source, after, mark, limit)
        except DatabaseError as error:
            return _unavailable(error, request)
        return _page_answer(items, next_after)

    return history


async def _page(source: FeedSource, after: int, mark: int, limit: int) -> tuple[list[bytes], int | None]:
    """
    The JSON of the page's frames and its `next_after`: at most `limit` entries, and no
    more than fit in HISTORY_MAX_PAGE_BYTES (at least one). Read FIRST_BATCH entries
    first, then as many as the bytes left hold at the size seen so far: one query or two
    for a page of short entries, and never many more entries in memory than the page holds.
    """
    items: list[bytes] = []
    size = 0
    last: int | None = None
    wanted = min(FIRST_BATCH, limit)
    while True:
        entries = await source.after_id(after if last is None else last, mark, wanted + 1)
        for entry in entries[:wanted]:
            item = json.dumps(entry.frame, separators=_SEPARATORS, ensure_ascii=False).encode()
            if items and size + len(item) > HISTORY_MAX_PAGE_BYTES:
                return items, last
            items.append(item)
            size += len(item) + 1
            last = entry.id
        if len(entries) <= wanted:
            return items, None
        if len(items) == limit:
            return items, last
        wanted = max(1, min(limit - len(items), (HISTORY_MAX_PAGE_BYTES - size) * len(items) // size + 1))


def _page_answer(items: list[bytes], next_after: int | None) -> HttpResponse:
    """What `_answer({"items": ..., "next_after": ...})` would send, from frames already encoded."""
    body = b"".join((b'{"items":[', b",".join(items), b'],"next_after":', json.dumps(next_after).encode(), b"}"))
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = NO_STORE
    response["Vary"] = "Authorization, Cookie"
    return response


def _unavailable(error: DatabaseError, request: HttpRequest) -> JsonResponse:
    log_database_failure(logger, error, "Could not read %s", request.path)
    message = "The history could not be read; try again shortly."
    response = _answer({"error": "unavailable", "message": message}, status=503)
    response["Retry-After"] = "5"
    return response


def _answer(body: dict[str, Any], *, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"separators": (",", ":"), "ensure_ascii": False})
    response["Cache-Control"] = NO_STORE
    response["Vary"] = "Authorization, Cookie"
    return response
