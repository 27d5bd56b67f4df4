"""
The tutorial (docs/tutorial.md), followed as its reader follows it: this
checkout pip-installed into a fresh virtualenv, `django-admin startproject
mysite`, every block of the page written where its first line says, in the
page's order, with the page's commands between them; then plain
`daphne mysite.asgi:application` and headless Chromium, signed in through the
admin, on the status board the tutorial builds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.conftest import BROWSER_MISSING, browser_installed, forget_test, new_browser, wait_until
from tests.packaging.test_host_site import COMMAND_TIMEOUT, HOST_ENVIRONMENT, INSTALL_TIMEOUT, HostSite, plain_daphne
from tests.support.docs import DOCS, block, blocks

PAGE = DOCS / "tutorial.md"
# The page's commands, in its order. The fixtures run each (`source` as the virtualenv's own paths, `cd`
# as their working directory, the checkout's path for the placeholder, `createsuperuser` without prompts).
COMMANDS = [
    "python3 -m venv .venv",
    "source .venv/bin/activate",
    "pip install /path/to/this/checkout",
    "django-admin startproject mysite",
    "cd mysite",
    "python manage.py migrate",
    "python manage.py createsuperuser",
    "python manage.py startapp status",
    "python manage.py check",
    "daphne mysite.asgi:application",
]
# The page's blocks, by their first line, in its order: before `migrate`, then after `startapp status`.
SITE_BLOCKS = ["# mysite/settings.py (append)", "# mysite/asgi.py (replace)", "# mysite/urls.py (append)"]
STATUS_BLOCKS = [
    "# status/topics.py (new)",
    "# status/services.py (new)",
    "# status/apps.py (replace)",
    "# status/views.py (replace)",
    "# status/urls.py (new)",
    "<!-- status/templates/status/board.html (new) -->",
    "# mysite/settings.py (append, for the status app)",
    "# mysite/urls.py (append, for the status app)",
]
# Which README block each of the tutorial's first three is (README, "Add it to your Django site").
README_BLOCKS = {
    "# mysite/settings.py (append)": "# settings.py (append)",
    "# mysite/asgi.py (replace)": "# asgi.py (replace)",
    "# mysite/urls.py (append)": "# urls.py (append)",
}
# A block's first line: the file, from the folder of manage.py, and how the block goes into it.
FIRST_LINE = re.compile(r"^(?:#|<!--) (?P<path>\S+) \((?P<how>new|replace|append)\b[^)]*\)")
# The tutorial's user (createsuperuser), the board it opens and the line it publishes, as the page shows it.
USERNAME, PASSWORD = "admin", "the tutorial's password"
BOARD = "/status/deploys/"
LINE = "Deploy started"
SHOWN = f"{USERNAME}: {LINE}"
CLIENT = "/static/realtime/client.js"


def shell_commands() -> list[str]:
    """Every command of the page's `sh` blocks, without its comment."""
    return [
        re.sub(r"\s+#.*", "", line).strip()
        for each in blocks(PAGE)
        if each.language == "sh"
        for line in each.text.splitlines()
        if line.strip()
    ]


def follow(root: Path, first_line: str) -> None:
    """Put the page's block that opens with `first_line` into the file it names, as its first line says."""
    text = block(PAGE, first_line)
    marker = FIRST_LINE.match(first_line)
    assert marker is not None, f"{first_line!r} names no file and no way in (new, replace, append)"
    path, how = root / marker["path"], marker["how"]
    if how == "append":
        assert path.is_file(), f"{first_line}: there is no {path} to append to"
        with path.open("a") as appended:
            appended.write("\n" + text)
        return
    assert path.exists() == (how == "replace"), f"{first_line}: {path} {'is missing' if how == 'replace' else 'exists'}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run(*command: str, cwd: Path, timeout: float = COMMAND_TIMEOUT, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command, cwd=cwd, env={**HOST_ENVIRONMENT, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def tutorial_site(tmp_path_factory: pytest.TempPathFactory) -> HostSite:
    """The site at the end of the tutorial's step 3, made as the page says."""
    base = tmp_path_factory.mktemp("tutorial")
    run(sys.executable, "-m", "venv", ".venv", cwd=base)
    bin_dir = base / ".venv" / "bin"
    run(str(bin_dir / "pip"), "install", "--quiet", str(settings.BASE_DIR), cwd=base, timeout=INSTALL_TIMEOUT)
    run(str(bin_dir / "django-admin"), "startproject", "mysite", cwd=base)
    site = HostSite(base / "mysite", bin_dir / "python")
    for first_line in SITE_BLOCKS:
        follow(site.root, first_line)
    site.manage("migrate", "--noinput")
    superuser = ("createsuperuser", "--noinput", "--username", USERNAME, "--email", "admin@example.com")
    run(str(site.python), "manage.py", *superuser, cwd=site.root, env={"DJANGO_SUPERUSER_PASSWORD": PASSWORD})
    site.manage("startapp", "status")
    for first_line in STATUS_BLOCKS:
        follow(site.root, first_line)
    return site


