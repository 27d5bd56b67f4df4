"""Something measured every few seconds in a thread, from entering a `with` block until leaving it."""

from __future__ import annotations

import threading
import time
from typing import Self


class Sampler:
    """Calls `sample()` at once and then every `interval` seconds, in a daemon thread, until the block ends."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def elapsed(self) -> float:
        """Seconds since the sampler was made."""
        return time.monotonic() - self._started

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return
