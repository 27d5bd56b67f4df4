"""The ASGI shapes every module of the library speaks in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Any ASGI application: ours, Channels', Django's (whose receive and send speak in Mappings).
ASGIApp = Callable[..., Awaitable[None]]
