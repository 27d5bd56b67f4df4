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


def test_installing_twice_replaces_no_per_frame_method_twice() -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import tcp

    server.install()
    methods = (tcp.Server.write, WebSocketProtocol.handle_reply, WebSocketProtocol.onFrameBegin)
    server.install()
    assert (tcp.Server.write, WebSocketProtocol.handle_reply, WebSocketProtocol.onFrameBegin) == methods
    assert [method.__name__ for method in methods] == ["write", "handle_reply", "onFrameBegin"]


def test_serve_without_an_asgi_application_says_what_to_set(settings: Any) -> None:
    del settings.ASGI_APPLICATION
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--application", "", skip_checks=True)
    assert str(refused.value) == 'Set ASGI_APPLICATION (e.g. "mysite.asgi.application"), or pass --application.'


def test_the_soft_limit_of_open_files_is_raised_to_the_hard_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    from realtime.server import descriptors

    limits = {"now": (1024, 65536)}
    monkeypatch.setattr(resource, "getrlimit", lambda which: limits["now"])
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: limits.update(now=value))
    assert descriptors.install() == 65536
    assert limits["now"] == (65536, 65536)
    assert descriptors.install() == 65536  # already there: nothing to raise
