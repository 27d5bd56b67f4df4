"""
The origin check in front of every WebSocket endpoint, as Django's CSRF check
judges an `Origin` (django.middleware.csrf.CsrfViewMiddleware._origin_verified).

A browser always sends `Origin`; it is accepted when it is the same origin as
the request (scheme, host and port: the `Host` the browser connected to, if
Django would serve that host under `ALLOWED_HOSTS`, with its DEBUG rule for an
empty list), or when `CSRF_TRUSTED_ORIGINS` lists it (`https://*.example.com`
for any subdomain). Anything else is refused before accept, and logged with the
reason. Clients that send no `Origin` are not browsers and pass: tokens cover
them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from urllib.parse import urlsplit

from asgiref.sync import markcoroutinefunction
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from realtime.close_codes import CLOSE_POLICY_VIOLATION
from realtime.handshake import refuse
from realtime.metrics.catalog import REFUSED_ORIGIN
from realtime.metrics.connections import handshake_refused
from realtime.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)

# Django's hosts for an empty ALLOWED_HOSTS under DEBUG (django.http.request.HttpRequest.get_host).
DEBUG_ALLOWED_HOSTS = [".localhost", "127.0.0.1", "[::1]"]
# Header values quoted in a log line are cut to this length.
LOGGED_LIMIT = 100


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        return list(DEBUG_ALLOWED_HOSTS)
    return hosts


def refusal(scope: Scope, origin: str) -> str | None:
    """Why a browser from `origin` may not open this connection; None when it may."""
    host = request_host(scope)
    if host is not None:
        domain, _ = split_domain_port(host)
        if domain and validate_host(domain, allowed_hosts()) and origin == f"{request_scheme(scope)}://{host}":
            return None
    if trusted(origin):
        return None
    own = f"{request_scheme(scope)}://{host}" if host is not None else "unknown: no Host"
    return (
        f"origin {_quoted(origin)} is neither this site's ({_quoted(own)}, if ALLOWED_HOSTS has it) "
        "nor in CSRF_TRUSTED_ORIGINS"
    )


def trusted(origin: str) -> bool:
    """True when `CSRF_TRUSTED_ORIGINS` lists `origin`, exactly or as a subdomain of a `*.` entry."""
    entries = list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))
    if origin in entries:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    for entry in entries:
        if "*" not in entry:
            continue
        allowed = urlsplit(entry)
        if allowed.scheme == parts.scheme and is_same_domain(parts.netloc, allowed.netloc[1:]):
            return True
    return False


def request_host(scope: Scope) -> str | None:
    """The `Host` the client connected to (or the server's address, as Django falls back to)."""
    header = _header(scope, b"host")
    if header is not None:
        return header
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else None


def request_scheme(scope: Scope) -> str:
    """`https` for a secure connection (wss, or SECURE_PROXY_SSL_HEADER from a proxy), else `http`."""
    if scope.get("scheme") == "wss":
        return "https"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header_name = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin1")
        value = _header(scope, header_name)
        if value is not None and value.split(",", 1)[0].strip() == secure_value:
            return "https"
    return "http"


class OriginCheckMiddleware:
    def __init__(self, application: ASGIApp) -> None:
        self.application = application

    @markcoroutinefunction  # an ASGI 3 application to servers and routers that ask
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """
        The application's own coroutine when the origin passes (this check keeps no frame of its own
        for the connection's life: it has nothing to do after), else the refusal.
        """
        origin = _header(scope, b"origin")
        reason = None if origin is None else refusal(scope, origin)
        if reason is None:
            return self.application(scope, receive, send)
        logger.info("Refused %s: %s", scope.get("path", "?"), reason)
        handshake_refused(scope, REFUSED_ORIGIN)
        return refuse(receive, send, CLOSE_POLICY_VIOLATION)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin1"))
    return None


def _quoted(text: str) -> str:
    """`text` for a log line: cut, and with anything unprintable escaped."""
    return ascii(text[:LOGGED_LIMIT])
