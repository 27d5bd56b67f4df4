"""Wrapping a method of daphne, autobahn or Twisted, once however often `install()` runs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_originals: dict[tuple[type, str], Any] = {}


def patch(owner: type, name: str, wrapper: Callable[..., Any]) -> None:
    """Make `owner.name(self, ...)` call `wrapper(original, self, ...)`. A second call changes nothing."""
    if (owner, name) in _originals:
        return
    original = getattr(owner, name)

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(original, self, *args, **kwargs)

    _originals[(owner, name)] = original
    setattr(owner, name, patched)


def replace(owner: type, name: str, make: Callable[[Any], Callable[..., Any]]) -> None:
    """
    Like `patch`, for a method called on every frame: `make(original)` returns the
    method itself, which calls `original` (one call fewer, and no arguments
    packed, on a path a round trip takes several times). A second call changes nothing.
    """
    if (owner, name) in _originals:
        return
    original = getattr(owner, name)
    method = functools.wraps(original)(make(original))
    _originals[(owner, name)] = original
    setattr(owner, name, method)


def is_patched(owner: type, name: str) -> bool:
    return (owner, name) in _originals


def installed_reactor() -> Any:
    """
    Twisted's installed reactor (daphne's asyncio reactor). Typed as Any: Twisted
    types it by its zope interfaces, whose methods are declared without `self`.
    """
    from twisted.internet import reactor

    return reactor
