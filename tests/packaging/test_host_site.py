"""
The apps in a site that is not this repository's, as a new user gets them:
`django-admin startproject`, this checkout `pip install`ed into a fresh
virtualenv, README's three blocks appended (read from README.md, so the docs
cannot drift), then plain daphne and a real client on every endpoint, and the
testing page's example run by the site's own pytest.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.docs import block
from tests.support.live import free_port, wait_until_listening

pytestmark = pytest.mark.packaging

README = Path(settings.BASE_DIR) / "README.md"
BLOCK_HEADS = ("# settings.py (append)", "# asgi.py (replace)", "# urls.py (append)")
INSTALL_TIMEOUT = 600
COMMAND_TIMEOUT = 120
RECEIVE_TIMEOUT = 10.0
USERNAME, PASSWORD = "hostuser", "a host site's password"
TESTING_PAGE = "docs/how-to/testing.md"
TESTING_INSTALL = 'pip install "/path/to/this/checkout[testing]"'
CHECKOUT_ON_THE_PAGE = "/path/to/this/checkout"
# The host site's processes see nothing of this test run's environment (its settings module, its database).
HOST_ENVIRONMENT = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG", "TMPDIR")}


def readme_blocks() -> dict[str, str]:
    """The README's three copy-paste blocks, by their first line (PROTOCOL.md, "Adding it to a Django site")."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    found = {block.splitlines()[0]: block for block in blocks if block.splitlines()[0] in BLOCK_HEADS}
    assert sorted(found) == sorted(BLOCK_HEADS), f"README.md must have the blocks {BLOCK_HEADS}"
    return found


@dataclass
class HostSite:
    root: Path
    python: Path

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.python), "manage.py", *args],
            cwd=self.root,
            env=HOST_ENVIRONMENT,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", textwrap.dedent(code)).stdout.strip()

    def site_packages(self) -> Path:
        (found,) = (self.python.parent.parent / "lib").glob("python3.*/site-packages")
        return found


def run(*command: str) -> None:
    result = subprocess.run(command, env=HOST_ENVIRONMENT, capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def host_site(tmp_path_factory: pytest.TempPathFactory) -> HostSite:
    base = tmp_path_factory.mktemp("host")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(settings.BASE_DIR))
    root = base / "site"
    root.mkdir()
    run(str(venv / "bin" / "django-admin"), "startproject", "mysite", str(root))
    blocks = readme_blocks()
    package = root / "mysite"
    with (package / "settings.py").open("a") as appended:
        appended.write("\n" + blocks["# settings.py (append)"])
    (package / "asgi.py").write_text(blocks["# asgi.py (replace)"])
    with (package / "urls.py").open("a") as appended:
        appended.write("\n" + blocks["# urls.py (append)"])
    site = HostSite(root, python)
    site.manage("migrate", "--noinput")
    site.shell(
        f"""
        from django.contrib.auth.models import User
        from comments.models import Post
        User.objects.create_user({USERNAME!r}, password={PASSWORD!r}, is_staff=True)
        Post.objects.create(title="A post of the host site")
        """
    )
    return site


