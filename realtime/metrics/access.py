"""
Who may read `/metrics` (PROTOCOL.md, "Observing it"; docs/how-to/observe.md).

A client on this host (loopback), or anyone presenting `Authorization: Bearer
<METRICS_TOKEN>` when that key is set, the token compared in constant time.

Behind a proxy on the same host, every request comes from loopback: the proxy's
address. So "loopback" means the client's address, as the per-address cap reads
it (realtime/limits/addresses.py): when the peer is one of `TRUSTED_PROXIES`,
the address that proxy forwarded in `X-Forwarded-For`. A request from a loopback
peer that is not a trusted proxy but carries a forwarding header
(`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) came through a proxy nobody named:
it is not taken for a local one (a proxy left out of TRUSTED_PROXIES does not
open the metrics to the world). A client can only make itself less trusted by
adding such a header, never more.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.http import HttpRequest

from realtime.conf import realtime_settings
from realtime.limits.addresses import client_address

FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
BEARER = "bearer "


def presents_the_token(request: HttpRequest) -> bool:
    """True when METRICS_TOKEN is set and the request's bearer token is it."""
    token: str | None = realtime_settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not token or header[: len(BEARER)].lower() != BEARER:
        return False
    return hmac.compare_digest(header[len(BEARER) :].strip().encode(), token.encode())


def from_loopback(request: HttpRequest) -> bool:
    """True when the client, seen through the trusted proxies, is on this host."""
    peer = str(request.META.get("REMOTE_ADDR") or "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    headers = [(b"x-forwarded-for", forwarded.encode("latin1"))] if forwarded else []
    client = client_address({"client": (peer, 0), "headers": headers}) if peer else None
    if client is None:
        return False
    if client != peer:  # a trusted proxy named the client
        return _is_loopback(client)
    return _is_loopback(peer) and not any(header in request.META for header in FORWARDING_HEADERS)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
