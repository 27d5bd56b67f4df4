"""
The one table of the library: when each user's tokens stopped being valid.

A token this library issues carries `pwh`, a fingerprint of the password it
was issued for (tokens.py), so a password change ends it without looking
anything up. A token minted elsewhere with the same secret has no `pwh`: what
ends it is its `iat` against the moment of the user's last revocation, kept
here. A password change through the ORM records it (revocation.py), and so
does `revoke_tokens()`, which a site calls to sign a user out everywhere
(or after changing passwords outside the ORM).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TokenRevocation(models.Model):
    """Tokens of `user` without `pwh` and issued before `revoked_at` (or with no `iat`) are refused."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    revoked_at = models.DateTimeField()

    class Meta:
        app_label = "realtime"
        verbose_name = "token revocation"

    def __str__(self) -> str:
        return f"tokens of user {self.user_id} issued before {self.revoked_at.isoformat()}"
