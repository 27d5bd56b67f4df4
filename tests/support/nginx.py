"""
nginx from deploy/nginx/realtime.conf, as an operator runs it, with its ports and
paths swapped for a test's or a benchmark's: the upstream's servers, the port it
listens on, the static root and the access log. Run in the foreground with a
prefix, pid file and logs of its own. Imports nothing of Django (benchmarks use it too).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "realtime.conf"
STARTUP_TIMEOUT = 10.0
UPSTREAM_SERVER = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+( [^\n]*;)$", re.MULTILINE)
# What an operator changes in the site's file, and what a test puts instead (format fields).
SWAPS = {
    "    listen 80;": "    listen 127.0.0.1:{port};",
    "alias /srv/realtime/staticfiles/;": "alias {static_root}/;",
    "access_log /var/log/nginx/realtime.access.log realtime;": "access_log {access_log} realtime;",
}
MAIN = """\
{user}
worker_processes 1;
worker_rlimit_nofile 16384;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
daemon off;
events {{ worker_connections 16384; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/realtime.conf;
}}
"""


def nginx_binary() -> str | None:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


def site_config(*, upstreams: list[int], port: int, static_root: Path, access_log: Path) -> str:
    """deploy/nginx/realtime.conf with `upstreams` as its servers and the test's port and paths."""
    text = SITE.read_text()
    servers = UPSTREAM_SERVER.findall(text)
    assert len(servers) == 2, f"{SITE}: expected the upstream's two server lines, found {servers}"
    indent, options = servers[0]
    lines = "\n".join(f"{indent}server 127.0.0.1:{upstream}{options}" for upstream in upstreams)
    text = UPSTREAM_SERVER.sub("", text, count=1)
    text = UPSTREAM_SERVER.sub(lines, text, count=1)
    values = {"port": port, "static_root": static_root, "access_log": access_log}
    for original, swapped in SWAPS.items():
        assert text.count(original) == 1, f"{SITE} no longer has {original!r} once"
        text = text.replace(original, swapped.format(**values))
    return text


@dataclass
class Nginx:
    prefix: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: open connections finish
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(prefix: Path, *, upstreams: list[int], port: int, static_root: Path) -> Nginx:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed: apt-get install nginx")
    prefix.mkdir(parents=True, exist_ok=True)
    site = site_config(upstreams=upstreams, port=port, static_root=static_root, access_log=prefix / "access.log")
    (prefix / "realtime.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""  # workers read the test's private directories
    (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix, user=user))
    command = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    with (prefix / "nginx.out").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = Nginx(prefix, port, process)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{(prefix / 'nginx.out').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"nginx did not listen on {port} within {STARTUP_TIMEOUT} s")
