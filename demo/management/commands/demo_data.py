"""`python manage.py demo_data`: the demo user and post that `make run` serves."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from comments.models import Post

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_POST_TITLE = "Welcome to live comments"


class Command(BaseCommand):
    help = "Create the demo user (a superuser, for the admin) and a demo post, if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        post, _ = Post.objects.get_or_create(title=DEMO_POST_TITLE)
        self.stdout.write(
            f"Demo user: {DEMO_USERNAME} / {DEMO_PASSWORD} (superuser)\nDemo post: id {post.pk}, {post.title!r}"
        )
