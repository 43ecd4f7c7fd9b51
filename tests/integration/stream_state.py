"""Read what the workers did, through the names the worker promises to keep, and wait for it."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from streams.keys import RedisKeys


def minute_now() -> int:
    """The processing minute the worker's buckets are named after."""
    return math.floor(time.time() / 60)


def grid_counts(client: redis.Redis, keys: RedisKeys, since_minute: int) -> Counter[str]:
    """Activity per grid summed over the minute buckets from since_minute up to the next minute."""
    out: Counter[str] = Counter()
    for minute in range(since_minute, minute_now() + 2):
        for grid, n in client.hgetall(keys.bucket(minute)).items():
            out[grid.decode()] += int(n)
    return out


def applied(client: redis.Redis, keys: RedisKeys) -> int:
    """Events whose effects were applied so far."""
    return int(client.get(keys.applied_total) or 0)


def dead_letters(client: redis.Redis, keys: RedisKeys) -> dict[str, dict[str, bytes]]:
    """Original ingest entry id -> the dead letter's fields."""
    rows: Any = client.xrange(keys.dead_letter_stream)
    return {fields[b"entry_id"].decode(): {k.decode(): v for k, v in fields.items()} for _, fields in rows}


def caught_up(client: redis.Redis, keys: RedisKeys) -> bool:
    """Whether the group has delivered every entry (lag 0) and acknowledged them all (XPENDING 0).

    Redis 6.2 has no `lag` in XINFO GROUPS: the group is caught up when its last delivered id
    is the stream's last generated id.
    """
    try:
        groups: Any = client.xinfo_groups(keys.ingest_stream)
        stream: Any = client.xinfo_stream(keys.ingest_stream)
    except redis.ResponseError:
        return False
    group = next((g for g in groups if g["name"] == keys.worker_group.encode()), None)
    return group is not None and group["pending"] == 0 and group["last-delivered-id"] == stream["last-generated-id"]


def wait_until(check: Callable[[], bool], timeout: float, what: Callable[[], str] | str) -> None:
    """Poll check until it holds; fail naming what was awaited (and the state) at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    if not check():
        raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
