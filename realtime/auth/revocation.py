"""
Users revoked while connected (docs/explanation/security.md).

A connection's user can lose access while the connection is open: deactivated
(`is_active = False`), deleted, or with a new password (which ends the tokens
issued before it, as it ends Django's sessions: the library's tokens carry a
fingerprint of the password, realtime/auth/tokens.py; a token minted elsewhere
is ended by the revocation a password change records, models.py). Each
connection remembers the password its user had when it opened (its token's
fingerprint, or for a token minted elsewhere the user's password then), and is
closed with 4401, as for an expired token, once that is no longer the user's:

- at once, on every server process, when that happens through the ORM
  (`save()`, `set_password()` then `save()`, `delete()`: Django's signals
  publish `user.revoked` to the group `realtime.user.<pk>`, which every token
  connection joins; after a password change it names the new fingerprint, and
  connections opened with a token of the new password stay);
- otherwise (a bulk `update()`, another application, a change in the
  database) within `REVOCATION_CHECK_INTERVAL` seconds: each server process
  checks the users of its open connections (the hub's index by user), one
  query per thousand users, and records the revocation it finds, so that
  tokens minted elsewhere before it are refused at the handshake from then on.
  A site that changes passwords outside the ORM calls `revoke_tokens(user_id)`
  to have them refused at once, connected or not ("sign out everywhere").
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from datetime import datetime
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from realtime.auth.tokens import password_fingerprint
from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.feeds.publish import publish_on_commit
from realtime.hub import USERS, Hub, Members, PeriodicCheck, every, in_chunks

REVOKED = "user.revoked"


class Revocable(Protocol):
    """An open token connection (realtime/consumers/token.py)."""

    def revoked_by(self, fingerprint: str | None) -> bool:
        """True when a user whose password now has `fingerprint` (None: no access at all) must lose it."""
        ...

    def handle_local_event(self, event: dict[str, Any]) -> None: ...


def revoked(fingerprint: str | None = None) -> dict[str, Any]:
    """The event that closes a user's connections: all of them, or (`fingerprint`) those of an older password."""
    return {"type": REVOKED, "password": fingerprint}


def user_group(user_id: Any) -> str:
    return f"realtime.user.{user_id}"


def publish_revocation(user_id: Any, fingerprint: str | None = None) -> None:
    publish_on_commit([(user_group(user_id), revoked(fingerprint))])


def last_revocation(user_id: Any) -> float | None:
    """When the user's tokens minted elsewhere were last revoked (seconds since the epoch), or None. One query."""
    from realtime.auth.models import TokenRevocation

    revoked_at = TokenRevocation.objects.filter(user_id=user_id).values_list("revoked_at", flat=True).first()
    return None if revoked_at is None else revoked_at.timestamp()


def record_revocation(user_id: Any, at: datetime | None = None) -> None:
    """From `at` (default now) on, the user's tokens without `pwh` issued earlier are refused."""
    from realtime.auth.models import TokenRevocation

    TokenRevocation.objects.update_or_create(user_id=user_id, defaults={"revoked_at": at or timezone.now()})


def revoke_tokens(user_id: Any) -> None:
    """
    Sign a user out everywhere: every token issued until now is refused, and the
    user's open connections close with 4401 (at once here, on every process
    after the commit). For a site that changes passwords outside the ORM, or
    ends access without changing one. The library's own tokens issued from now
    on work as before.
    """
    record_revocation(user_id)
    publish_revocation(user_id)


def _on_save(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not getattr(instance, "is_active", True):
        publish_revocation(instance.pk)
    elif getattr(instance, "_password", None) is not None and not created:  # set_password() then save()
        record_revocation(instance.pk)
        publish_revocation(instance.pk, password_fingerprint(instance))


def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    publish_revocation(instance.pk)


def connect_signals() -> None:
    """From AppConfig.ready: revoke at once what the ORM deactivates, deletes or gives a new password."""
    user_model = get_user_model()
    post_save.connect(_on_save, sender=user_model, dispatch_uid="realtime.revocation.save")
    post_delete.connect(_on_delete, sender=user_model, dispatch_uid="realtime.revocation.delete")


def current_fingerprints(user_ids: Collection[Hashable]) -> dict[Any, str]:
    """The password fingerprint of each of `user_ids` that still exists and is active. One query."""
    user_model = get_user_model()
    users = user_model._default_manager.filter(pk__in=user_ids)
    if any(field.name == "is_active" for field in user_model._meta.get_fields()):
        users = users.filter(is_active=True)
    return {user.pk: password_fingerprint(user) for user in users.only("pk", "password")}


async def _check(hub: Hub, connections_by_user: Members) -> None:
    for chunk in in_chunks(list(connections_by_user)):
        fingerprints = await database_sync_to_async(current_fingerprints)(chunk)
        revoking: list[tuple[Any, str | None, list[Revocable]]] = []
        for user_id in chunk:
            fingerprint = fingerprints.get(user_id)
            found = [c for c in connections_by_user.get(user_id, ()) if c.revoked_by(fingerprint)]
            if found:
                revoking.append((user_id, fingerprint, found))
        for user_id, fingerprint, found in revoking:
            if fingerprint is not None:  # a password changed that no signal announced: recorded before anyone is told
                await database_sync_to_async(record_revocation)(user_id)
            for connection in found:
                connection.handle_local_event(revoked(fingerprint))


REVOCATION_CHECK = every(
    PeriodicCheck("revocation check", USERS, lambda: realtime_settings.REVOCATION_CHECK_INTERVAL, _check)
)
