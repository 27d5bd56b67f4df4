"""Reads of the notifications app: a user's notifications, for replay and gap filling (realtime/feeds/sequenced.py)."""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Any

from django.db import connection

from notifications.frames import notification_frame
from notifications.models import Notification, NotificationSequence
from realtime.feeds.marks import marks
from realtime.feeds.sequenced import Entry


def notification_high_water(*, user_id: Any) -> int:
    # Raw SQL on purpose: read at every handshake, and the ORM spends three times
    # the round trip itself compiling this one-row lookup (bench/RESULTS.md).
    table = connection.ops.quote_name(NotificationSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_seq FROM {table} WHERE user_id = %s", [user_id])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def notifications_after_id(*, user_id: Any, since_id: int, upto_seq: int, limit: int) -> list[Entry]:
    notifications = Notification.objects.filter(recipient_id=user_id, id__gt=since_id, seq__lte=upto_seq)
    return _entries(notifications.order_by("id")[:limit])


def notifications_newest_ids(*, user_id: Any, since_id: int, upto_seq: int, limit: int) -> list[int]:
    return list(
        Notification.objects.filter(recipient_id=user_id, id__gt=since_id, seq__lte=upto_seq)
        .order_by("-id")
        .values_list("id", flat=True)[:limit]
    )


def notifications_in_seq_range(*, user_id: Any, after_seq: int, upto_seq: int, limit: int) -> list[Entry]:
    notifications = Notification.objects.filter(recipient_id=user_id, seq__gt=after_seq, seq__lte=upto_seq)
    return _entries(notifications.order_by("seq")[:limit])


def _entries(notifications: Any) -> list[Entry]:
    return [Entry(id=n.pk, seq=n.seq, frame=dict(notification_frame(n))) for n in notifications]


class NotificationFeeds:
    """Users' notification feeds, for the feed checks (realtime/feeds/checks.py)."""

    def high_waters(self, keys: Collection[Hashable]) -> dict[Any, int]:
        return marks(NotificationSequence, "user_id", "last_seq", keys)


NOTIFICATION_FEEDS = NotificationFeeds()
