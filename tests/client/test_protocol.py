"""What the client knows of the wire (realtime/client/protocol.py) agrees with the JavaScript client."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from realtime.client import RECONNECT_CODES
from realtime.client.protocol import decode, encode

CLIENT_JS = Path(settings.BASE_DIR) / "realtime" / "static" / "realtime" / "client.js"


def test_it_reconnects_after_exactly_the_codes_the_javascript_client_does() -> None:
    found = re.search(r"RECONNECT_CODES = new Set\(\[([\d,\s]+)\]\)", CLIENT_JS.read_text())
    assert found is not None, "client.js no longer declares RECONNECT_CODES as this test reads it"
    assert {int(code) for code in found.group(1).split(",")} == RECONNECT_CODES


def test_messages_are_compact_and_keep_non_ascii() -> None:
    assert encode({"type": "new_comment", "body": "ça"}) == '{"type":"new_comment","body":"ça"}'


def test_a_frame_that_is_not_a_json_object_decodes_to_none() -> None:
    assert [decode("[1]"), decode("not json"), decode(b'{"type":"ping"}')] == [None, None, {"type": "ping"}]
