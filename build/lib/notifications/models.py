from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class NotificationSequence(models.Model):
    """
    The last `seq` given to a user's notifications. A counter, not max(seq):
    a number is never given twice, even after notifications are deleted.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Notification sequence of {self.user_id}: {self.last_seq}"


class Notification(models.Model):
    """
    A notification, stored before it is pushed (PROTOCOL.md, "Nothing lost").

    `seq` numbers a recipient's notifications 1, 2, 3... in commit order; a
    connection uses it to tell a duplicate from a gap (realtime/feeds/sequenced.py).
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    seq = models.PositiveBigIntegerField(editable=False)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "seq"], name="notification_recipient_seq_unique"),
        ]
        indexes = [models.Index(fields=["recipient", "id"], name="notification_recipient_id")]

    def __str__(self) -> str:
        return f"Notification {self.pk} to {self.recipient_id}"
