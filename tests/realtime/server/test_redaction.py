"""realtime.server.redaction: anything that looks like a token is redacted, whatever encodes it."""

from __future__ import annotations

import pytest

from realtime.server.redaction import REDACTED, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text",
    [
        JWT,
        JWT.replace(".", "%2E"),
        JWT.replace(".", "%2e"),
        f"token={JWT}",
        f"Authorization: Bearer {JWT}",
        f"bearer.{JWT}",
    ],
    ids=["jwt", "percent-encoded-dots", "lower-case-percent-encoding", "query", "header", "subprotocol"],
)
def test_a_token_is_redacted_however_it_is_written(text: str) -> None:
    cleaned = redact(f"GET /ws/notifications?x={text} HTTP/1.1")
    assert "c2lnbmF0dXJl" not in cleaned
    assert REDACTED in cleaned


def test_other_text_is_left_alone() -> None:
    assert redact("WebSocket /ws/echo closed by the client with code 1000") == (
        "WebSocket /ws/echo closed by the client with code 1000"
    )
