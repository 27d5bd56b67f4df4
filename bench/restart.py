"""
The reconnect storm of a rolling restart behind nginx (issue 16).

    python -m bench.restart [--clients 2000]

nginx from deploy/nginx/realtime.conf (tests/support/nginx.py swaps its ports and
paths) in front of two daphne processes on PostgreSQL and Redis, as
deploy/systemd starts them (`manage.py serve`, TRUSTED_PROXIES=127.0.0.1, the
server's default limits). `--clients` authenticated `/ws/notifications` clients,
each its own user, connect through nginx from many loopback addresses and
reconnect as the JavaScript client does (bench/clients/reconnecting.py). Each
process is then restarted in turn, as deploy/rolling-restart.sh does: SIGTERM,
started again on its port, waited for until its /readyz answers 200 and every
client is connected again (the processes' own /metrics say so). Reported per
restart: the clients it closed, and the time from the SIGTERM until each was
back (p50, p99, max: every client back), closes by code, handshake failures,
exceptions in the server logs.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.scaleout import CLIENT_PROCESSES, OUT
from bench.support import environment as env
from bench.support import servers
from bench.support.stats import percentile
from tests.support.nginx import start_nginx

SOURCE_ADDRESSES = 16  # loopback addresses per client process
BACK_TIMEOUT = 120.0


def serve(name: str, port: int, server_env: dict[str, str], work: Path) -> servers.Server:
    command = [sys.executable, "manage.py", "serve", "--port", str(port)]
    return servers.start(name, command, port, server_env, work)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def open_connections(pair: list[servers.Server]) -> int:
    """Open /ws/notifications connections, summed over the processes' own /metrics (README, Observing)."""
    total = 0.0
    for server in pair:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith('realtime_connections{endpoint="/ws/notifications"}'):
                    total += float(line.rsplit(" ", 1)[1])
    return int(total)


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not {what} within {timeout} s")
        time.sleep(0.1)


def restart_storm(clients: int) -> dict[str, Any]:
    seed = env.fresh_database(users=clients)
    server_env = {
        "DATABASE_URL": env.DATABASE_URL,
        "REDIS_URL": env.REDIS_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
        "TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_SERVE_STATIC": "off",
    }
    with env.workdir() as work:
        ports = [servers.free_port(), servers.free_port()]
        pair = [serve(f"daphne-{n}", port, server_env, work) for n, port in enumerate(ports)]
        static = work / "static"
        static.mkdir()
        proxy = start_nginx(work / "nginx", upstreams=ports, port=servers.free_port(), static_root=static)
        restarts: list[dict[str, Any]] = []
        logs: list[str] = []
        try:
            urls = [f"{proxy.ws_url}/ws/notifications?token={token}" for token in seed.tokens]
            shares = [urls[n::CLIENT_PROCESSES] for n in range(CLIENT_PROCESSES)]
            crowd = [
                env.spawn_client(
                    "bench.clients.reconnecting",
                    {
                        "urls": share,
                        "concurrency": 50,
                        "source_addresses": SOURCE_ADDRESSES,
                        "process": n,
                        "ready_file": str(work / f"crowd-{n}.ready"),
                        "result": str(work / f"crowd-{n}.json"),
                    },
                    work,
                    f"crowd-{n}",
                )
                for n, share in enumerate(shares)
            ]
            env.wait_for_files([work / f"crowd-{n}.ready" for n in range(CLIENT_PROCESSES)], 600, crowd)
            wait_until(lambda: open_connections(pair) == clients, 60, "every client connected")
            for n, port in enumerate(ports):
                before = open_connections([pair[n]])
                sigterm_at = time.monotonic()
                pair[n].process.send_signal(signal.SIGTERM)
                pair[n].process.wait(timeout=60)
                logs.append(pair[n].log_path.read_text(errors="replace"))
                pair[n] = serve(f"daphne-{n}-again", port, server_env, work)
                wait_until(lambda p=port: status(f"http://127.0.0.1:{p}/readyz") == 200, 60, "ready again")
                ready_at = time.monotonic()
                wait_until(lambda: open_connections(pair) == clients, BACK_TIMEOUT, "every client back")
                restarts.append({"port": port, "on_it": before, "sigterm_at": sigterm_at, "ready_at": ready_at})
            for process in crowd:
                process.send_signal(signal.SIGUSR1)
            for process in crowd:
                process.wait(timeout=120)
            results = [json.loads((work / f"crowd-{n}.json").read_text()) for n in range(CLIENT_PROCESSES)]
            logs += [server.log_path.read_text(errors="replace") for server in pair]
        finally:
            proxy.stop()
            for server in pair:
                server.stop()
    return summarise(clients, restarts, results, logs)


def summarise(
    clients: int, restarts: list[dict[str, Any]], results: list[dict[str, Any]], logs: list[str]
) -> dict[str, Any]:
    everyone = [client for result in results for client in result["clients"]]
    ends = [r["sigterm_at"] for r in restarts[1:]] + [float("inf")]
    storms = []
    for restart, end in zip(restarts, ends, strict=True):
        start = restart["sigterm_at"]
        back: list[float] = []
        codes: collections.Counter[str] = collections.Counter()
        for client in everyone:
            closed = [(at, code) for at, code in client["closes"] if start <= at < end]
            if not closed:
                continue
            codes.update(str(code) for _, code in closed)
            reopened = [at for at in client["opened"] if at > closed[0][0]]
            back.append((reopened[0] if reopened else float("inf")) - start)
        storms.append(
            {
                "clients_closed": len(back),
                "clients_on_the_process": restart["on_it"],
                "closes_by_code": dict(codes),
                "ready_after_s": round(restart["ready_at"] - start, 2),
                "back_p50_s": round(percentile(back, 0.5), 3),
                "back_p99_s": round(percentile(back, 0.99), 3),
                "every_client_back_s": round(max(back), 3),
            }
        )
    failures: collections.Counter[str] = collections.Counter()
    for result in results:
        failures.update(result["failures"])
    return {
        "scenario": "restart",
        "clients": clients,
        "restarts": storms,
        "handshake_failures": dict(failures),
        "server_exceptions": sum(log.count("Traceback (most recent call last)") for log in logs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = restart_storm(args.clients)
    print(json.dumps(result, indent=2))
    (OUT / "restart.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
