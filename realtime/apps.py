from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from realtime import poller, redaction
        from realtime.services import NotificationPollSource

        redaction.install()
        poller.register_poll_source(NotificationPollSource())
