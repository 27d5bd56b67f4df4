"""realtime.server.install(): applied on request (asgi.py, manage.py serve), once however often it is called."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from daphne.access import AccessLogGenerator
from daphne.ws_protocol import WebSocketFactory
from django.core.management import CommandError, call_command

from realtime import server


def test_installing_twice_wraps_nothing_twice() -> None:
    server.install()
    factory, write_entry, init = (
        logging.getLogRecordFactory(),
        AccessLogGenerator.write_entry,
        WebSocketFactory.__init__,
    )
    server.install()
    assert (logging.getLogRecordFactory(), AccessLogGenerator.write_entry, WebSocketFactory.__init__) == (
        factory,
        write_entry,
        init,
    )


def test_serve_without_an_asgi_application_says_what_to_set(settings: Any) -> None:
    del settings.ASGI_APPLICATION
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--application", "", skip_checks=True)
    assert str(refused.value) == 'Set ASGI_APPLICATION (e.g. "mysite.asgi.application"), or pass --application.'
