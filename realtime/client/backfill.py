"""
Filling a truncated replay (PROTOCOL.md, "Replays are bounded" and "History
over HTTP"): when the server answers a subscription with `replay_complete`
and `truncated: true`, the entries in `(since, last_id]` are read from the
history endpoint, page by page, before anything that came after.

Only the standard library (urllib, run in a thread): the client needs nothing
but `websockets`. The history lives beside the WebSocket endpoint, on the same
host: `ws://host/ws/` reads `http://host/realtime/history/<kind>/<key>`
(`history_base=` moves it).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from realtime.client.backoff import Backoff
from realtime.client.errors import HistoryUnavailable
from realtime.client.positions import Position
from realtime.client.protocol import Frame

# The largest page the endpoint gives (realtime/feeds/history.py, HISTORY_MAX_PAGE_SIZE).
PAGE_LIMIT = 500
HISTORY_PATH = "/realtime/history/"
REQUEST_TIMEOUT = 30.0
# Answers worth asking again for: the server is away or busy, or (401) the token was refreshed meanwhile.
RETRY_STATUSES = frozenset({401, 408, 429})
UNAUTHORIZED = 401

_HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def default_history_base(ws_url: str) -> str:
    """The history endpoint beside `ws_url`: ws://host/ws/ -> http://host/realtime/history/."""
    parts = urlsplit(ws_url)
    scheme = _HTTP_SCHEMES.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"a WebSocket URL starts with ws:// or wss://, not {parts.scheme}://")
    return urlunsplit((scheme, parts.netloc, HISTORY_PATH, "", ""))


def history_url(base: str, topic: str) -> str:
    """The history of `topic`: "comments:42" -> <base>comments/42, "notifications" -> <base>notifications."""
    path = "/".join(quote(part, safe="") for part in topic.split(":"))
    return f"{base if base.endswith('/') else base + '/'}{path}"


@dataclass(frozen=True)
class HistoryPage:
    items: list[Frame]
    next_after: int | None


def read_page(
    url: str, *, after: int, token: str | None, renewable: bool = True, timeout: float = REQUEST_TIMEOUT
) -> HistoryPage:
    """
    One page of history after `after` (blocking); `HistoryUnavailable` saying whether to try again
    (a 401 only when the token can be `renewable`: a string that expired never becomes valid).
    """
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    separator = "&" if "?" in url else "?"
    request = urllib.request.Request(f"{url}{separator}after={after}&limit={PAGE_LIMIT}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        error.close()  # its response holds the socket
        retry = error.code >= 500 or (error.code in RETRY_STATUSES and (renewable or error.code != UNAUTHORIZED))
        raise HistoryUnavailable(f"the history endpoint answered HTTP {error.code}", retry=retry) from None
    except (OSError, ValueError) as error:  # no network, a timeout, a body that is not JSON
        raise HistoryUnavailable(f"the history could not be read: {error}", retry=True) from None
    items = body.get("items") if isinstance(body, dict) else None
    next_after = body.get("next_after") if isinstance(body, dict) else None
    if not isinstance(items, list) or not (next_after is None or isinstance(next_after, int)):
        raise HistoryUnavailable("the history endpoint answered something else than a page", retry=False)
    return HistoryPage([item for item in items if isinstance(item, dict)], next_after)


class Backfill:
    """
    One truncated replay being filled: `next_items()` gives the next page's
    entries up to the replay's `last_id` (with `topic`, which history items do
    not carry), then None once it is over. A page that cannot be read for now is
    asked for again after a backoff; one refused for good raises `HistoryUnavailable`.
    """

    def __init__(
        self,
        *,
        url: str,
        topic: str,
        complete: Frame,
        after: int,
        position: Position,
        token: Callable[[], str | None],
        backoff: Backoff,
        renewable: bool = True,
    ) -> None:
        self.complete = complete
        self.last_id = int(complete["last_id"])
        self._url = url
        self._topic = topic
        self._after: int | None = after
        self._position = position
        self._token = token
        self._renewable = renewable
        self._backoff = backoff

    async def next_items(self) -> list[Frame] | None:
        if self._after is None or self._after >= self.last_id:
            return None
        after = self._after
        while True:
            try:
                page = await asyncio.to_thread(
                    read_page, self._url, after=after, token=self._token(), renewable=self._renewable
                )
                break
            except HistoryUnavailable as error:
                if not error.retry:
                    self._after = None
                    raise
                await asyncio.sleep(self._backoff.next_delay())
        self._backoff.attempt = 0
        items: list[Frame] = []
        for item in page.items:
            entry = self._position(item)
            if entry is None or entry > self.last_id:
                self._after = None
                return items
            items.append({**item, "topic": self._topic})
        self._after = page.next_after
        return items
