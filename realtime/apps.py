from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        from realtime import autobahn_tuning, redaction, revocation, shutdown

        redaction.install()
        autobahn_tuning.skip_eager_debug_formatting()
        autobahn_tuning.close_failed_connections_with_a_code()
        revocation.connect_signals()
        shutdown.install()
