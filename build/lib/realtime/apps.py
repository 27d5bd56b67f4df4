from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """
    The library. Installing it patches nothing (realtime/server/ does that, on
    request); it only connects the user signals that revoke connections at once
    and registers its system checks.
    """

    name = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from realtime import checks  # noqa: F401  (registers the system checks)
        from realtime.auth import revocation

        revocation.connect_signals()
