"""
The demo page at `/` in real headless Chromium against a live daphne: its two
widgets (a post's comments, the user's notifications) share one socket to
`/ws/`; two sessions see each other's comments, moderation in the admin shows
live, a killed and restarted server is reconnected and what was missed on both
topics is replayed, a replay truncated by REPLAY_LIMIT is filled from the
history endpoint with nothing missing or doubled, notifications arrive, tokens
are refreshed before they expire, and a user signed out elsewhere is refused
rather than retried.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from comments.models import Comment, Post
from comments.services import comment_create, comments_hide
from notifications.models import Notification
from notifications.services import notify_user
from tests.browser.conftest import (
    PASSWORD,
    advance_clock,
    comment_texts,
    count_sockets,
    hurry,
    screenshot,
    sign_in,
    sockets,
    start_browser_server,
    state,
    wait_until,
)
from tests.support.live import WIRE_APPLICATION, LiveServer, shift_clock

pytestmark = [pytest.mark.browser, pytest.mark.wire, pytest.mark.django_db(transaction=True)]

Browser = Callable[[], WebDriver]


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def moderator(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(username="moderator", password=PASSWORD)


# The client's backoff is capped at 30 s (client.js, maxDelay): moving its clock on by as much fires a retry at once.
BACKOFF_CAP_MS = 30_000


def both(driver: WebDriver, wanted: str) -> bool:
    return state(driver, "comments") == state(driver, "notifications") == wanted


def connected(driver: WebDriver) -> None:
    wait_until(driver, lambda d: both(d, "connected"), "connected")


def reconnected(driver: WebDriver) -> None:
    """Connected again, the client's retries made at once instead of after their backoff."""
    hurry(driver, lambda d: both(d, "connected"), "connected again", step_ms=BACKOFF_CAP_MS)


def post_comment(driver: WebDriver, text: str) -> None:
    driver.find_element(By.ID, "comment-body").send_keys(text)
    driver.find_element(By.ID, "comment-send").click()


def shows(driver: WebDriver, expected: list[str]) -> None:
    wait_until(driver, lambda d: comment_texts(d) == expected, f"the comments {expected}")


def shows_notifications(driver: WebDriver, expected: list[str]) -> None:
    def texts(d: WebDriver) -> list[str]:
        return [e.text for e in d.find_elements(By.CSS_SELECTOR, "#notifications li .body")]

    wait_until(driver, lambda d: texts(d) == expected, f"the notifications {expected}")


def test_two_sessions_see_each_others_comments(
    demo_server: LiveServer, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    first, second = open_browser(), open_browser()
    sign_in(first, demo_server, "alice")
    sign_in(second, demo_server, "bob")
    for driver in (first, second):
        connected(driver)
        assert comment_texts(driver) == []

    post_comment(first, "Hello from Alice")
    shows(second, ["Hello from Alice"])
    post_comment(second, "Hi Alice, Bob here")
    shows(first, ["Hello from Alice", "Hi Alice, Bob here"])
    shows(second, ["Hello from Alice", "Hi Alice, Bob here"])
    wait_until(first, lambda d: not d.find_elements(By.CSS_SELECTOR, "#comments li.pending"), "the acks")

    rows = list(Comment.objects.order_by("id").values_list("author__username", "body"))
    assert rows == [("alice", "Hello from Alice"), ("bob", "Hi Alice, Bob here")]
    notify_user(alice, {"text": "Bob replied to your comment"})
    shows_notifications(first, ["Bob replied to your comment"])
    assert screenshot(first, "demo-page").stat().st_size > 0


def test_both_widgets_share_one_socket_to_ws(
    demo_server: LiveServer, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    page = open_browser()
    count_sockets(page)
    sign_in(page, demo_server, "alice")
    connected(page)
    comment_create(post_id=post.pk, author=bob, body="A comment", client_id=None)
    notify_user(alice, {"text": "A notification"})
    shows(page, ["A comment"])
    shows_notifications(page, ["A notification"])
    assert sockets(page) == {"urls": [f"{demo_server.ws_url}/ws/"], "open": 1, "mostOpen": 1}


def test_a_comment_hidden_in_the_admin_disappears_live_and_comes_back_when_shown(
    demo_server: LiveServer, open_browser: Browser, alice: Any, moderator: Any, post: Post
) -> None:
    kept, _ = comment_create(post_id=post.pk, author=alice, body="A fine comment", client_id=None)
    rude, _ = comment_create(post_id=post.pk, author=alice, body="A rude comment", client_id=None)
    page, admin = open_browser(), open_browser()
    sign_in(page, demo_server, "alice")
    connected(page)
    shows(page, ["A fine comment", "A rude comment"])

    sign_in(admin, demo_server, "moderator")
    run_admin_action(admin, demo_server, rude, "hide_comments")
    shows(page, ["A fine comment"])
    assert Comment.objects.get(pk=rude.pk).is_hidden

    run_admin_action(admin, demo_server, rude, "unhide_comments")
    shows(page, ["A fine comment", "A rude comment"])
    assert kept.pk < rude.pk


def run_admin_action(driver: WebDriver, server: LiveServer, comment: Comment, action: str) -> None:
    driver.get(f"{server.http_url}/admin/comments/comment/")
    driver.find_element(By.CSS_SELECTOR, f'input[name="_selected_action"][value="{comment.pk}"]').click()
    Select(driver.find_element(By.NAME, "action")).select_by_value(action)
    driver.find_element(By.NAME, "index").click()
    wait_until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "ul.messagelist li"), "the admin's message")


