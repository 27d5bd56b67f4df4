"""
The token endpoint for the site's own pages (docs/how-to/javascript-client.md).

A user signed in to the Django site (session auth) POSTs to it and gets a
short-lived connection token (`REALTIME["TOKEN_HTTP_TTL"]`, 5 minutes by default) to open
WebSockets with, so that pages never embed a long-lived secret; the JavaScript
client (static/realtime/client.js) asks again before the token expires and
sends `refresh`. Anonymous requests get 401 (a JSON answer a script can act on,
not a redirect to the login page). POST, under Django's CSRF protection
(whether or not the site runs `CsrfViewMiddleware`), and never cached.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from realtime.auth.tokens import issue_token_expiring
from realtime.conf import realtime_settings

NO_STORE = "no-store"


@require_POST
@csrf_protect
def token(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        response = JsonResponse({"error": "login_required", "message": "Sign in to get a token."}, status=401)
    else:
        issued, expires_at = issue_token_expiring(request.user, ttl=timedelta(seconds=realtime_settings.TOKEN_HTTP_TTL))
        response = JsonResponse(
            {
                "token": issued,
                "expires_in": round((expires_at - timezone.now()).total_seconds()),
                "expires_at": expires_at.isoformat(),
            }
        )
    response["Cache-Control"] = NO_STORE
    response["Vary"] = "Cookie"
    return response
