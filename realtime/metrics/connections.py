"""
Counting WebSocket connections at the application's edge.

`Metered` wraps the WebSocket side of the application (realtime/asgi.py) and
watches the ASGI messages of each connection go by, so that no consumer,
middleware or host route has to remember to count:

- `websocket.accept`: the handshake was accepted; the connection is open
  (`realtime_connections` +1 until it ends);
- `websocket.close` before accept: refused, the outcome named by whoever
  refused (`handshake_refused`: the origin check, the token middleware) or, if
  no one did, by its close code (4429: a cap, 4404: not found, ...);
- the first close after accept, its code, and who sent it (`by`: the client's
  close, or its socket lost, is the client's; the application's close is the
  server's); a connection whose application raised ends with 1011 by the
  server, as daphne closes it, and one that ended with no close at all
  (cancelled as the server stopped) with 1006 by the server;
- each message received and sent (traffic.py).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from prometheus_client.metrics import Counter, Gauge

from realtime.close_codes import CLOSE_ABNORMAL, CLOSE_INTERNAL_ERROR, CLOSE_NO_STATUS
from realtime.metrics import catalog
from realtime.metrics.endpoints import EndpointLabels
from realtime.metrics.traffic import Traffic, traffic_of
from realtime.types import ASGIApp, Message, Receive, Scope, Send

# The meter of the connection whose task this is: found by `handshake_refused` in the connection's own
# context, not in a copy of its scope (one dict fewer held for each connection's life).
_METER: ContextVar[ConnectionMeter | None] = ContextVar("realtime_meter", default=None)
# The outcome of a refusal that nobody named, by its close code.
OUTCOME_OF_CODE = {
    4429: catalog.REFUSED_CAP,
    4403: catalog.REFUSED_FORBIDDEN,
    4404: catalog.REFUSED_NOT_FOUND,
    4503: catalog.REFUSED_UNAVAILABLE,
}


class EndpointMetrics:
    """One endpoint's metrics, bound to its label once (labels() costs a lock and a lookup)."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.open: Gauge = catalog.connections.labels(endpoint)
        self.traffic: Traffic = traffic_of(endpoint)
        self.outcomes: dict[str, Counter] = {
            outcome: catalog.handshakes.labels(endpoint, outcome) for outcome in catalog.OUTCOMES
        }
        self._closes: dict[tuple[str, str], Counter] = {}

    def closed(self, code: int, by: str) -> None:
        labels = (catalog.close_code_label(code), by)
        counter = self._closes.get(labels)
        if counter is None:
            counter = self._closes[labels] = catalog.closes.labels(self.endpoint, *labels)
        counter.inc()


class ConnectionMeter:
    """
    What one connection has done so far: answered or not, open, closed with which code. Its `receive` and
    `send` are the connection's, counted (bound methods: no closure and cells per connection).
    """

    __slots__ = ("_close_code", "_closed_by", "_metrics", "_outcome", "_receive", "_send", "refusal")

    def __init__(self, metrics: EndpointMetrics, receive: Receive, send: Send) -> None:
        self._metrics = metrics
        self._receive = receive
        self._send = send
        self._outcome: str | None = None
        self._close_code: int | None = None
        self._closed_by = catalog.BY_SERVER
        # Named by whoever refuses the handshake (handshake_refused), before its close goes out.
        self.refusal: str | None = None

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "websocket.receive":
            self._metrics.traffic.received += 1
        elif message["type"] == "websocket.disconnect":
            self._ended(int(message.get("code") or CLOSE_NO_STATUS), catalog.BY_CLIENT)
        return message

    async def send(self, message: Message) -> None:
        await self._send(message)
        if message["type"] == "websocket.send":
            self._metrics.traffic.sent += 1
        elif message["type"] == "websocket.accept":
            self._answered(catalog.ACCEPTED)
            self._metrics.open.inc()
        elif message["type"] == "websocket.close":
            if self._outcome is None:
                self._answered(self.refusal or OUTCOME_OF_CODE.get(message.get("code", 0), catalog.REFUSED_OTHER))
            else:
                self._ended(int(message.get("code") or CLOSE_NO_STATUS), catalog.BY_SERVER)

    def crashed(self) -> None:
        """The application raised: daphne closes an open connection with 1011."""
        self._ended(CLOSE_INTERNAL_ERROR, catalog.BY_SERVER)

    def finished(self) -> None:
        if self._outcome is None:
            self._answered(catalog.ABANDONED)
        elif self._outcome == catalog.ACCEPTED:
            self._metrics.open.dec()
            self._metrics.closed(CLOSE_ABNORMAL if self._close_code is None else self._close_code, self._closed_by)

    def _answered(self, outcome: str) -> None:
        self._outcome = outcome
        self._metrics.outcomes[outcome].inc()

    def _ended(self, code: int, by: str) -> None:
        if self._close_code is None and self._outcome == catalog.ACCEPTED:
            self._close_code = code
            self._closed_by = by


class Metered:
    """The WebSocket application `application`, its connections counted by the routes in `routes`."""

    def __init__(self, application: ASGIApp, routes: list[Any]) -> None:
        self.application = application
        self._labels = EndpointLabels(routes)
        self._metrics: dict[str, EndpointMetrics] = {}
        for label in self._labels.labels():
            self._endpoint(label)  # every series from zero, so that rates see the first connection

    def _endpoint(self, label: str) -> EndpointMetrics:
        found = self._metrics.get(label)
        if found is None:
            found = self._metrics[label] = EndpointMetrics(label)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.application(scope, receive, send)
            return
        meter = ConnectionMeter(self._endpoint(self._labels.of(scope)), receive, send)
        _METER.set(meter)  # in this connection's task: its context is its own
        try:
            await self.application(scope, meter.receive, meter.send)
        except Exception:
            meter.crashed()
            raise
        finally:
            meter.finished()


def handshake_refused(scope: Scope, outcome: str) -> None:
    """
    Name the outcome of a refusal about to be sent (before `realtime.handshake.refuse`), from the
    connection's task (a middleware, a consumer's connect), whose context holds its meter.
    """
    meter = _METER.get()
    if meter is not None:
        meter.refusal = outcome
