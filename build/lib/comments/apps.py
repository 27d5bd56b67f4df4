from __future__ import annotations

from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comments.feature import COMMENTS
        from realtime.registry import register

        register(COMMENTS)
