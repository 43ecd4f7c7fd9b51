"""A periodic job that one process at a time runs, under a Redis lease (the MapAggregator's pattern)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

import redis

from streams.lease import Lease

__all__ = ["LeasedLoop", "utc_now"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class LeasedLoop(Generic[T]):
    """Call ``work(now)`` every interval while holding the lease; subclasses say what the work is."""

    name = "leased loop"

    def __init__(
        self,
        client: redis.Redis,
        lease_key: str,
        *,
        owner: str,
        interval_s: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._stop = threading.Event()
        # Several missed renewals before another process takes over: a slow tick is not a dead one.
        self._lease = Lease(client, lease_key, owner, int(max(3.0, interval_s * 4) * 1000))

    def run(self) -> None:
        """Tick every interval until stop(); survive Redis and database outages."""
        while not self._stop.is_set():
            started = self._clock()
            try:
                self.tick()
            except redis.RedisError as exc:
                log.warning("%s tick failed: %s", self.name, exc)
                self.forget()
            except Exception:
                log.exception("%s tick failed", self.name)
                self.forget()
            elapsed = (self._clock() - started).total_seconds()
            self._stop.wait(max(0.0, self.interval_s - elapsed))

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.is_set()

    def tick(self) -> T | None:
        """Do one round of work if we hold the lease; None if another process does."""
        if not self._lease.hold():
            self.forget()
            return None
        return self.work(self._clock())

    def work(self, now: datetime) -> T:
        """One round of the job."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop what was cached: another process may have worked since (override when there is a cache)."""
