"""
Real headless Chromium (Debian's `chromium` and `chromium-driver`) driven by
selenium against a live daphne. Skipped, saying why, when no browser is
installed; `.ci/run` installs one and sets REALTIME_REQUIRE_BROWSER, so CI never
skips them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
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


@pytest.fixture
def demo_server(django_db_setup: None, log_dir: Path) -> Iterator[LiveServer]:
    server = start_daphne(log_dir)
    yield server
    server.stop()


@pytest.fixture
def open_browser(tmp_path: Path) -> Iterator[Callable[[], WebDriver]]:
    """Starts headless Chromiums, each with its own profile (so its own session); quits them all after."""
    drivers: list[WebDriver] = []

    def start() -> WebDriver:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{len(drivers)}'}")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()
    for profile in tmp_path.glob("profile-*"):
        shutil.rmtree(profile, ignore_errors=True)


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
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SOCKET_COUNTER})


def sockets(driver: WebDriver) -> dict[str, Any]:
    """{"urls": [...], "open": N, "mostOpen": N}: the page's WebSockets (see `count_sockets`)."""
    return dict(driver.execute_script("return window.__sockets"))


def wait_until(driver: WebDriver, condition: Callable[[WebDriver], Any], message: str) -> Any:
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.05).until(condition, message)


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
