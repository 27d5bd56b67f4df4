"""`python manage.py notify <username> <text>`: store and push a notification."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.services import notify_user


class Command(BaseCommand):
    help = 'Store the notification {"text": <text>} for a user and push it to their open connections.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("text")

    def handle(self, *args: Any, username: str, text: str, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        notification = notify_user(user, {"text": text})
        self.stdout.write(f"Notification {notification.pk} sent to {username}.")
