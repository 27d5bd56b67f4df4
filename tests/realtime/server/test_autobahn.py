"""realtime.autobahn_tuning: autobahn's per-frame debug formatting is skipped unless it logs at debug level."""

from __future__ import annotations

import pytest
import txaio
from autobahn import util
from autobahn.websocket import protocol

from realtime.server.autobahn import skip_eager_debug_formatting


@pytest.fixture
def autobahn_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "hltype", util.hltype)
    monkeypatch.setattr(protocol, "hlval", util.hlval)


@pytest.mark.usefixtures("autobahn_helpers")
def test_at_autobahns_default_level_the_formatting_helpers_return_nothing() -> None:
    assert txaio.get_global_log_level() == "info"
    assert skip_eager_debug_formatting() is True
    assert (protocol.hltype(protocol.WebSocketProtocol.sendData), protocol.hlval(42)) == ("", "")


@pytest.mark.usefixtures("autobahn_helpers")
def test_with_autobahn_debug_logging_the_helpers_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(txaio, "get_global_log_level", lambda: "debug")
    assert skip_eager_debug_formatting() is False
    assert protocol.hlval(42) != ""
