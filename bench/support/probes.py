"""
HTTP as a benchmark's probes speak it: one HTTP/1.0 request per connection (no keep-alive, no chunked
answers), its status and body, and a server's `/metrics` read as samples.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

# A sample of the Prometheus text format: name, {labels} (optional), value.
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
NO_ANSWER = 0  # the status of a request the server did not answer (dropped, reset, timed out)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


async def get(port: int, path: str, headers: dict[str, str] | None = None, *, patience: float = 30) -> Answer:
    """GET `path` of 127.0.0.1:`port`; status NO_ANSWER when the server dropped it or took longer than `patience`."""
    lines = [f"GET {path} HTTP/1.0", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    try:
        async with asyncio.timeout(patience):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
                answer = await reader.read()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return Answer(NO_ANSWER, b"")
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b""
    return Answer(int(status) if status.isdigit() else NO_ANSWER, body)


async def metrics(port: int) -> list[Sample]:
    """The samples of the server's `/metrics` (read from loopback, which needs no token)."""
    answer = await get(port, "/metrics")
    if answer.status != 200:
        raise RuntimeError(f"/metrics answered {answer.status}")
    samples = []
    for line in answer.body.decode().splitlines():
        if (match := SAMPLE.match(line)) is not None:
            name, labels, value = match.groups()
            samples.append(Sample(name, dict(LABEL.findall(labels or "")), float(value)))
    return samples


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())
