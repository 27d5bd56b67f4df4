"""
`python manage.py serve [--host H] [--port P] [-- daphne options]`: daphne with
the limits of settings and the server integration (docs/reference/commands.md).

daphne's limits are command-line options; this command takes them from the
`REALTIME` settings, so that the limits a deployment runs with are the ones it
configured (and the ones the tests run with): the largest WebSocket message
and frame (`WEBSOCKET_MAX_MESSAGE_SIZE`) and the listen backlog
(`SERVER_BACKLOG`). It applies `realtime.server.install()` before daphne starts.
Anything after `--` goes to daphne as it is.
"""

from __future__ import annotations

from typing import Any

from daphne.cli import CommandLineInterface
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from realtime import server
from realtime.conf import realtime_settings


class Command(BaseCommand):
    help = "Serve the project with daphne, with the limits set in settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--application",
            default=getattr(settings, "ASGI_APPLICATION", None),
            help="dotted path of the ASGI application (default: ASGI_APPLICATION)",
        )
        parser.add_argument("daphne_options", nargs="*", help="after --: options passed to daphne as they are")

    def handle(
        self, *args: Any, host: str, port: int, application: str | None, daphne_options: list[str], **_: Any
    ) -> None:
        if not application:
            raise CommandError('Set ASGI_APPLICATION (e.g. "mysite.asgi.application"), or pass --application.')
        server.install()
        CommandLineInterface().run(daphne_arguments(host, port, application, daphne_options))


def daphne_arguments(host: str, port: int, application: str, extra: list[str]) -> list[str]:
    """daphne's command line for these settings."""
    interface = host.strip("[]").replace(":", r"\:")  # endpoint strings escape an IPv6 address's colons
    module, _, attribute = application.rpartition(".")
    size = str(realtime_settings.WEBSOCKET_MAX_MESSAGE_SIZE)
    return [
        "-e",
        f"tcp:port={port}:interface={interface}:backlog={realtime_settings.SERVER_BACKLOG}",
        "--websocket-max-message-size",
        size,
        "--websocket-max-frame-size",
        size,
        *extra,
        f"{module}:{attribute}",
    ]
