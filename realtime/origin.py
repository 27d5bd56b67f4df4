"""
The origin check in front of every WebSocket endpoint.

Browsers always send `Origin`; one whose host is not in `ALLOWED_HOSTS` is
refused before accept (a page on another site must not open a socket in the
user's name). Clients that send no `Origin` are not browsers and pass: tokens
cover them. Channels' `AllowedHostsOriginValidator` refuses those, so this keeps
its host matching and changes that one rule.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

from realtime.close_codes import CLOSE_POLICY_VIOLATION
from realtime.handshake import refuse
from realtime.websocket import Message, Receive, Send


class OriginCheckMiddleware(OriginValidator):
    def __init__(self, application: object) -> None:
        self.application = application

    @property
    def allowed_origins(self) -> list[str]:  # type: ignore[override]
        return list(settings.ALLOWED_HOSTS)

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        origin = _origin_header(scope)
        if origin is None or self._is_allowed(origin):
            await self.application(scope, receive, send)
        else:
            await refuse(receive, send, CLOSE_POLICY_VIOLATION)

    def _is_allowed(self, origin: str) -> bool:
        try:
            return bool(self.validate_origin(urlparse(origin)))
        except ValueError:  # an unparsable host or port
            return False


def _origin_header(scope: Message) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return str(value.decode("latin1"))
    return None
