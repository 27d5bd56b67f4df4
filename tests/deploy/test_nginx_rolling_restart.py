"""
The deployment docs/how-to/deploy-behind-nginx.md recommends, run for real: nginx from deploy/nginx/realtime.conf
(its ports and paths swapped for temporary ones) in front of two daphne processes
on PostgreSQL and Redis, as realtime@.service starts them (`manage.py serve`).

Under a steady comment load, with watchers on both processes, each process is
restarted in turn (SIGTERM, then started again on its port): every watcher
reconnects through nginx and ends with every comment once, in order; every
acknowledged comment is stored once; and `/readyz` through nginx never answers
200 from a process that had begun to stop (nginx's access log says which
process answered each request, and when).
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from comments.models import Comment, Post
from realtime.auth.tokens import issue_token
from tests.scaleout.test_faults_under_load import assert_no_crash
from tests.support.http import get
from tests.support.live import LiveServer, free_port, start_daphne
from tests.support.nginx import Nginx, start_nginx
from tests.support.resilient import Acks, Follower, Progress, Writer
from tests.support.scrape import scrape, value

pytestmark = [pytest.mark.wire, pytest.mark.services, pytest.mark.nginx, pytest.mark.django_db(transaction=True)]

WRITERS = 4
WATCHERS = 16
WATCHERS_PER_USER = 4
ACKS_PER_PHASE = 15
DEADLINE = 60.0
READINESS_POLL = 0.05
SERVER_ENV = {"TRUSTED_PROXIES": "127.0.0.1", "DJANGO_SERVE_STATIC": "off"}
STOPPING = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO realtime\.lifecycle Stopping", re.MULTILINE)
ACCESS = re.compile(
    r' (?P<msec>\d+\.\d{3}) "GET /readyz HTTP/1\.1" (?P<status>\d{3}) .*'
    r"upstream=(?P<upstreams>[^ ]+(?:, [^ ]+)*) upstream_status=.* request_time=(?P<took>[\d.]+)$"
)
COMMENTS_ENDPOINT = {"endpoint": "/ws/live-comments/<post_id>"}


@dataclass
class Restart:
    port: int
    stopping_at: float  # the old process's own record of when it began to stop
    started_at: float  # just before the new process was started
    old_log: str  # the old process's log (the new one writes to the same file)


@pytest.fixture
def deployment(log_dir: Path, tmp_path: Path) -> Iterator[tuple[Nginx, list[LiveServer]]]:
    servers = [start_daphne(log_dir, env=SERVER_ENV), start_daphne(log_dir, env=SERVER_ENV)]
    static = tmp_path / "static"
    (static / "realtime").mkdir(parents=True)
    (static / "realtime" / "probe.txt").write_text("collected\n")
    proxy = start_nginx(tmp_path / "nginx", upstreams=[s.port for s in servers], port=free_port(), static_root=static)
    yield proxy, servers
    proxy.stop()
    for server in servers:
        server.stop()


class ReadinessPoller:
    """GET /readyz through nginx every READINESS_POLL seconds, in a thread, until stopped."""

    def __init__(self, proxy: Nginx) -> None:
        self.statuses: list[int] = []
        self._proxy = proxy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ReadinessPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(READINESS_POLL):
            self.statuses.append(get(f"{self._proxy.http_url}/readyz").status)


def stopping_at(log: str) -> float:
    """When the process logged that it began to stop (its log's local time, as epoch seconds)."""
    found = STOPPING.findall(log)
    assert len(found) == 1, f"one stop logged, got {found}"
    return datetime.strptime(found[0], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def readiness_answers(proxy: Nginx) -> list[tuple[float, int, int]]:
    """(start of the request, status, port of the process that answered last) of every /readyz through nginx."""
    answers = []
    for line in proxy.access_log.read_text().splitlines():
        match = ACCESS.search(line)
        if match:
            last = match["upstreams"].split(", ")[-1]
            answered_by = int(last.rsplit(":", 1)[1]) if ":" in last else 0
            answers.append((float(match["msec"]) - float(match["took"]), int(match["status"]), answered_by))
    return answers


def until_ready(server: LiveServer) -> None:
    """Wait until the process's own /readyz answers 200, as deploy/rolling-restart.sh does."""
    deadline = time.monotonic() + DEADLINE
    while get(f"{server.http_url}/readyz").status != 200:
        assert time.monotonic() < deadline, f"{server.http_url} not ready within {DEADLINE} s"
        time.sleep(0.1)


async def restart(server: LiveServer, log_dir: Path) -> tuple[LiveServer, Restart]:
    server.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(server.process.wait, 30)
    old_log = server.log()
    started_at = time.time()
    again = await asyncio.to_thread(start_daphne, log_dir, env=SERVER_ENV, port=server.port)
    await asyncio.to_thread(until_ready, again)
    return again, Restart(server.port, stopping_at(old_log), started_at, old_log)


async def test_a_rolling_restart_behind_nginx_loses_and_duplicates_nothing(
    deployment: tuple[Nginx, list[LiveServer]], post: Post, django_user_model: Any, log_dir: Path
) -> None:
    proxy, servers = deployment
    url = f"{proxy.ws_url}/ws/live-comments/{post.pk}?token="
    writers_users = [await django_user_model.objects.acreate(username=f"writer{n}") for n in range(WRITERS)]
    watcher_users = [
        await django_user_model.objects.acreate(username=f"watcher{n}") for n in range(WATCHERS // WATCHERS_PER_USER)
    ]
    progress = Progress()
    acks = Acks(progress)
    stop_writing = asyncio.Event()
    writers = [Writer(url + issue_token(user), f"w{n}", acks) for n, user in enumerate(writers_users)]
    watchers = [Follower(url + issue_token(watcher_users[n // WATCHERS_PER_USER]), progress) for n in range(WATCHERS)]
    writing = [asyncio.create_task(writer.run(stop_writing)) for writer in writers]
    watching = [asyncio.create_task(watcher.run()) for watcher in watchers]
    restarts: list[Restart] = []
    with ReadinessPoller(proxy) as readiness:
        async with asyncio.timeout(DEADLINE):
            await progress.until(lambda: all(w.connections for w in watchers))
            await acks.reach(ACKS_PER_PHASE)
        watched = [value(scrape(server), "realtime_connections", COMMENTS_ENDPOINT) for server in servers]
        for n, server in enumerate(list(servers)):
            servers[n], restarted = await restart(server, log_dir)
            restarts.append(restarted)
            async with asyncio.timeout(DEADLINE):
                await acks.reach(len(acks.ids) + ACKS_PER_PHASE)
        stop_writing.set()
        await asyncio.wait_for(asyncio.gather(*writing), timeout=DEADLINE)
        expected = [pk async for pk in Comment.objects.filter(post=post).order_by("id").values_list("id", flat=True)]
        try:
            async with asyncio.timeout(DEADLINE):
                await progress.until(lambda: all(len(w.seen) >= len(expected) for w in watchers))
        finally:
            await asyncio.gather(*(watcher.stop() for watcher in watchers))
            await asyncio.wait_for(asyncio.gather(*watching), timeout=DEADLINE)

    assert all(count > 0 for count in watched), f"watchers on both processes: {watched}"
    assert sorted(acks.ids.values()) == expected  # every ack stored, once; nothing stored unacknowledged
    assert [w.seen for w in watchers] == [expected] * WATCHERS  # every comment, once, in order
    assert all(w.connections >= 2 for w in watchers)  # each was on a restarted process and came back
    late = [
        (started, port)
        for started, status, port in readiness_answers(proxy)
        for r in restarts
        if status == 200 and port == r.port and r.stopping_at < started < r.started_at
    ]
    assert late == []  # no 200 from a process that had begun to stop
    assert readiness.statuses.count(200) > 0
    assert get(f"{proxy.http_url}/static/realtime/probe.txt").body == b"collected\n"
    assert (get(f"{proxy.http_url}/metrics").status, get(f"{servers[0].http_url}/metrics").status) == (404, 200)
    assert_no_crash((servers[0], servers[1]))
    assert [r.old_log.count("Exception inside application") for r in restarts] == [0, 0]
