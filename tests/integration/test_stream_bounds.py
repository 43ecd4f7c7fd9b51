"""Both streams stay bounded, and an entry trimmed before it was processed is not silently lost."""

from __future__ import annotations

import redis

from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from streams.dead_letters import replay
from streams.ingest import append_events
from streams.keys import RedisKeys
from streams.worker import IngestWorker
from tests.integration.events import gate_event, inside
from tests.integration.stream_state import dead_letters

NODE = 100  # MAXLEN ~ trims whole stream nodes: Redis's stream-node-max-entries, 100 by default


def make_worker(client: redis.Redis, city: Hierarchy, keys: RedisKeys, **kw: object) -> IngestWorker:
    worker = IngestWorker(
        client, GridLocator(city.at_level(Level.GRID)), keys, consumer=str(kw.pop("consumer", "w")), block_ms=20, **kw
    )  # type: ignore[arg-type]
    worker.ensure_group()
    return worker


def test_appends_are_capped(redis_client: redis.Redis, keys: RedisKeys) -> None:
    for _ in range(10):
        append_events(redis_client, keys.ingest_stream, [b"{}"] * 500, maxlen=1_000)
    assert 1_000 <= redis_client.xlen(keys.ingest_stream) <= 1_000 + NODE


def test_dead_letters_are_capped(redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy) -> None:
    worker = make_worker(redis_client, small_city, keys, dead_maxlen=200, batch=500)
    for _ in range(4):
        append_events(redis_client, keys.ingest_stream, [b"not json"] * 500)
        while worker.process_once().read:
            pass
    assert worker.totals.dead == 2_000
    assert 200 <= redis_client.xlen(keys.dead_letter_stream) <= 200 + NODE


def test_replayed_dead_letters_are_capped_too(redis_client: redis.Redis, keys: RedisKeys) -> None:
    append_events(redis_client, keys.ingest_stream, [b"{}"] * 1_000)
    ids = [
        redis_client.xadd(keys.dead_letter_stream, {"entry_id": "1-1", "reason": "schema", "detail": "d", "raw": b"{}"})
        for _ in range(300)
    ]
    replay(redis_client, keys, [i.decode() for i in ids], maxlen=1_000)
    assert redis_client.xlen(keys.dead_letter_stream) == 0
    assert redis_client.xlen(keys.ingest_stream) <= 1_000 + NODE


def test_an_entry_trimmed_while_a_dead_worker_held_it_is_dead_lettered_without_raw(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[2]
    make_worker(redis_client, small_city, keys, consumer="crashed")
    ids = append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(3)])
    redis_client.xreadgroup(keys.worker_group, "crashed", {keys.ingest_stream: ">"}, count=10)
    redis_client.xdel(keys.ingest_stream, ids[1])  # what MAXLEN ~ does to an old entry still pending
    survivor = make_worker(redis_client, small_city, keys, consumer="survivor", claim_idle_ms=0)
    while survivor.process_once().read:
        pass
    [(entry, letter)] = dead_letters(redis_client, keys).items()
    assert entry == ids[1].decode() and letter["reason"] == b"processing_error" and letter["raw"] == b""
    assert survivor.totals.applied == 2
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0


def test_an_entry_trimmed_while_in_the_workers_own_pending_list_is_dead_lettered_without_raw(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[2]
    make_worker(redis_client, small_city, keys, consumer="restarted")
    ids = append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(3)])
    redis_client.xreadgroup(keys.worker_group, "restarted", {keys.ingest_stream: ">"}, count=10)
    redis_client.xdel(keys.ingest_stream, ids[1])
    again = make_worker(redis_client, small_city, keys, consumer="restarted")
    while again.process_once().read:
        pass
    [(entry, letter)] = dead_letters(redis_client, keys).items()
    assert entry == ids[1].decode() and letter["raw"] == b""
    assert again.totals.applied == 2
    assert letter["reason"] == b"processing_error"
