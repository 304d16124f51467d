"""Keeping an anycast service up during a deploy: servers whose change restarts or reloads BGP
take turns, at most `batch` at a time, each waiting until its session is back before the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class BgpGate:
    """A counting gate shared by the deploy threads of one run."""

    def __init__(self, batch: int = 1, settle_timeout: float = 30.0) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        self.batch = batch
        self.settle_timeout = settle_timeout
        self._sem = threading.Semaphore(batch)
        self.log: list[tuple[str, float, float]] = []  # (host, entered, left), monotonic
        self._lock = threading.Lock()

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        """Hold one of the `batch` places while `host` changes its BGP speaker."""
        with self._sem:
            entered = time.monotonic()
            try:
                yield
            finally:
                with self._lock:
                    self.log.append((host, entered, time.monotonic()))

    def wait_until(self, established: Callable[[], bool], interval: float = 0.25) -> bool:
        """Poll `established` until it answers True or settle_timeout passes."""
        deadline = time.monotonic() + self.settle_timeout
        while True:
            if established():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
