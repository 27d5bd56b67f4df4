"""
The demo page in real headless Chromium with WebSockets blocked on the way (a
proxy that refuses the upgrade, tests/browser/firewall.py, or a page whose
WebSocket constructor throws): the JavaScript client falls back to Server-Sent
Events by itself, and on SSE comments,
posting, notifications, presence and typing work as on a WebSocket; a killed and
restarted server is resumed by EventSource's own reconnect (Last-Event-ID); and
across every switch (WebSocket to SSE, a stream resumed, SSE back to a WebSocket
once one opens) each entry is delivered exactly once.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from comments.models import Comment, Post
from comments.services import comment_create
from notifications.services import notify_user
from tests.browser.conftest import (
    PASSWORD,
    add_page_script,
    comment_texts,
    hurry,
    sign_in,
    start_browser_server,
    state,
    wait_until,
)
from tests.browser.firewall import WebSocketFirewall
from tests.support.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

Browser = Callable[[], WebDriver]
# Presence diffs and typing within a second (the defaults are 1 s and 3 s).
QUICK_PRESENCE = {"PRESENCE_INTERVAL": "0.2", "TYPING_INTERVAL": "1"}
# How long after a `typing` frame the page forgets the typist: two of the client's typing intervals (3 s).
TYPIST_MS = 2 * 3000
# The first steps of the client's backoff are at most 500 ms (client.js, minDelay).
FIRST_RETRY_MS = 500


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def servers(django_db_setup: None, log_dir: Path) -> Iterator[list[LiveServer]]:
    """A daphne, in a list: a test that restarts it appends the new one. The last is stopped after the test."""
    started = [start_browser_server(log_dir, env=QUICK_PRESENCE)]
    yield started
    started[-1].stop()


@pytest.fixture
def firewall(servers: list[LiveServer]) -> Iterator[WebSocketFirewall]:
    proxy = WebSocketFirewall(servers[0].port)
    proxy.start()
    yield proxy
    proxy.close()


def behind(firewall: WebSocketFirewall, server: LiveServer) -> LiveServer:
    """`server` as a browser behind the firewall reaches it."""
    return dataclasses.replace(server, port=firewall.port)


def kill(servers: list[LiveServer]) -> LiveServer:
    """SIGKILL the server: its streams end without a close event, as when a machine is lost."""
    dead = servers[-1]
    dead.process.send_signal(signal.SIGKILL)
    dead.process.wait(timeout=10)
    return dead


def both(driver: WebDriver, wanted: str) -> bool:
    return state(driver, "comments") == state(driver, "notifications") == wanted


def connected(driver: WebDriver) -> None:
    wait_until(driver, lambda d: both(d, "connected"), "connected")


def transport(driver: WebDriver) -> str:
    return str(driver.execute_script("return window.demo.connection.transport"))


def post_comment(driver: WebDriver, text: str) -> None:
    driver.find_element(By.ID, "comment-body").send_keys(text)
    driver.find_element(By.ID, "comment-send").click()


def shows(driver: WebDriver, expected: list[str]) -> None:
    wait_until(driver, lambda d: comment_texts(d) == expected, f"the comments {expected}")


def notification_texts(driver: WebDriver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#notifications li .body")]


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def test_with_websockets_blocked_the_page_falls_back_to_sse_where_comments_and_notifications_work(
    servers: list[LiveServer], firewall: WebSocketFirewall, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    blocked, free = open_browser(), open_browser()
    sign_in(blocked, behind(firewall, servers[0]), "alice")
    sign_in(free, servers[0], "bob")
    # The retry after the first refused handshake, at once rather than after its backoff.
    hurry(blocked, lambda d: both(d, "connected"), "connected over SSE", step_ms=FIRST_RETRY_MS)
    connected(free)
    assert (transport(blocked), transport(free)) == ("sse", "websocket")
    assert firewall.refused == 2  # fallbackAfter: two handshakes refused, then SSE at once
    assert blocked.execute_script("return window.demo.closes") == [1006, 1006]

    post_comment(blocked, "Posted over SSE")
    shows(free, ["Posted over SSE"])
    post_comment(free, "Posted over a WebSocket")
    shows(blocked, ["Posted over SSE", "Posted over a WebSocket"])
    wait_until(blocked, lambda d: not d.find_elements(By.CSS_SELECTOR, "#comments li.pending"), "the ack")
    assert list(Comment.objects.order_by("id").values_list("author__username", "body")) == [
        ("alice", "Posted over SSE"),
        ("bob", "Posted over a WebSocket"),
    ]
    notify_user(alice, {"text": "A notification over SSE"})
    wait_until(blocked, lambda d: notification_texts(d) == ["A notification over SSE"], "the notification")
    assert firewall.refused == 2


# Installed before any script of a page runs: a browser that will not open WebSockets at all (as a
# Content-Security-Policy without ws: makes it): the constructor throws.
NO_WEBSOCKET_CONSTRUCTOR = """
window.WebSocket = class {
  constructor() {
    throw new DOMException("WebSockets are not allowed here", "SecurityError");
  }
};
"""


def test_a_page_whose_websocket_constructor_throws_follows_its_topics_over_sse(
    servers: list[LiveServer], open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    page = open_browser()
    add_page_script(page, NO_WEBSOCKET_CONSTRUCTOR)
    sign_in(page, servers[0], "alice")
    connected(page)
    assert transport(page) == "sse"
    assert page.execute_script("return window.demo.closes") == [1006, 1006]
    comment_create(post_id=post.pk, author=bob, body="Over SSE", client_id=None)
    shows(page, ["Over SSE"])


def test_presence_and_typing_work_over_sse(
    servers: list[LiveServer], firewall: WebSocketFirewall, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    first, second = open_browser(), open_browser()
    sign_in(first, behind(firewall, servers[0]), "alice")
    connected(first)
    wait_until(first, lambda d: text_of(d, "watching") == "Watching: alice", "alice alone")
    sign_in(second, behind(firewall, servers[0]), "bob")
    connected(second)
    assert transport(first) == transport(second) == "sse"
    wait_until(first, lambda d: text_of(d, "watching") == "Watching: alice, bob", "bob arriving")
    assert text_of(second, "watching") == "Watching: alice, bob"

    second.find_element(By.ID, "comment-body").send_keys("Hel")  # typing, POSTed to bob's stream
    wait_until(first, lambda d: text_of(d, "typists") == "bob is typing…", "bob typing")
    assert text_of(second, "typists") == ""  # not told of its own typing
    # The page forgets a typist two typing intervals (its default, 3 s) after the last: at once, on its clock.
    hurry(
        first,
        lambda d: text_of(d, "typists") == "",
        "bob no longer typing, two typing intervals later",
        step_ms=TYPIST_MS,
    )

    second.get("about:blank")
    wait_until(first, lambda d: text_of(d, "watching") == "Watching: alice", "bob leaving")


def test_a_killed_and_restarted_server_is_resumed_by_eventsource_with_nothing_missed_or_doubled(
    servers: list[LiveServer],
    firewall: WebSocketFirewall,
    log_dir: Path,
    open_browser: Browser,
    alice: Any,
    bob: Any,
    post: Post,
) -> None:
    page = open_browser()
    sign_in(page, behind(firewall, servers[0]), "alice")
    connected(page)
    assert transport(page) == "sse"
    # Every notification the page is given, in order (its list would show an id given twice once), and how
    # the topic was subscribed each time.
    page.execute_script(
        "window.given = []; window.subscribes = [];"
        "window.demo.notifications.addEventListener('notification', (e) => window.given.push(e.detail.id));"
        "window.demo.notifications.addEventListener('subscribe', (e) => window.subscribes.push(e.detail));"
    )
    post_comment(page, "Before the crash")
    before = notify_user(alice, {"text": "Before the crash"})
    shows(page, ["Before the crash"])
    wait_until(page, lambda d: d.execute_script("return window.given.length") == 1, "the first notification")

    dead = kill(servers)
    wait_until(page, lambda d: state(d, "notifications") == "reconnecting", "the stream dropped")
    comment_create(post_id=post.pk, author=bob, body="Missed while away", client_id=None)
    while_away = notify_user(alice, {"text": "Missed while away"})
    servers.append(start_browser_server(log_dir, env=QUICK_PRESENCE, port=dead.port))

    connected(page)
    shows(page, ["Before the crash", "Missed while away"])
    wait_until(page, lambda d: notification_texts(d) == ["Missed while away", "Before the crash"], "notifications")
    post_comment(page, "After the restart")
    shows(page, ["Before the crash", "Missed while away", "After the restart"])
    assert page.execute_script("return window.given") == [before.pk, while_away.pk]
    assert transport(page) == "sse"
    # EventSource reconnected by itself and its Last-Event-ID resumed the topic: no subscribe of the client's
    # own, no token fetched for a stream of its own.
    assert page.execute_script("return window.subscribes") == [{"since": before.pk, "resumed": True}]
    assert "/realtime/token/" not in servers[-1].log()


# The most the recorder's connection waits: between two retries, and on SSE before it tries a WebSocket.
RECORDER_MAX_DELAY_MS = 1000
# A RealtimeConnection of the test's own on the page (resuming after the last id, as by default), trying
# WebSockets again every second while on SSE: the comment ids it is given, and its transports, in order.
RECORDER = """
const [postId, done] = arguments;
import("/static/realtime/client.js").then(({ RealtimeConnection }) => {
  const connection = new RealtimeConnection("/ws/", { websocketRetryAfter: 1000, minDelay: 100, maxDelay: 1000 });
  const record = (window.record = { ids: [], transports: [], connection });
  const comments = connection.subscribe(`comments:${postId}`, { since: 0 });
  comments.addEventListener("comment", (event) => record.ids.push(event.detail.comment.id));
  connection.addEventListener("transport", (event) => record.transports.push(event.detail.transport));
  comments.addEventListener("subscribed", () => done(), { once: true });
  connection.start();
});
"""


def test_every_entry_is_delivered_once_across_websocket_to_sse_a_resumed_stream_and_sse_back_to_websocket(
    servers: list[LiveServer],
    firewall: WebSocketFirewall,
    log_dir: Path,
    open_browser: Browser,
    alice: Any,
    bob: Any,
    post: Post,
) -> None:
    written: list[Comment] = []

    def write(body: str) -> None:
        written.append(comment_create(post_id=post.pk, author=bob, body=body, client_id=None)[0])

    def given(driver: WebDriver) -> list[int]:
        return [int(i) for i in driver.execute_script("return window.record.ids")]

    def given_all(driver: WebDriver) -> bool:
        return given(driver) == [comment.pk for comment in written]

    def on(driver: WebDriver, wanted: str) -> bool:
        record = driver.execute_script("return [window.record.connection.transport, window.record.connection.state]")
        return bool(record == [wanted, "connected"])

    write("Before")
    firewall.blocking = False
    page = open_browser()
    sign_in(page, behind(firewall, servers[0]), "alice")
    page.execute_async_script(RECORDER, post.pk)
    assert on(page, "websocket")
    wait_until(page, given_all, "the first comment")

    firewall.blocking = True  # the network starts refusing WebSockets, and drops the open one
    firewall.cut()
    firewall.restore()
    write("While falling back to SSE")
    hurry(page, lambda d: on(d, "sse"), "SSE", step_ms=RECORDER_MAX_DELAY_MS)  # its retries at once
    write("Over SSE")
    wait_until(page, given_all, "the comments of the fallback")

    dead = kill(servers)
    wait_until(page, lambda d: d.execute_script("return window.record.connection.state") == "reconnecting", "drop")
    write("While the server is away")
    servers.append(start_browser_server(log_dir, env=QUICK_PRESENCE, port=dead.port))
    wait_until(page, lambda d: on(d, "sse"), "the stream resumed")
    write("Over the resumed stream")
    wait_until(page, given_all, "the comments of the resumed stream")

    firewall.blocking = False  # WebSockets open again: the next try moves the connection back
    write("While going back to a WebSocket")
    # Its next try of a WebSocket at once.
    hurry(page, lambda d: on(d, "websocket"), "a WebSocket again", step_ms=RECORDER_MAX_DELAY_MS)
    write("Over the WebSocket again")
    wait_until(page, given_all, "every comment, once")
    assert page.execute_script("return window.record.transports") == ["sse", "websocket"]
