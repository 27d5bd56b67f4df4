"""realtime.server.autobahn: autobahn's per-frame debug formatting is skipped unless it logs at debug level."""

from __future__ import annotations

import contextlib
import pprint
from types import SimpleNamespace
from typing import Any

import pytest
import txaio
from autobahn import util
from autobahn.twisted import websocket as twisted_adapter
from autobahn.websocket import protocol

from realtime.server.autobahn import skip_eager_debug_formatting


def helper(name: str, module: Any = protocol) -> Any:
    """One of the formatting helpers autobahn's modules use (not exported: looked up by name)."""
    return getattr(module, name)


@pytest.fixture
def autobahn_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (protocol, twisted_adapter):
        monkeypatch.setattr(module, "hltype", util.hltype)
        monkeypatch.setattr(module, "hlval", util.hlval)
    monkeypatch.setattr(protocol, "pformat", pprint.pformat)


@pytest.mark.usefixtures("autobahn_helpers")
def test_at_autobahns_default_level_the_formatting_helpers_return_nothing() -> None:
    assert getattr(txaio, "get_global_log_level")() == "info"  # noqa: B009  (not in txaio's stubs)
    assert skip_eager_debug_formatting() is True
    assert (helper("hltype")(protocol.WebSocketProtocol.sendData), helper("hlval")(42)) == ("", "")
    assert (helper("hltype", twisted_adapter)(len), helper("hlval", twisted_adapter)(42)) == ("", "")


@pytest.mark.usefixtures("autobahn_helpers")
def test_the_options_of_a_new_connection_are_not_pretty_printed_and_anything_else_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert skip_eager_debug_formatting() is True
    formatted: list[Any] = []

    def debug(text: str, **arguments: Any) -> None:
        formatted.append(arguments.get("attrs"))

    connection: Any = protocol.WebSocketServerProtocol()
    connection.factory = SimpleNamespace(**{name: None for name in connection.CONFIG_ATTRS})
    connection.log = SimpleNamespace(debug=debug)
    monkeypatch.setattr(protocol.WebSocketProtocol, "setTrackTimings", lambda self, enable: None)
    with contextlib.suppress(Exception):  # only its first lines matter here
        protocol.WebSocketProtocol._connectionMade(connection)
    assert formatted == [""]
    timings = {"a": 1.0, "b": 2.0}
    assert helper("pformat")(timings) == pprint.pformat(timings)  # autobahn's Timings, say


@pytest.mark.usefixtures("autobahn_helpers")
def test_with_autobahn_debug_logging_the_helpers_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "debug")
    assert skip_eager_debug_formatting() is False
    assert helper("hlval")(42) != ""
    assert helper("hlval", twisted_adapter)(42) != ""
