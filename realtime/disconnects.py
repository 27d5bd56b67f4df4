"""
An HTTP response whose client has left ends quietly, on every server.

When a client goes away in the middle of a response (a page left during a
download, or pipelined requests whose answers nobody reads), the server's
`send` for the rest of it should do nothing or raise an `OSError` that the
application may ignore. Under uvicorn with uvloop, the answers to requests a
client pipelined before leaving are written to the closed transport, and
uvloop raises `RuntimeError("... the handler is closed")` (MagicStack/uvloop#506,
open): Django's handler re-raises it and uvicorn logs "Exception in ASGI
application" with a traceback for each of them, an alert for nothing.

`quiet_when_gone` wraps the HTTP application's `send`: once a send failed
because the client is gone, that one and every later one of the response are
dropped (there is nobody to read them) and logged at debug level. Any other
error of `send` is raised as it was.
"""

from __future__ import annotations

import logging

from realtime.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# What uvloop says when asked to write to a transport that is closed.
UVLOOP_CLOSED_TRANSPORT = "the handler is closed"


def client_gone(error: BaseException) -> bool:
    """Whether `send` raised `error` because the client is no longer there."""
    if isinstance(error, ConnectionError):
        return True
    return isinstance(error, RuntimeError) and UVLOOP_CLOSED_TRANSPORT in str(error)


def quiet_when_gone(application: ASGIApp) -> ASGIApp:
    async def quiet(scope: Scope, receive: Receive, send: Send) -> None:
        gone = False

        async def send_unless_gone(message: Message) -> None:
            nonlocal gone
            if gone:
                return
            try:
                await send(message)
            except (RuntimeError, OSError) as error:
                if not client_gone(error):
                    raise
                gone = True
                logger.debug("%s %s: the client left before its response", scope.get("method"), scope.get("path"))

        await application(scope, receive, send_unless_gone)

    return quiet
