"""
Keeping a connection's token valid (PROTOCOL.md, "Authentication"): a token
that expires while its connection is open ends it with 4401, unless the client
first sent `{"type": "refresh", "token": ...}` with a new one. With a token
callable, the client does that when `ahead` of the current token's lifetime
is left, for as long as the connection is open.
"""

from __future__ import annotations

import asyncio
import logging
import time

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from realtime.client.credentials import Credentials, refresh_delay
from realtime.client.protocol import encode

logger = logging.getLogger(__name__)

# After a fresh token could not be had, ask again this much later (seconds).
RETRY_AFTER = 2.0
# The shortest wait between two refreshes, whatever a token's lifetime.
MIN_INTERVAL = 1.0


async def keep_token_fresh(socket: ClientConnection, credentials: Credentials, *, ahead: float) -> None:
    """Send `refresh` on `socket` before each token expires; returns when the socket closes or a token has no `exp`."""
    received_at, floor = time.time(), 0.0
    while (token := credentials.current) is not None:
        delay = refresh_delay(token, now=time.time(), received_at=received_at, ahead=ahead)
        if delay is None:
            return
        await asyncio.sleep(max(delay, floor))
        try:
            token = await credentials.fresh()
        except Exception as error:  # the site may be away: the server's deadline is still ahead
            logger.warning("The token callable raised %s; asking again in %s s", type(error).__name__, RETRY_AFTER)
            floor = RETRY_AFTER
            continue
        received_at, floor = time.time(), MIN_INTERVAL
        try:
            await socket.send(encode({"type": "refresh", "token": token}))
        except ConnectionClosed:
            return
