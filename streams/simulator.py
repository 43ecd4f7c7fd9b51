"""Publish simulated device events into the ingest stream at a steady rate."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from domain.simulation import EventFactory
from streams.ingest import append_events

__all__ = ["Simulator"]

log = logging.getLogger(__name__)


class Simulator:
    """Send ``rate`` events per second, in small pipelined batches ten times a second."""

    def __init__(
        self,
        client: redis.Redis,
        factory: EventFactory,
        stream: str,
        *,
        rate: float,
        maxlen: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._r = client
        self._factory = factory
        self._stream = stream
        self.rate = rate
        self.maxlen = maxlen
        self._clock = clock
        self._stop = threading.Event()
        self.sent = 0

    def send(self, n: int) -> int:
        """Publish n events now; return how many were sent."""
        raws = [self._factory.next_event().to_json() for _ in range(n)]
        append_events(self._r, self._stream, raws, maxlen=self.maxlen)
        self.sent += n
        return n

    def run(self, limit: int | None = None) -> None:
        """Send at the configured rate until stop() (or until ``limit`` events were sent)."""
        tick = 0.1
        start = self._clock()
        while not self._stop.is_set() and (limit is None or self.sent < limit):
            due = int((self._clock() - start) * self.rate) - self.sent
            if limit is not None:
                due = min(due, limit - self.sent)
            if due > 0:
                try:
                    self.send(min(due, max(1, int(self.rate))))
                except redis.RedisError as exc:
                    log.warning("simulator cannot reach redis (%s); waiting", exc)
                    self._stop.wait(1.0)
                    start = self._clock() - self.sent / self.rate if self.rate else self._clock()
                    continue
            self._stop.wait(tick)

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()
