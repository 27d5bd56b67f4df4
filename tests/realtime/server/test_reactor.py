"""Twisted's reactor calls a ready socket without a log context per call (realtime/server/reactor.py)."""

from __future__ import annotations

from typing import Any

from twisted.logger import globalLogPublisher

from realtime.server import reactor


class Connection:
    def logPrefix(self) -> str:  # Twisted's name
        return "WebSocketProtocol,7,127.0.0.1"


def test_the_call_is_made_and_its_result_returned() -> None:
    assert reactor.call_with_logger(Connection(), lambda a, b=0: a + b, 1, b=2) == 3


def test_a_failure_is_logged_with_the_connections_prefix_and_goes_no_further() -> None:
    events: list[dict[str, Any]] = []
    observer: Any = events.append  # an ILogObserver: called with each event
    globalLogPublisher.addObserver(observer)
    try:

        def fails() -> None:
            raise ValueError("bad frame")

        assert reactor.call_with_logger(Connection(), fails) is None
    finally:
        globalLogPublisher.removeObserver(observer)
    failures = [event for event in events if "log_failure" in event]
    assert [(event["log_system"], event["log_failure"].value.args) for event in failures] == [
        ("WebSocketProtocol,7,127.0.0.1", ("bad frame",))
    ]


def test_the_server_integration_gives_it_to_the_asyncio_reactor() -> None:
    from twisted.internet import asyncioreactor

    from realtime import server

    server.install()
    assert vars(asyncioreactor)["callWithLogger"] is reactor.call_with_logger
