from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """
    The library. Installing it patches nothing (realtime/server/ does that, on
    request); it only connects the user signals that revoke connections at once,
    the signal that tells its database pools the database answers again
    (realtime/pools.py), and registers its system checks.
    """

    name = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from realtime import checks, pools, serverlogs  # noqa: F401  (checks registers the system checks)
        from realtime.auth import revocation

        serverlogs.keep_client_errors_to_one_line()

        revocation.connect_signals()
        connection_created.connect(pools.database_back, dispatch_uid="realtime.pools.database_back")
