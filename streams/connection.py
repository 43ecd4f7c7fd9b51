"""Redis clients with the retry policy every Gridwatch component uses."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

__all__ = ["connect"]


def connect(url: str, *, retries: int = 5, timeout: float = 10.0) -> redis.Redis:
    """Return a client that retries transient connection errors with exponential backoff."""
    return redis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
    )