@contextlib.contextmanager
def plain_daphne(site: HostSite, log_name: str) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`daphne mysite.asgi:application` in `site`, on a free port, its output in `log_name`; stopped after."""
    port = free_port()
    log_path = site.root / log_name
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(site.python.parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "mysite.asgi:application"],
            cwd=site.root,
            env=HOST_ENVIRONMENT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_listening(process, "127.0.0.1", port, log_path)
        yield process, port, log_path
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def host_daphne(host_site: HostSite) -> Iterator[str]:
    with plain_daphne(host_site, "daphne.log") as (_, port, log_path):
        yield f"127.0.0.1:{port}"
    assert "Exception inside application" not in log_path.read_text()


def test_pip_install_ships_the_three_apps_and_nothing_of_this_site(host_site: HostSite) -> None:
    installed = host_site.site_packages()
    assert [name for name in ("realtime", "notifications", "comments") if not (installed / name).is_dir()] == []
    assert [name for name in ("project", "demo", "bench", "tests") if (installed / name).exists()] == []
    shipped = [
        "realtime/static/realtime/client.js",
        "realtime/static/realtime/client.d.ts",
        "notifications/templates/admin/notifications/send_notification.html",
        "notifications/migrations/0001_initial.py",
        "comments/migrations/0001_initial.py",
        "realtime/py.typed",
    ]
    assert [path for path in shipped if not (installed / path).is_file()] == []


def test_the_three_blocks_leave_manage_py_check_clean(host_site: HostSite) -> None:
    result = host_site.manage("check")
    assert (result.stdout.strip(), result.stderr.strip()) == ("System check identified no issues (0 silenced).", "")


def test_the_hosts_user_admin_is_its_own_and_nothing_is_patched(host_site: HostSite) -> None:
    seen = host_site.shell(
        """
        import logging
        from django.contrib import admin
        from django.contrib.auth.models import User
        from daphne.ws_protocol import WebSocketFactory
        print(type(admin.site._registry[User]).__module__, type(admin.site._registry[User]).__name__)
        print(logging.getLogRecordFactory() is logging.LogRecord)
        print(hasattr(WebSocketFactory, "closes_failed_connections_with_a_code"))
        """
    )
    assert seen.splitlines() == ["django.contrib.auth.admin UserAdmin", "True", "False"]


def signed_in_token(address: str) -> str:
    """A token from the host's token endpoint, for a user signed in through the admin's login page."""
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    page = opener.open(f"http://{address}/admin/login/", timeout=RECEIVE_TIMEOUT).read().decode()
    (form_token,) = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    login = urllib.parse.urlencode(
        {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": form_token, "next": "/admin/"}
    )
    opener.open(f"http://{address}/admin/login/", data=login.encode(), timeout=RECEIVE_TIMEOUT)
    csrf = next(cookie.value for cookie in cookies if cookie.name == "csrftoken")
    request = urllib.request.Request(
        f"http://{address}/realtime/token/", data=b"", method="POST", headers={"X-CSRFToken": csrf or ""}
    )
    with opener.open(request, timeout=RECEIVE_TIMEOUT) as response:
        answer: dict[str, Any] = json.loads(response.read())
    assert sorted(answer) == ["expires_at", "expires_in", "token"]
    token: str = answer["token"]
    return token


async def frame_of_type(ws: Any, wanted: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=RECEIVE_TIMEOUT))
        if frame["type"] == wanted:
            return frame


async def test_a_notify_user_push_reaches_ws_notifications(host_site: HostSite, host_daphne: str) -> None:
    token = await asyncio.to_thread(signed_in_token, host_daphne)
    async with connect(f"ws://{host_daphne}/ws/notifications?token={token}") as ws:
        await ws.send('{"type":"ping"}')
        assert await frame_of_type(ws, "pong") == {"type": "pong"}
        await asyncio.to_thread(
            host_site.shell,
            f"""
            from django.contrib.auth.models import User
            from notifications.services import notify_user
            notify_user(User.objects.get(username={USERNAME!r}), {{"text": "from the host"}})
            """,
        )
        notification = await frame_of_type(ws, "notification")
    assert notification["payload"] == {"text": "from the host"}


async def test_a_comment_over_ws_live_comments_is_acknowledged_and_broadcast(
    host_site: HostSite, host_daphne: str
) -> None:
    token = await asyncio.to_thread(signed_in_token, host_daphne)
    post_id = await asyncio.to_thread(host_site.shell, "from comments.models import Post; print(Post.objects.get().pk)")
    async with connect(f"ws://{host_daphne}/ws/live-comments/{post_id}?token={token}") as ws:
        await ws.send(json.dumps({"type": "new_comment", "body": "Hello from a host site", "client_id": "host-1"}))
        ack = await frame_of_type(ws, "comment_created")
        comment = await frame_of_type(ws, "comment")
    assert ack == {"type": "comment_created", "comment_id": comment["comment"]["id"], "client_id": "host-1"}
    assert (comment["comment"]["author"], comment["comment"]["body"]) == (USERNAME, "Hello from a host site")


def test_plain_daphne_serves_the_javascript_client_and_the_admins_styles(host_site: HostSite, host_daphne: str) -> None:
    shipped = (host_site.site_packages() / "realtime/static/realtime/client.js").read_bytes()
    with urllib.request.urlopen(f"http://{host_daphne}/static/realtime/client.js", timeout=RECEIVE_TIMEOUT) as client:
        assert (client.status, client.read()) == (200, shipped)
    with urllib.request.urlopen(f"http://{host_daphne}/static/admin/css/base.css", timeout=RECEIVE_TIMEOUT) as styles:
        assert styles.status == 200


@pytest.fixture
def stopped_daphne(host_site: HostSite) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """A daphne of the host site's own, for a test that stops it."""
    with plain_daphne(host_site, "daphne-sigterm.log") as started:
        yield started


async def test_sigterm_closes_the_host_sites_idle_connections_with_4012(
    stopped_daphne: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    """Plain daphne with README's asgi.py block: idle connections get their 4012, none a 1006."""
    process, port, log_path = stopped_daphne
    token = await asyncio.to_thread(signed_in_token, f"127.0.0.1:{port}")
    idle = [
        await connect(f"ws://127.0.0.1:{port}{path}")
        for path in (f"/ws/notifications?token={token}", f"/ws/?token={token}")
    ]
    await asyncio.sleep(1.5)  # idle, and daphne's housekeeping has let go of every other connection
    process.send_signal(signal.SIGTERM)
    codes = [await asyncio.wait_for(closed_with(ws), timeout=RECEIVE_TIMEOUT) for ws in idle]
    await asyncio.to_thread(process.wait, 10)
    assert codes == [4012, 4012]
    assert "Exception inside application" not in log_path.read_text()


async def closed_with(ws: Any) -> int:
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


def example_test_names(source: str) -> list[str]:
    tree = ast.parse(source)
    defined = [node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    return [name for name in defined if name.startswith("test_")]


def test_the_testing_pages_example_passes_in_the_host_site_with_no_warning(host_site: HostSite) -> None:
    """docs/how-to/testing.md as a user follows it: its install line, pytest.ini and test file, then pytest."""
    install = shlex.split(block(TESTING_PAGE, TESTING_INSTALL).strip())
    assert install[:2] == ["pip", "install"]
    packages = [argument.replace(CHECKOUT_ON_THE_PAGE, str(settings.BASE_DIR)) for argument in install[2:]]
    run(str(host_site.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages)
    (host_site.root / "pytest.ini").write_text(block(TESTING_PAGE, "# pytest.ini (host site)"))
    example = block(TESTING_PAGE, "# tests/test_realtime.py (host site)")
    (host_site.root / "tests").mkdir()
    (host_site.root / "tests" / "test_realtime.py").write_text(example)
    result = subprocess.run(
        [str(host_site.python), "-m", "pytest", "-W", "error", "-p", "no:cacheprovider"],
        cwd=host_site.root,
        env=HOST_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    output = result.stdout + result.stderr
    summary = re.sub(r" in [\d.]+s", "", (result.stdout.strip().splitlines() or [""])[-1]).strip("= ")
    assert (result.returncode, summary) == (0, f"{len(example_test_names(example))} passed"), output
    assert "warning" not in output.lower(), output