@pytest.fixture(scope="module")
def tutorial_daphne(tutorial_site: HostSite) -> Iterator[str]:
    """`daphne mysite.asgi:application`, on a free port: the address it serves."""
    with plain_daphne(tutorial_site, "daphne.log") as (_, port, log_path):
        yield f"127.0.0.1:{port}"
    assert "Exception inside application" not in log_path.read_text()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the module (tests/browser/conftest.py decides, there, when it may be missing)."""
    if not browser_installed():
        if os.environ.get("REALTIME_REQUIRE_BROWSER"):
            pytest.fail(f"REALTIME_REQUIRE_BROWSER is set but {BROWSER_MISSING}")
        pytest.skip(BROWSER_MISSING)
    driver = new_browser(tmp_path_factory.mktemp("profile"))
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium: WebDriver) -> Iterator[WebDriver]:
    """The module's Chromium, signed out, with one tab, for each test."""
    yield chromium
    for handle in chromium.window_handles[1:]:
        chromium.switch_to.window(handle)
        chromium.close()
    chromium.switch_to.window(chromium.window_handles[0])
    forget_test(chromium)


def sign_in_on_the_board(driver: WebDriver, address: str) -> None:
    """Step 4: open the board, sign in on the admin's page it sends you to, and land back on the board."""
    driver.get(f"http://{address}{BOARD}")
    wait_until(driver, lambda d: d.find_elements(By.ID, "id_username"), "the admin's sign-in page")
    driver.find_element(By.ID, "id_username").send_keys(USERNAME)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_until(driver, lambda d: d.find_elements(By.ID, "lines"), "the board, after signing in")


def live(driver: WebDriver) -> None:
    wait_until(driver, lambda d: d.find_element(By.ID, "state").text == "subscribed", "Live: subscribed")


def lines(driver: WebDriver) -> list[str]:
    return [str(text) for text in driver.execute_script(
        "return [...document.querySelectorAll('#lines li')].map((line) => line.textContent)"
    )]  # fmt: skip


def shown(driver: WebDriver) -> list[str]:
    """The board's lines, once there are any."""
    wait_until(driver, lambda d: lines(d), f"{SHOWN!r} on the board")
    return lines(driver)


@pytest.mark.packaging
def test_the_tutorials_site_passes_manage_py_check(tutorial_site: HostSite) -> None:
    result = tutorial_site.manage("check")
    assert (result.stdout.strip(), result.stderr.strip()) == ("System check identified no issues (0 silenced).", "")


@pytest.mark.packaging
@pytest.mark.browser
def test_the_board_loads_the_client_from_static_and_goes_live(browser: WebDriver, tutorial_daphne: str) -> None:
    sign_in_on_the_board(browser, tutorial_daphne)
    live(browser)
    statuses = browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((entry) => new URL(entry.name).pathname === arguments[0]).map((entry) => entry.responseStatus)",
        CLIENT,
    )
    assert statuses == [200]


@pytest.mark.packaging
@pytest.mark.browser
def test_a_line_published_in_one_window_shows_in_both(browser: WebDriver, tutorial_daphne: str) -> None:
    sign_in_on_the_board(browser, tutorial_daphne)
    live(browser)
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(f"http://{tutorial_daphne}{BOARD}")
    live(browser)
    browser.find_element(By.NAME, "text").send_keys(LINE)
    browser.find_element(By.TAG_NAME, "button").click()
    assert shown(browser) == [SHOWN]
    browser.switch_to.window(first)
    assert shown(browser) == [SHOWN]
