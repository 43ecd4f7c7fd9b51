"""A worker process SIGKILLed mid-stream: another one takes over, and every event counts exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from settings import Settings
from streams.keys import RedisKeys
from tests.integration.events import gate_event, inside
from tests.integration.stream_state import applied, caught_up, dead_letters, grid_counts, minute_now, wait_until
from tests.processes import small_city_env, start, stop

GOOD = 20_000
RETRIES = 600  # good events sent a second time with the same event_id: they must count once
FIRST_PART = 15_000  # entries in the stream before the first worker dies; the rest come after


@dataclass
class Site:
    env: dict[str, str]
    city: Hierarchy
    logs: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis_server: EmbeddedRedis) -> Site:
    data_dir = tmp_path_factory.mktemp("crash") / "var"
    env = small_city_env(data_dir, GRIDWATCH_REDIS_URL=redis_server.url)
    engine = open_database(Settings.from_env(env))
    city = ensure_demo_city(engine, Settings.from_env(env))
    engine.dispose()
    return Site(env, city, data_dir.parent)


def _event(lon: float, lat: float, ts: datetime) -> str:
    raw = json.loads(gate_event(lon, lat))
    raw["ts"] = ts.isoformat()
    return json.dumps(raw)


@dataclass
class Feed:
    """What the producer sends, in order, and what it expects of it."""

    entries: list[bytes | None] = field(default_factory=list)  # None: an entry without a data field
    expected_reason: dict[int, str] = field(default_factory=dict)  # position -> dead-letter reason
    per_grid: Counter[str] = field(default_factory=Counter)


def build_feed(city: Hierarchy, seed: int = 4) -> Feed:
    rng = random.Random(seed)
    grids = city.at_level(Level.GRID)[:60]
    points = {g.code: inside(g) for g in grids}
    feed = Feed()
    sent: list[bytes] = []
    now = datetime.now(UTC)
    hostile: list[tuple[bytes | None, str]] = [
        (b"{not json", "not_json"),
        (b"\xff\xfe\x00", "not_json"),
        (b'{"event_id": 1}', "schema"),
        (None, "schema"),
        (_event(0.0, 0.0, now).encode(), "unplaceable"),
        (_event(*points[grids[0].code], now - timedelta(days=8)).encode(), "too_old"),
        (_event(*points[grids[0].code], now + timedelta(hours=1)).encode(), "in_future"),
    ]
    good_left, retries_left = GOOD, RETRIES
    while good_left or retries_left:
        roll = rng.random()
        if roll < 0.01:
            raw, reason = hostile[rng.randrange(len(hostile))]
            feed.expected_reason[len(feed.entries)] = reason
            feed.entries.append(raw)
        elif roll < 0.04 and retries_left and sent:
            feed.entries.append(rng.choice(sent))
            retries_left -= 1
        elif good_left:
            code = rng.choice(grids).code
            raw = gate_event(*points[code]).encode()
            sent.append(raw)
            feed.entries.append(raw)
            feed.per_grid[code] += 1
            good_left -= 1
    return feed


def append(client: redis.Redis, keys: RedisKeys, entries: list[bytes | None]) -> list[str]:
    """XADD the entries in order (an entry without data gets another field); return their ids."""
    pipe = client.pipeline(transaction=False)
    for raw in entries:
        if raw is None:
            pipe.xadd(keys.ingest_stream, {"other": "no data field"})
        else:
            pipe.xadd(keys.ingest_stream, {"data": raw})
    return [i.decode() for i in pipe.execute()]


def pending_of(client: redis.Redis, keys: RedisKeys, consumer: str) -> int:
    summary: Any = client.xpending(keys.ingest_stream, keys.worker_group)
    return sum(int(c["pending"]) for c in summary["consumers"] if c["name"] == consumer.encode())


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        stop(proc)


def test_a_worker_killed_mid_stream_loses_nothing_and_counts_nothing_twice(
    site: Site, redis_client: redis.Redis, keys: RedisKeys, workers: list[subprocess.Popen[bytes]]
) -> None:
    since = minute_now()
    feed = build_feed(site.city)
    ids = append(redis_client, keys, feed.entries[:FIRST_PART])
    log = site.logs / "workers.log"
    first = start(["worker", "--name", "crash-1"], site.env, log)
    workers.append(first)
    wait_until(lambda: applied(redis_client, keys) >= 2_000, 90, lambda: log.read_text()[-2000:])
    # Freeze it, so that what we see is what it holds when it dies: entries read but not acknowledged.
    while True:
        os.kill(first.pid, signal.SIGSTOP)
        held = pending_of(redis_client, keys, "crash-1")
        if held:
            break
        os.kill(first.pid, signal.SIGCONT)
        time.sleep(0.005)
    counted_before = applied(redis_client, keys)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert counted_before < GOOD - RETRIES, "the first worker finished before it could be killed mid-stream"

    ids += append(redis_client, keys, feed.entries[FIRST_PART:])
    second = start(
        ["worker", "--name", "crash-2"], dict(site.env, GRIDWATCH_WORKER_CLAIM_IDLE_MS="300"), site.logs / "second.log"
    )
    workers.append(second)
    wait_until(
        lambda: caught_up(redis_client, keys),
        120,
        lambda: f"catching up: {redis_client.xpending(keys.ingest_stream, keys.worker_group)}",
    )

    assert grid_counts(redis_client, keys, since) == feed.per_grid  # 0 lost, 0 double-counted
    assert applied(redis_client, keys) == GOOD
    dead = dead_letters(redis_client, keys)
    expected = {ids[n]: reason for n, reason in feed.expected_reason.items()}
    assert {entry: f["reason"].decode() for entry, f in dead.items()} == expected
    for n in feed.expected_reason:
        assert dead[ids[n]]["raw"] == (feed.entries[n] or b"")
    assert second.poll() is None, "the second worker must still be serving"
    assert held > 0 and pending_of(redis_client, keys, "crash-1") == 0
    print(f"killed with {counted_before} applied and {held} read but unacknowledged; {len(expected)} dead letters")


def test_the_feed_is_what_the_test_says(site: Site) -> None:
    feed = build_feed(site.city)
    assert sum(feed.per_grid.values()) == GOOD
    good = [e for n, e in enumerate(feed.entries) if n not in feed.expected_reason]
    assert len(good) == GOOD + RETRIES and len({uuid.UUID(json.loads(e)["event_id"]) for e in good if e}) == GOOD
    assert set(feed.expected_reason.values()) == {
        "not_json",
        "schema",
        "unplaceable",
        "too_old",
        "in_future",
    }
