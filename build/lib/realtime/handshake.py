"""Refusing a connection before it is accepted."""

from __future__ import annotations

from realtime.types import Receive, Send


async def refuse(receive: Receive, send: Send, code: int) -> None:
    """
    Refuse the connection before accept: the ASGI close carries `code` (what
    `WebsocketCommunicator.connect()` reports) and daphne answers the
    handshake with HTTP 403. No consumer is created.
    """
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": code})
