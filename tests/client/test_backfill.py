"""Where truncated replays are read from (realtime/client/backfill.py)."""

from __future__ import annotations

import pytest

from realtime.client import default_history_base, history_url


@pytest.mark.parametrize(
    ("ws_url", "base"),
    [
        ("ws://127.0.0.1:8000/ws/", "http://127.0.0.1:8000/realtime/history/"),
        ("wss://example.com/ws/?x=1", "https://example.com/realtime/history/"),
    ],
    ids=["ws", "wss"],
)
def test_the_history_is_read_beside_the_websocket_endpoint(ws_url: str, base: str) -> None:
    assert default_history_base(ws_url) == base


def test_a_url_that_is_not_a_websocket_one_is_refused() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        default_history_base("http://example.com/ws/")


@pytest.mark.parametrize(
    ("topic", "url"),
    [
        ("comments:42", "http://h/realtime/history/comments/42"),
        ("notifications", "http://h/realtime/history/notifications"),
        ("kind:a b/c", "http://h/realtime/history/kind/a%20b%2Fc"),
    ],
    ids=["comments", "notifications", "quoted-key"],
)
def test_a_topic_names_its_history_path(topic: str, url: str) -> None:
    assert history_url("http://h/realtime/history/", topic) == url


@pytest.mark.parametrize(("renewable", "retry"), [(True, True), (False, False)], ids=["callable", "string"])
def test_a_401_from_the_history_is_asked_again_only_with_a_token_that_can_be_renewed(
    renewable: bool, retry: bool
) -> None:
    import http.server
    import threading

    from realtime.client import HistoryUnavailable
    from realtime.client.backfill import read_page

    class Refuses(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(HistoryUnavailable) as refused:
            read_page(f"http://127.0.0.1:{server.server_port}/h", after=0, token="t", renewable=renewable)
    finally:
        server.shutdown()
        server.server_close()
    assert refused.value.retry is retry
