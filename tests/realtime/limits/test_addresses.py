"""realtime.limits.addresses: at most MAX_CONNECTIONS_PER_IP per client address; proxies trusted only when named."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from project.asgi import application
from realtime.limits.addresses import client_address


def scope(peer: str, *forwarded: bytes) -> dict[str, Any]:
    return {"client": [peer, 5000], "headers": [(b"x-forwarded-for", value) for value in forwarded]}


@pytest.mark.parametrize(
    ("peer", "forwarded", "address"),
    [
        ("127.0.0.1", [b"198.51.100.7, 10.1.2.3"], "198.51.100.7"),
        ("127.0.0.1", [b"198.51.100.7", b"203.0.113.1, 10.0.0.9"], "203.0.113.1"),
        ("203.0.113.9", [b"198.51.100.7"], "203.0.113.9"),
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", [b"10.0.0.1, 127.0.0.1"], "127.0.0.1"),
    ],
    ids=["through-two-proxies", "last-header-last-hop", "untrusted-peer-ignored", "no-header", "all-trusted"],
)
def test_the_address_is_the_last_untrusted_hop(
    realtime_settings: Any, peer: str, forwarded: list[bytes], address: str
) -> None:
    realtime_settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert client_address(scope(peer, *forwarded)) == address


def test_without_trusted_proxies_the_forwarded_header_is_ignored() -> None:
    assert client_address(scope("127.0.0.1", b"198.51.100.7")) == "127.0.0.1"


def from_address(address: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/echo")
    communicator.scope["client"] = [address, 5000]
    return communicator


async def test_the_connection_past_the_cap_of_an_address_is_refused_with_4429(realtime_settings: Any) -> None:
    realtime_settings.MAX_CONNECTIONS_PER_IP = 2
    first, second, third, other = (WebsocketCommunicator(application, "/ws/echo") for _ in range(4))
    for communicator, address in [
        (first, "192.0.2.1"),
        (second, "192.0.2.1"),
        (third, "192.0.2.1"),
        (other, "192.0.2.2"),
    ]:
        communicator.scope["client"] = [address, 5000]
    assert [await c.connect() for c in (first, second, third, other)] == [
        (True, None),
        (True, None),
        (False, 4429),
        (True, None),
    ]
    await first.disconnect()
    again = WebsocketCommunicator(application, "/ws/echo")
    again.scope["client"] = ["192.0.2.1", 5000]
    assert await again.connect() == (True, None)
    for communicator in (second, other, again):
        await communicator.disconnect()
