"""
docs/reference/endpoints.md against the code: its table lists every WebSocket
route of the apps, and it names every frame type the server sends (the
TypedDicts client.d.ts is generated from, tests/typescript/schema.py).
"""

from __future__ import annotations

import re

from realtime import registry
from realtime.metrics.endpoints import route_label
from realtime.routing import seed_urlpatterns
from tests.support.docs import DOCS
from tests.typescript import schema

PAGE = DOCS / "reference" / "endpoints.md"


def endpoint_table_paths() -> set[str]:
    section = PAGE.read_text().split("\n## Endpoints\n", 1)[1]
    table = section[section.index("\n| path |") :].split("\n\n", 1)[0]
    return {found.group(1) for line in table.splitlines() if (found := re.match(r"\| `([^`]+)` \|", line))}


def test_the_endpoint_table_lists_every_websocket_route() -> None:
    routes = {route_label(route) for route in [*registry.websocket_urlpatterns(), *seed_urlpatterns]}
    assert endpoint_table_paths() == routes


def test_every_frame_type_the_server_sends_is_named() -> None:
    text = PAGE.read_text()
    unnamed = [kind for kind in schema.frames() if f'"type":"{kind}"' not in text and f"`{kind}`" not in text]
    assert unnamed == []
