"""
Users revoked while connected (README, "Security").

A connection's user can lose access while the connection is open: deactivated
(`is_active = False`) or deleted. Its connections are closed with 4401, as for
an expired token:

- at once, on every server process, when that happens through the ORM
  (`save()`, `delete()`: Django's signals publish `user.revoked` to the group
  `realtime.user.<pk>`, which every token connection joins);
- otherwise (a bulk `update()`, another application, a change in the
  database) within `REVOCATION_CHECK_INTERVAL` seconds: each server process
  checks the users of its open connections (the hub's index by user), one
  query per thousand users.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from realtime.conf import realtime_settings
from realtime.db import database_sync_to_async
from realtime.feeds.publish import publish_on_commit
from realtime.hub import USERS, Hub, Members, PeriodicCheck, every, in_chunks

REVOKED = {"type": "user.revoked"}


def user_group(user_id: Any) -> str:
    return f"realtime.user.{user_id}"


def publish_revocation(user_id: Any) -> None:
    publish_on_commit([(user_group(user_id), dict(REVOKED))])


def _on_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not getattr(instance, "is_active", True):
        publish_revocation(instance.pk)


def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    publish_revocation(instance.pk)


def connect_signals() -> None:
    """From AppConfig.ready: revoke at once what the ORM deactivates or deletes."""
    user_model = get_user_model()
    post_save.connect(_on_save, sender=user_model, dispatch_uid="realtime.revocation.save")
    post_delete.connect(_on_delete, sender=user_model, dispatch_uid="realtime.revocation.delete")


def active_user_ids(user_ids: Collection[Hashable]) -> set[Any]:
    """Those of `user_ids` that still exist and are active. One query."""
    user_model = get_user_model()
    users = user_model._default_manager.filter(pk__in=user_ids)
    if any(field.name == "is_active" for field in user_model._meta.get_fields()):
        users = users.filter(is_active=True)
    return set(users.values_list("pk", flat=True))


async def _check(hub: Hub, connections_by_user: Members) -> None:
    for chunk in in_chunks(list(connections_by_user)):
        active = await database_sync_to_async(active_user_ids)(chunk)
        for user_id in set(chunk) - active:
            for connection in list(connections_by_user.get(user_id, ())):
                connection.handle_local_event(dict(REVOKED))


REVOCATION_CHECK = every(
    PeriodicCheck("revocation check", USERS, lambda: realtime_settings.REVOCATION_CHECK_INTERVAL, _check)
)
