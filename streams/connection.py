"""Redis clients with the retry policy every Gridwatch component uses."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

__all__ = ["POOL_SIZE", "connect"]

# Connections one client keeps open at most. When all are busy a caller waits for one (up to the socket
# timeout) instead of failing: a web process can have a thousand sockets logging in at once, and
# redis-py's plain pool raises "Too many connections" past its cap.
POOL_SIZE = 100


def connect(url: str, *, retries: int = 5, timeout: float = 10.0) -> redis.Redis:
    """Return a client that retries transient connection errors with exponential backoff."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
    )
    return redis.Redis(connection_pool=pool)
