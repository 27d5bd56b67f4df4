"""
Connections per client address (PROTOCOL.md, "Slow and hostile clients").

At most `MAX_CONNECTIONS_PER_IP` WebSocket connections of one client address
are open at once in a process (the hub counts them, from the handshake until
the connection ends); the next is refused before accept with 4429 (HTTP 403
over daphne). The address is the peer's, `scope["client"]`, unless the peer is
one of `TRUSTED_PROXIES` (addresses or networks, e.g. `["127.0.0.1",
"10.0.0.0/8"]`): then it is the last address in `X-Forwarded-For` that is not
itself a trusted proxy, the one the nearest untrusted hop gave. A header from
anyone else is ignored, so that no client chooses its own address.
"""

from __future__ import annotations

import functools
import ipaddress
import logging

from realtime.close_codes import CLOSE_RATE_LIMITED
from realtime.conf import realtime_settings
from realtime.handshake import refuse
from realtime.hub import hub
from realtime.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(scope: Scope) -> str | None:
    """The client's address: the peer's, or what the trusted proxies in front of it say."""
    client = scope.get("client")
    if not client:
        return None
    peer = str(client[0])
    proxies = _networks(tuple(realtime_settings.TRUSTED_PROXIES))
    if not proxies or not _trusted(peer, proxies):
        return peer
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    forwarded = [value.decode("latin1") for name, value in headers if name == b"x-forwarded-for"]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return peer


class ConnectionsPerAddress:
    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap: int = realtime_settings.MAX_CONNECTIONS_PER_IP
        address = client_address(scope) if cap else None
        if address is None:
            await self.application(scope, receive, send)
            return
        here = hub()
        if not here.take_address(address, cap):
            logger.info("Refused %s: %s already has %s connections open", scope.get("path", "?"), address, cap)
            await refuse(receive, send, CLOSE_RATE_LIMITED)
            return
        try:
            await self.application(scope, receive, send)
        finally:
            here.give_back_address(address)
