"""realtime.server.install(): applied on request (asgi.py, manage.py serve), once however often it is called."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import daphne.cli  # noqa: F401  (serving with daphne: the integration patches it)
import pytest
from daphne.access import AccessLogGenerator
from daphne.ws_protocol import WebSocketFactory
from django.core.management import CommandError, call_command

from realtime import server
from realtime.server import versions


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


# --- Tested versions, bounds and tuning (realtime/server/versions.py) ------------------------------------


def test_the_pinned_versions_are_the_tested_ones() -> None:
    assert versions.untested() == {}
    for distribution, tested in versions.TESTED.items():
        installed = versions.installed(distribution)
        assert installed is not None
        assert tested[versions.series(installed)] == installed  # CI runs the suite at the very version tested


def test_an_untested_version_refuses_to_start_naming_what_it_found_and_what_is_tested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = {"daphne": "4.2.3", "Twisted": "27.1.0", "autobahn": "26.11.1"}
    monkeypatch.setattr(versions, "installed", found.get)
    with pytest.raises(server.UntestedVersions) as refused:
        server.install()
    assert str(refused.value) == (
        "The server integration (realtime.server.install) is tested with daphne 4.2.x (tested at 4.2.3), "
        "Twisted 26.10.x (tested at 26.10.0), autobahn 26.11.x (tested at 26.11.1); this environment has "
        "Twisted 27.1.0. Install a tested version (pip install -r requirements.txt, or the ranges of the "
        'package), or set REALTIME["SERVER_UNTESTED_VERSIONS"] = True to start without the patches that '
        "touch those packages (docs/how-to/choose-a-server.md)."
    )


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The patches install() applies, recorded instead of applied; each installs nothing."""
    applied: list[str] = []

    def recording(name: str) -> Callable[[], None]:
        return lambda: applied.append(name)

    fakes = tuple(dataclasses.replace(patch, apply=recording(patch.name)) for patch in server.PATCHES)
    monkeypatch.setattr(server, "PATCHES", fakes)
    monkeypatch.setattr(server, "_reported", False)
    return applied


def test_with_untested_versions_allowed_only_the_patches_of_the_tested_packages_apply_and_it_says_so(
    recorded: list[str], monkeypatch: pytest.MonkeyPatch, realtime_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    realtime_settings.SERVER_UNTESTED_VERSIONS = True
    monkeypatch.setattr(versions, "installed", {"daphne": "4.2.3", "Twisted": "27.1.0", "autobahn": "26.11.1"}.get)
    with caplog.at_level(logging.WARNING, logger="realtime.server"):
        server.install()
        server.install()  # said once
    assert recorded == [
        "redaction", "outages", "descriptors", "access log", "failed connections", "close codes", "frames", "sizes",
        "debug formatting", "queues", "leftovers",
        "redaction", "outages", "descriptors", "access log", "failed connections", "close codes", "frames", "sizes",
        "debug formatting", "queues", "leftovers",
    ]  # fmt: skip
    assert [record.getMessage() for record in caplog.records] == [
        "Server integration: untested versions (Twisted 27.1.0); bounds off: 4012 to every open connection on "
        "SIGTERM; SEND_BUFFER_LIMIT (4410), paced replays, no ghost from daphne's handshake deadline; HTTP "
        "responses paced, HTTP_SEND_TIMEOUT; HANDSHAKE_TIMEOUT for request heads; tuning off: bytes sent at once; "
        "no log context per socket event"
    ]


def test_the_tuning_switches_off_alone(recorded: list[str], realtime_settings: Any) -> None:
    realtime_settings.SERVER_TUNING = False
    server.install()
    assert recorded == [patch.name for patch in server.PATCHES if patch.kind == server.BOUND]
    assert {"queues", "leftovers", "writes", "reactor", "debug formatting"}.isdisjoint(recorded)


def test_under_another_server_only_the_patches_that_touch_no_server_apply_whatever_the_versions(
    recorded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "under_daphne", lambda: False)
    monkeypatch.setattr(versions, "installed", {"daphne": "5.0.0", "Twisted": "30.1.0", "autobahn": "30.1.1"}.get)
    server.install()  # no refusal: daphne does not serve here
    assert recorded == ["redaction", "outages", "descriptors"]
