"""
Real headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
selenium against a live daphne. Skipped, saying why, when no browser is
installed; `.ci/run` installs one and sets REALTIME_REQUIRE_BROWSER, so CI never
skips them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.availability import skip_unless_available
from tests.support.live import LiveServer, start_daphne

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
BROWSER_MISSING = (
    f"the browser tests need Chromium and ChromeDriver ({CHROMIUM}, {CHROMEDRIVER}): "
    "apt-get install chromium chromium-driver (as .ci/run does)"
)
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WAIT_SECONDS = 20
PASSWORD = "correct horse battery staple"
# Without the background-networking flags Chromium keeps dialling Google, which this network refuses.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
]


def browser_installed() -> bool:
    return all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_unless_available(
        items,
        marker="browser",
        available=browser_installed(),
        required_by="REALTIME_REQUIRE_BROWSER",
        missing=BROWSER_MISSING,
    )


# What every browser test's daphne is given: feeds checked ten times a second, so that what the test
# process writes (its comments and notifications reach the server's feed checks, not its channel
# layer) shows within a tenth of a second instead of a second or two; a dropped SSE stream reconnected
# by EventSource a tenth of a second later instead of Chromium's 3 s (SSE_RETRY, the `retry:` field); and
# passwords hashed in one round, as the test process makes its users (tests/support/browser_settings.py).
BROWSER_SERVER = {
    "FEED_CHECK_INTERVAL": "0.1",
    "SSE_RETRY": "0.1",
    "DJANGO_SETTINGS_MODULE": "tests.support.browser_settings",
}


def start_browser_server(log_dir: Path, *, env: dict[str, str] | None = None, **options: Any) -> LiveServer:
    """`start_daphne` with `BROWSER_SERVER`'s settings (and `env`'s)."""
    return start_daphne(log_dir, env={**BROWSER_SERVER, **(env or {})}, **options)


@pytest.fixture(scope="session")
def demo_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    """One browser test daphne for the tests that neither restart it nor read its log (as `daphne_server`)."""
    server = start_browser_server(log_dir)
    yield server
    server.stop_later()


# The scripts each browser installs for every page a test opens (`add_page_script`), by id(driver):
# removed before the browser serves another test.
PAGE_SCRIPTS: dict[int, list[str]] = {}


def new_browser(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_CLOCK})
    PAGE_SCRIPTS[id(driver)] = []
    return driver


def add_page_script(driver: WebDriver, source: str) -> None:
    """Run `source` before any script of every page `driver` opens from now on, for this test."""
    added = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})
    PAGE_SCRIPTS[id(driver)].append(added["identifier"])


def forget_test(driver: WebDriver) -> None:
    """
    Leave `driver` as a new browser would be for the next test: on a blank page (its sockets and
    streams closed), without cookies (so signed out: every test's server is 127.0.0.1), cache, the
    test's page scripts or blocked URLs.
    """
    driver.get("about:blank")
    for identifier in PAGE_SCRIPTS[id(driver)]:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": identifier})
    PAGE_SCRIPTS[id(driver)] = []
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Network.disable", {})


@pytest.fixture(scope="session")
def idle_browsers() -> Iterator[list[WebDriver]]:
    """
    Chromiums a test is done with, for the next one (starting one costs a second or two): a
    worker keeps as many as its tests used at once.
    """
    idle: list[WebDriver] = []
    yield idle
    with ThreadPoolExecutor() as pool:  # together: each takes a while
        list(pool.map(WebDriver.quit, idle))


@pytest.fixture
def open_browser(
    idle_browsers: list[WebDriver], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], WebDriver]]:
    """
    Headless Chromiums, each with its own profile (so its own session): one left by an earlier test
    (`forget_test`), or a new one. After the test each is made ready for the next, or quit.
    """
    drivers: list[WebDriver] = []

    def start() -> WebDriver:
        driver = idle_browsers.pop() if idle_browsers else new_browser(tmp_path_factory.mktemp("profile"))
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        try:
            forget_test(driver)
        except Exception:  # a browser that cannot be reset is not used again
            driver.quit()
            PAGE_SCRIPTS.pop(id(driver), None)
        else:
            idle_browsers.append(driver)


# Installed before any script of every page runs: the clock the page's realtime client takes
# (client.js, the `clock` option: `window.realtimeClock`). Time goes on as the browser's does, and
# `advance_clock(driver, ms)` moves it on at once: the client's timers due by then (a retry's backoff,
# a token's refresh, a typist's expiry) fire at once, in order, and the others keep what is left.
PAGE_CLOCK = """
(() => {
  let offset = 0;
  let next = 1;
  const timers = new Map(); // id -> {due, callback, native}
  const now = () => Date.now() + offset;
  const fire = (id) => {
    const timer = timers.get(id);
    if (timer === undefined) return;
    timers.delete(id);
    clearTimeout(timer.native);
    timer.callback();
  };
  const arm = (id, timer) => {
    timer.native = setTimeout(() => fire(id), Math.max(0, timer.due - now()));
  };
  window.realtimeClock = {
    now,
    setTimeout(callback, ms) {
      const id = next++;
      const timer = { due: now() + Math.max(0, Number(ms) || 0), callback, native: null };
      timers.set(id, timer);
      arm(id, timer);
      return id;
    },
    clearTimeout(id) {
      const timer = timers.get(id);
      if (timer === undefined) return;
      timers.delete(id);
      clearTimeout(timer.native);
    },
    // Move time on by `ms`; the number of timers that fired.
    advance(ms) {
      offset += ms;
      let fired = 0;
      while (fired < 10000) {
        const due = [...timers.entries()].filter(([, timer]) => timer.due <= now());
        if (due.length === 0) break;
        due.sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
        fire(due[0][0]);
        fired += 1;
      }
      for (const [id, timer] of timers) {
        clearTimeout(timer.native);
        arm(id, timer);
      }
      return fired;
    },
  };
})();
"""


def advance_clock(driver: WebDriver, ms: float) -> int:
    """Move the page's clock (`PAGE_CLOCK`) on by `ms`: how many of the client's timers fired."""
    return int(driver.execute_script("return window.realtimeClock.advance(arguments[0])", ms))


# Installed before any script of a page runs: every WebSocket the page makes, its URL (without the
# query) and how many are open at once, read back by `sockets()`.
SOCKET_COUNTER = """
(() => {
  const Native = window.WebSocket;
  const log = (window.__sockets = { urls: [], open: 0, mostOpen: 0 });
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      log.urls.push(String(url).split("?")[0]);
      let opened = false;
      this.addEventListener("open", () => {
        opened = true;
        log.open += 1;
        log.mostOpen = Math.max(log.mostOpen, log.open);
      });
      this.addEventListener("close", () => {
        if (opened) log.open -= 1;
      });
    }
  };
})();
"""


def count_sockets(driver: WebDriver) -> None:
    """From the next page on, `sockets(driver)` tells which WebSockets the page opened."""
    add_page_script(driver, SOCKET_COUNTER)


def sockets(driver: WebDriver) -> dict[str, Any]:
    """{"urls": [...], "open": N, "mostOpen": N}: the page's WebSockets (see `count_sockets`)."""
    return dict(driver.execute_script("return window.__sockets"))


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], Any], message: str) -> Any:
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(condition, message)


def hurry(driver: WebDriver, condition: Callable[[WebDriver], Any], message: str, *, step_ms: float) -> Any:
    """
    `wait_until(condition)`, moving the page's clock on by `step_ms` before each look: what the
    client waits for on a timer (a reconnect's backoff, a typist's expiry) happens at once.
    """
    return wait_until(driver, lambda d: advance_clock(d, step_ms) >= 0 and condition(d), message)


def sign_in(driver: WebDriver, server: LiveServer, username: str, password: str = PASSWORD) -> None:
    driver.get(f"{server.http_url}/")
    wait_until(driver, lambda d: d.find_elements(By.ID, "sign-in"), "the sign-in form")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(driver, lambda d: d.find_elements(By.ID, "username"), "the demo page")


def state(driver: WebDriver, which: str) -> str:
    return str(driver.find_element(By.ID, f"{which}-state").get_attribute("data-state"))


def comment_texts(driver: WebDriver) -> list[str]:
    """The bodies of the comments shown, in order (pending ones excluded)."""
    return [str(text) for text in driver.execute_script(
        "return [...document.querySelectorAll('#comments li[data-id] .body')].map(e => e.textContent)"
    )]  # fmt: skip


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
