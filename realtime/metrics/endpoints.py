"""
The `endpoint` label: which route a connection came in by, never its path.

A path holds a post id, which would make a series per post; the route that
matched it does not. A route's label is its `name` when it has one (the
library names `/ws/`), else its pattern written as a path:
`^ws/live-comments/(?P<post_id>[0-9]{1,18})/?$` is `/ws/live-comments/<post_id>`
(named groups as `<name>`, an optional trailing slash left out). A path no
route matches is `other`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.urls import URLPattern
from django.urls.resolvers import RoutePattern

OTHER = "other"
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_label(route: URLPattern) -> str:
    """The label of one route of a Channels `URLRouter`."""
    if route.name:
        return route.name
    pattern = route.pattern
    if isinstance(pattern, RoutePattern):
        return "/" + _CONVERTER.sub(r"<\1>", str(pattern))
    return "/" + _groups_as_names(str(pattern).removeprefix("^").removesuffix("$").removesuffix("/?"))


def _groups_as_names(regex: str) -> str:
    """`(?P<name>...)` as `<name>`, an unnamed group as `<arg>`, whatever they hold."""
    out: list[str] = []
    depth = 0
    position = 0
    while position < len(regex):
        character = regex[position]
        if character == "\\":
            if depth == 0:
                out.append(regex[position + 1 : position + 2])
            position += 2
            continue
        if character == "(":
            if depth == 0:
                named = _NAMED_GROUP.match(regex, position)
                out.append(f"<{named.group(1)}>" if named else "<arg>")
            depth += 1
        elif character == ")":
            depth -= 1
        elif depth == 0:
            out.append(character)
        position += 1
    return "".join(out)


class EndpointLabels:
    """The label of a connection's path, by the routes of the application that serves it."""

    def __init__(self, routes: Sequence[Any]) -> None:
        self._routes: list[tuple[Any, str]] = [
            (route.pattern, route_label(route)) for route in routes if isinstance(route, URLPattern)
        ]

    def labels(self) -> list[str]:
        return list(dict.fromkeys(label for _, label in self._routes))

    def of(self, scope: dict[str, Any]) -> str:
        """The label of the first route matching the scope's path, as Channels' `URLRouter` matches it."""
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        if root and path.startswith(root):
            path = path[len(root) :]
        path = path.lstrip("/")
        for pattern, label in self._routes:
            if pattern.match(path):
                return label
        return OTHER
