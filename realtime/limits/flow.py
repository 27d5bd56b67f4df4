"""
Send-side flow control, as the application sees it (PROTOCOL.md, "Slow and hostile clients").

The server (realtime/server/backpressure.py, under daphne) measures the bytes
waiting to be written to each connection, closes one past `SEND_BUFFER_LIMIT`
with 4410, and hands the application a `FlowControl` in
`scope["extensions"]["realtime.flow"]`, so that a consumer can send a replay as
fast as the client reads it, never faster. Under uvicorn, whose `send` itself
waits for the client, there is none, and none is needed.
"""

from __future__ import annotations

from typing import Any, Protocol

from realtime.types import Scope

EXTENSION = "realtime.flow"


class FlowControl(Protocol):
    def writable(self) -> bool:
        """False while the client is behind: more is waiting to be written than the transport's high-water mark."""
        ...

    async def drained(self) -> None:
        """Return once the client has read what was waiting."""
        ...

    def buffered(self) -> int:
        """Bytes waiting to be written to the client."""
        ...


def flow_of(scope: Scope) -> FlowControl | None:
    extensions: dict[str, Any] = scope.get("extensions") or {}
    flow: FlowControl | None = extensions.get(EXTENSION)
    return flow