def test_a_killed_and_restarted_server_is_reconnected_and_what_was_missed_is_caught_up(
    django_db_setup: None, log_dir: Path, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    rude, _ = comment_create(post_id=post.pk, author=bob, body="Rude, hidden while the page is away", client_id=None)
    server = start_browser_server(log_dir)
    try:
        page = open_browser()
        count_sockets(page)
        sign_in(page, server, "alice")
        connected(page)
        post_comment(page, "Before the crash")
        notify_user(alice, {"text": "Before the crash"})
        shows(page, ["Rude, hidden while the page is away", "Before the crash"])
        shows_notifications(page, ["Before the crash"])

        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        wait_until(page, lambda d: both(d, "reconnecting"), "the page")
        for text in ("Missed one", "Missed two"):  # written while the page is away
            comment_create(post_id=post.pk, author=bob, body=text, client_id=None)
        comments_hide(comments=Comment.objects.filter(pk=rude.pk))  # its live event reaches no one
        notify_user(alice, {"text": "Missed while away"})

        server = start_browser_server(log_dir, port=server.port)
        reconnected(page)
        shows(page, ["Before the crash", "Missed one", "Missed two"])
        shows_notifications(page, ["Missed while away", "Before the crash"])
        post_comment(page, "After the restart")
        shows(page, ["Before the crash", "Missed one", "Missed two", "After the restart"])
        assert Comment.objects.count() == 5
        # The notifications topic was resumed after the last id it had seen, on the same one socket.
        newest = Notification.objects.latest("id").pk
        assert page.execute_script("return window.demo.notifications.since") == newest
        seen = sockets(page)
        assert set(seen["urls"]) == {f"{server.ws_url}/ws/"}
        assert (seen["open"], seen["mostOpen"]) == (1, 1)
    finally:
        server.stop()


def test_a_truncated_replay_is_filled_from_the_history_with_nothing_missing_or_doubled(
    django_db_setup: None, log_dir: Path, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    """
    With REPLAY_LIMIT 3, the page's replay of 8 comments is truncated. While the
    history endpoint cannot be reached, two comments arrive live and are held;
    once it answers, the page shows all ten in order, each delivered once.
    """
    written = [comment_create(post_id=post.pk, author=bob, body=f"Old {n}", client_id=None)[0] for n in range(8)]
    server = start_browser_server(log_dir, env={"REPLAY_LIMIT": "3"})
    try:
        page = open_browser()
        page.execute_cdp_cmd("Network.enable", {})
        page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/realtime/history/*"]})
        sign_in(page, server, "alice")
        connected(page)
        wait_until(page, lambda d: d.execute_script("return window.demo.comments.feed.held !== null"), "the fill")
        for n in range(2):
            written.append(comment_create(post_id=post.pk, author=bob, body=f"Live {n}", client_id=None)[0])
        wait_until(page, lambda d: d.execute_script("return window.demo.comments.feed.held.length") == 2, "held")
        assert comment_texts(page) == []  # nothing live before the history

        page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        bodies = [comment.body for comment in written]
        # The fill's next try, after its backoff (capped at 30 s), at once.
        hurry(page, lambda d: comment_texts(d) == bodies, f"the comments {bodies}", step_ms=BACKOFF_CAP_MS)
        assert page.execute_script("return window.demo.delivered") == [comment.pk for comment in written]
        assert "GET /realtime/history/comments/" in server.log()
    finally:
        server.stop()


def test_a_notification_arrives_on_the_page(
    demo_server: LiveServer, open_browser: Browser, alice: Any, post: Post
) -> None:
    page = open_browser()
    sign_in(page, demo_server, "alice")
    connected(page)
    notify_user(alice, {"text": "Your report is ready"})
    shows_notifications(page, ["Your report is ready"])
    notify_user(alice, {"text": "And another one"})
    shows_notifications(page, ["And another one", "Your report is ready"])  # newest first


def test_tokens_are_refreshed_before_they_expire(
    django_db_setup: None, log_dir: Path, open_browser: Browser, alice: Any, post: Post
) -> None:
    """
    Tokens of the default lifetime (300 s), which the server and the page live through at once: both
    clocks are moved on, a step at a time, past two lifetimes of the first token. Each step is a
    second past the moment the client refreshes (a fifth of the lifetime left): without its refresh
    the page sees no `refreshed`, and past the first token's expiry the server closes with 4401.
    No heartbeat within the steps (the server would wait for pongs in no time at all).
    """
    server = start_browser_server(log_dir, application=WIRE_APPLICATION, env={"HEARTBEAT_INTERVAL": "3600"})
    try:
        shift_clock(server, 0)  # the server's time from now on moves when the test says
        page = open_browser()
        sign_in(page, server, "alice")
        connected(page)
        lifetime = float(page.execute_script("return window.demo.connection.token.expires_in"))
        assert lifetime in (300, 301)  # TOKEN_HTTP_TTL's default, its expiry rounded up to a whole second
        step = lifetime * 0.8 + 1
        for refreshes in (1, 2, 3):  # 3 steps of 241 s: past two lifetimes of the first token
            shift_clock(server, step)
            advance_clock(page, step * 1000)
            wait_until(page, lambda d: d.execute_script("return window.demo.refreshed") == refreshes, "refresh")  # noqa: B023
        assert page.execute_script("return window.demo.closes") == []
        assert page.execute_script("return window.demo.connection.connects") == 1
        assert page.execute_script("return window.demo.refreshed") >= 2  # one connection: two refreshes
        assert "closed by the server with code 4401" not in server.log()
    finally:
        server.stop()


def test_a_user_signed_out_elsewhere_is_refused_not_retried(
    django_db_setup: None, log_dir: Path, open_browser: Browser, alice: Any, post: Post
) -> None:
    from django.contrib.sessions.models import Session

    server = start_browser_server(log_dir)
    try:
        page = open_browser()
        sign_in(page, server, "alice")
        connected(page)
        Session.objects.all().delete()  # signed out everywhere
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        server = start_browser_server(log_dir, port=server.port)
        # The client's retries at once instead of after their backoff.
        hurry(page, lambda d: both(d, "refused"), "refused", step_ms=BACKOFF_CAP_MS)
        assert "WSCONNECT" not in server.log().split("Listening on")[-1]  # no handshake without a token
    finally:
        server.stop()


def test_the_clients_backoff_doubles_from_half_a_second_to_its_cap_with_jitter(
    demo_server: LiveServer, open_browser: Browser
) -> None:
    page = open_browser()
    page.get(f"{demo_server.http_url}/login/")
    delays = page.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        import("/static/realtime/client.js").then(({ backoffDelay }) => {
          const steps = [...Array(9).keys()];
          done({
            least: steps.map((attempt) => backoffDelay(attempt, 500, 30000, () => 0)),
            most: steps.map((attempt) => backoffDelay(attempt, 500, 30000, () => 1)),
          });
        });
        """
    )
    assert delays == {
        "least": [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000],
        "most": [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    }


def test_the_clients_subscriptions_fail_alone_and_a_topic_followed_again_gets_only_its_new_frames(
    demo_server: LiveServer, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    """
    On a connection of its own: a subscription the server refuses (no such
    post) fails with its error and is not sent again; a topic unsubscribed and
    at once subscribed again gets nothing of the old subscription (here: the
    error answering its last message), only its own frames.
    """
    page = open_browser()
    sign_in(page, demo_server, "alice")
    connected(page)
    script = """
        const [postId, done] = arguments;
        import("/static/realtime/client.js").then(({ RealtimeConnection }) => {
          const connection = new RealtimeConnection("/ws/");
          const seen = [];
          const missing = connection.subscribe("comments:999999999");
          missing.addEventListener("error", (event) => seen.push(["missing", event.detail.code, missing.state]));
          const first = connection.subscribe(`comments:${postId}`);
          first.addEventListener("subscribed", () => {
            first.send({ type: "new_comment", body: "" }); // its error comes after the unsubscribe: not again's
            first.unsubscribe();
            const again = connection.subscribe(`comments:${postId}`, { since: 0 });
            again.addEventListener("message", (event) => seen.push(["again", event.detail.type]));
            again.addEventListener("replay_complete", () => {
              done({ seen, topics: [...connection.subscriptions.keys()], first: first.state, again: again.state });
              connection.close();
            });
          });
          connection.start();
        });
    """
    comment_create(post_id=post.pk, author=bob, body="Already there", client_id=None)
    outcome = page.execute_async_script(script, post.pk)
    assert outcome == {
        "seen": [
            ["missing", "not_found", "failed"],
            ["again", "subscribed"],
            ["again", "presence_state"],
            ["again", "comment"],
            ["again", "replay_complete"],
        ],
        "topics": [f"comments:{post.pk}"],
        "first": "unsubscribed",
        "again": "subscribed",
    }


def test_two_sessions_see_each_other_arrive_type_and_leave(
    django_db_setup: None, log_dir: Path, open_browser: Browser, alice: Any, bob: Any, post: Post
) -> None:
    server = start_browser_server(log_dir, env={"PRESENCE_INTERVAL": "0.2", "TYPING_INTERVAL": "1"})
    try:
        first, second = open_browser(), open_browser()
        sign_in(first, server, "alice")
        connected(first)
        wait_until(first, lambda d: watching(d) == "Watching: alice", "alice alone")
        sign_in(second, server, "bob")
        connected(second)
        assert watching(second) == "Watching: alice, bob"
        wait_until(first, lambda d: watching(d) == "Watching: alice, bob", "bob arriving")

        second.find_element(By.ID, "comment-body").send_keys("Hel")
        wait_until(first, lambda d: typists(d) == "bob is typing…", "bob typing")
        assert typists(second) == ""  # not told of its own typing
        # The page forgets a typist two typing intervals (its default, 3 s) after the last: at once, on its clock.
        hurry(first, lambda d: typists(d) == "", "bob no longer typing, two typing intervals later", step_ms=TYPIST_MS)

        second.get("about:blank")  # bob leaves the page (which the browser may keep in its back-forward cache)
        wait_until(first, lambda d: watching(d) == "Watching: alice", "bob leaving")
    finally:
        server.stop()


# How long after a `typing` frame the page forgets the typist: two of the client's typing intervals (3 s).
TYPIST_MS = 2 * 3000


def watching(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "watching").text)


def typists(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "typists").text)
