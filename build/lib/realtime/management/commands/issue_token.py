"""`python manage.py issue_token <username> [--ttl SECONDS]`: print a connection token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime.auth.tokens import DEFAULT_TTL, issue_token


class Command(BaseCommand):
    help = "Print a token (JWT, HS256) that authenticates the user on the WebSocket endpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--ttl",
            type=int,
            default=int(DEFAULT_TTL.total_seconds()),
            help=f"seconds the token is valid (default {int(DEFAULT_TTL.total_seconds())})",
        )

    def handle(self, *args: Any, username: str, ttl: int, **options: Any) -> None:
        if ttl <= 0:
            raise CommandError("--ttl must be a positive number of seconds.")
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: the endpoints refuse its tokens.")
        self.stdout.write(issue_token(user, ttl=timedelta(seconds=ttl)))
