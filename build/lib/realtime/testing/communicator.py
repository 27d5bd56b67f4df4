"""A `WebsocketCommunicator` connected as a given user."""

from __future__ import annotations

from datetime import timedelta
from types import TracebackType
from typing import Any

from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator
from django.contrib.auth.base_user import AbstractBaseUser

from realtime import codec
from realtime.auth.tokens import issue_token

# Seconds a test waits for an answer before it fails (a guard, not a measurement).
RECEIVE_TIMEOUT = 3.0


class NotAccepted(AssertionError):
    """The server refused the connection before accept; `code` is its ASGI close code."""

    def __init__(self, path: str, code: int | None) -> None:
        super().__init__(f"{path} was refused before accept with code {code}")
        self.code = code


class RealtimeCommunicator(WebsocketCommunicator):
    """
    Connects to `path` of `application` (default: the site's `ASGI_APPLICATION`)
    as `user`, with a token minted for it (`ttl`) in the `Authorization` header,
    or as nobody with `user=None`. `async with` connects (raising `NotAccepted`
    on a refusal) and disconnects.
    """

    def __init__(
        self,
        path: str,
        *,
        user: AbstractBaseUser | None,
        application: Any = None,
        ttl: timedelta = timedelta(hours=1),
        headers: list[tuple[bytes, bytes]] | None = None,
        subprotocols: list[str] | None = None,
    ) -> None:
        headers = list(headers or [])
        if user is not None:
            headers.append((b"authorization", f"Bearer {issue_token(user, ttl=ttl)}".encode()))
        super().__init__(application or get_default_application(), path, headers=headers, subprotocols=subprotocols)
        self.path_requested = path

    async def __aenter__(self) -> RealtimeCommunicator:
        connected, code = await self.connect()
        if not connected:
            raise NotAccepted(self.path_requested, code)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.disconnect()

    async def send_frame(self, frame: Any) -> None:
        """Send `frame` as one JSON text frame."""
        await self.send_to(text_data=codec.encode(frame))

    async def receive_frame(self, timeout: float = RECEIVE_TIMEOUT) -> Any:
        """The next frame the server sent, decoded from JSON (an `AssertionError` if it closed instead)."""
        output = await self.receive_output(timeout)
        if output["type"] == "websocket.close":
            raise AssertionError(f"the server closed the connection with {output.get('code')}")
        return codec.decode_text(output["text"])

    async def receive_close(self, timeout: float = RECEIVE_TIMEOUT) -> int:
        """The code of the server's close, which must be the next thing it sends."""
        output = await self.receive_output(timeout)
        if output["type"] != "websocket.close":
            raise AssertionError(f"expected a close, got {output}")
        code: int = output.get("code", 1000)
        return code
