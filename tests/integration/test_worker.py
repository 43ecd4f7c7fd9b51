from __future__ import annotations

import math
import threading
import time
import uuid

import redis

from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from streams.ingest import append_events
from streams.keys import RedisKeys
from streams.worker import IngestWorker
from tests.integration.events import gate_event, inside


def make_worker(client: redis.Redis, city: Hierarchy, keys: RedisKeys, **kw: object) -> IngestWorker:
    w = IngestWorker(
        client, GridLocator(city.at_level(Level.GRID)), keys, consumer=str(kw.pop("consumer", "w1")), block_ms=50, **kw
    )  # type: ignore[arg-type]
    w.ensure_group()
    return w


def drain(worker: IngestWorker, rounds: int = 20) -> None:
    for _ in range(rounds):
        if worker.process_once().read == 0:
            return


def bucket_total(client: redis.Redis, keys: RedisKeys) -> dict[str, int]:
    minute = math.floor(time.time() / 60)
    out: dict[str, int] = {}
    for m in (minute - 1, minute):
        for k, v in client.hgetall(keys.bucket(m)).items():
            out[k.decode()] = out.get(k.decode(), 0) + int(v)
    return out


def test_events_land_on_their_grid_and_are_acknowledged(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grids = small_city.at_level(Level.GRID)[:5]
    worker = make_worker(redis_client, small_city, keys)
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(g)) for g in grids for _ in range(3)])
    drain(worker)
    assert bucket_total(redis_client, keys) == {g.code: 3 for g in grids}
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0
    assert worker.totals.applied == 15 and worker.totals.dead == 0


def test_a_repeated_event_id_counts_once(redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    eid = uuid.uuid4()
    worker = make_worker(redis_client, small_city, keys)
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid), event_id=eid)] * 4)
    drain(worker)
    assert bucket_total(redis_client, keys) == {grid.code: 1}
    assert worker.totals.duplicates == 3


def test_bad_input_goes_to_dead_letters_with_reason(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    worker = make_worker(redis_client, small_city, keys)
    nowhere = gate_event(0.0, 0.0)
    append_events(redis_client, keys.ingest_stream, ["{oops", '{"event_id": 1}', nowhere, gate_event(*inside(grid))])
    redis_client.xadd(keys.ingest_stream, {"wrong_field": "x"})
    drain(worker)
    dead = redis_client.xrange(keys.dead_letter_stream)
    reasons = sorted(fields[b"reason"].decode() for _, fields in dead)
    assert reasons == ["not_json", "schema", "schema", "unplaceable"]
    assert all(fields[b"detail"] for _, fields in dead)
    raws = {fields[b"raw"] for _, fields in dead}
    assert {b"{oops", nowhere.encode()} <= raws  # the original bytes are kept, nothing is lost
    assert bucket_total(redis_client, keys) == {grid.code: 1}
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0


def test_a_dead_workers_pending_entries_are_reclaimed(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[3]
    dead_worker = make_worker(redis_client, small_city, keys, consumer="crashed")
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(7)])
    # The crashed worker read the entries but never applied them.
    redis_client.xreadgroup(keys.worker_group, "crashed", {keys.ingest_stream: ">"}, count=100)
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 7
    del dead_worker
    survivor = make_worker(redis_client, small_city, keys, consumer="survivor", claim_idle_ms=100)
    time.sleep(0.15)
    drain(survivor)
    assert bucket_total(redis_client, keys) == {grid.code: 7}
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0


def test_an_entry_processed_twice_after_a_reclaim_counts_once(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[4]
    slow = make_worker(redis_client, small_city, keys, consumer="slow")
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(5)])
    entries = slow._read(">", block=None)
    fast = make_worker(redis_client, small_city, keys, consumer="fast", claim_idle_ms=1)
    time.sleep(0.01)
    drain(fast)  # reclaims and applies
    slow._handle(entries, set())  # the slow worker finishes late: its acks find nothing pending
    assert bucket_total(redis_client, keys) == {grid.code: 5}


def test_poison_entries_are_dead_lettered_after_max_deliveries(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid))])
    make_worker(redis_client, small_city, keys, consumer="crashy")
    # Delivered three times and never acknowledged: the consumer kept crashing on it.
    redis_client.xreadgroup(keys.worker_group, "crashy", {keys.ingest_stream: ">"}, count=10)
    ids = [entry_id for entry_id, _ in redis_client.xrange(keys.ingest_stream)]
    for _ in range(2):
        redis_client.xclaim(keys.ingest_stream, keys.worker_group, "crashy", 0, ids)
    worker = make_worker(redis_client, small_city, keys, consumer="w2", claim_idle_ms=1, max_deliveries=3)
    time.sleep(0.01)
    drain(worker)
    dead = redis_client.xrange(keys.dead_letter_stream)
    assert [f[b"reason"] for _, f in dead] == [b"processing_error"]
    assert bucket_total(redis_client, keys) == {}


def test_run_stops_when_asked(redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy) -> None:
    worker = make_worker(redis_client, small_city, keys)
    thread = threading.Thread(target=worker.run)
    thread.start()
    grid = small_city.at_level(Level.GRID)[1]
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid))])
    deadline = time.monotonic() + 5
    while worker.totals.applied < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert worker.totals.applied == 1
