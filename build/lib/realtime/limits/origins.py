"""
The origin check in front of every WebSocket endpoint.

Browsers always send `Origin`; one whose host Django would not serve is
refused before accept (a page on another site must not open a socket in the
user's name). Hosts are `ALLOWED_HOSTS`, with Django's own rule for an empty
list under `DEBUG` (`.localhost`, `127.0.0.1`, `[::1]`, as `HttpRequest.get_host`
has it). Clients that send no `Origin` are not browsers and pass: tokens cover
them. Channels' `AllowedHostsOriginValidator` refuses those, so this keeps its
host matching and changes that one rule.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from realtime.close_codes import CLOSE_POLICY_VIOLATION
from realtime.handshake import refuse
from realtime.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Django's hosts for an empty ALLOWED_HOSTS under DEBUG (django.http.request.HttpRequest.get_host).
DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]
# An origin quoted in a log line is cut to this length.
LOGGED_ORIGIN_LIMIT = 100


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        return list(DEBUG_ALLOWED_HOSTS)
    return hosts


class OriginCheckMiddleware(OriginValidator):
    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    @property
    def allowed_origins(self) -> list[str]:
        return allowed_hosts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _origin_header(scope)
        if origin is None or self._is_allowed(origin):
            await self.application(scope, receive, send)
            return
        logger.info(
            "Refused %s: origin %s is not an allowed host (ALLOWED_HOSTS)",
            scope.get("path", "?"),
            ascii(origin[:LOGGED_ORIGIN_LIMIT]),
        )
        await refuse(receive, send, CLOSE_POLICY_VIOLATION)

    def _is_allowed(self, origin: str) -> bool:
        try:
            return bool(self.validate_origin(urlparse(origin)))
        except ValueError:  # an unparsable host or port
            return False


def _origin_header(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return str(value.decode("latin1"))
    return None
