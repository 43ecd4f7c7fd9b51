from __future__ import annotations

import math
import threading
import time
import uuid

import pytest
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


def test_events_stamped_out_of_the_time_window_are_dead_lettered(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    now = time.time()
    # The worker's clock runs 10 minutes behind, then 8 days ahead, of the events' time stamps.
    for clock, reason in ((now - 600, "in_future"), (now + 8 * 86_400, "too_old")):
        redis_client.flushall()
        worker = make_worker(redis_client, small_city, keys, clock=lambda c=clock: c)
        append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid))])
        drain(worker)
        [(_, fields)] = redis_client.xrange(keys.dead_letter_stream)
        assert fields[b"reason"].decode() == reason


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
    slow._handle(entries, set())  # the slow worker finishes late: its ids were applied
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


class _ClaimRacer:
    """A Redis client for worker B that lets worker A claim the entries first, between B's two steps."""

    def __init__(self, client: redis.Redis, before_claim: object) -> None:
        self._client = client
        self._before_claim = before_claim

    def xclaim(self, *args: object, **kwargs: object) -> object:
        self._before_claim()  # type: ignore[operator]
        return self._client.xclaim(*args, **kwargs)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)


def test_two_workers_reclaiming_at_once_lose_nothing(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[2]
    make_worker(redis_client, small_city, keys, consumer="crashed")
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(5)])
    redis_client.xreadgroup(keys.worker_group, "crashed", {keys.ingest_stream: ">"}, count=100)
    time.sleep(0.05)
    a = make_worker(redis_client, small_city, keys, consumer="a", claim_idle_ms=20)
    claimed_by_a: list[object] = []
    b = IngestWorker(
        _ClaimRacer(redis_client, lambda: claimed_by_a.extend(a._claim_stale()[0])),  # type: ignore[arg-type]
        GridLocator(small_city.at_level(Level.GRID)),
        keys,
        consumer="b",
        block_ms=50,
        claim_idle_ms=20,
    )
    b.process_once()  # B saw them idle, but A claimed them first: B must leave them alone
    assert b.totals.dead == 0 and redis_client.xlen(keys.dead_letter_stream) == 0
    assert len(claimed_by_a) == 5
    a._handle(claimed_by_a, set())  # type: ignore[arg-type]
    assert bucket_total(redis_client, keys) == {grid.code: 5}


def test_an_entry_that_keeps_crashing_a_restarted_worker_is_dead_lettered(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    make_worker(redis_client, small_city, keys, consumer="run-worker-1")
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid))])
    for start in (">", "0", "0", "0", "0"):  # five restarts, each dying on the same entry before acking it
        redis_client.xreadgroup(keys.worker_group, "run-worker-1", {keys.ingest_stream: start}, count=10)
    again = make_worker(redis_client, small_city, keys, consumer="run-worker-1", max_deliveries=5)
    again.process_once()
    dead = redis_client.xrange(keys.dead_letter_stream)
    assert [f[b"reason"] for _, f in dead] == [b"processing_error"]
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0


def test_a_database_outage_retries_the_same_batch_without_redelivering_it(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    class Flaky:
        failures = 3

        def on_events(self, placed: object) -> None:
            if self.failures:
                self.failures -= 1
                raise RuntimeError("database unavailable")

    grid = small_city.at_level(Level.GRID)[0]
    worker = make_worker(redis_client, small_city, keys, sink=Flaky(), max_deliveries=2)
    append_events(redis_client, keys.ingest_stream, [gate_event(*inside(grid)) for _ in range(4)])
    for _ in range(3):
        with pytest.raises(RuntimeError):
            worker.process_once()
    worker.process_once()
    assert worker.totals.applied == 4 and worker.totals.dead == 0  # not poisoned by the outage
    assert bucket_total(redis_client, keys) == {grid.code: 4}


def test_two_workers_in_one_group_share_the_stream_and_count_each_event_once(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grids = small_city.at_level(Level.GRID)[:40]
    sent = [gate_event(*inside(g)) for g in grids for _ in range(25)]
    repeated = sent[:100]  # a producer's retries: the same event ids again
    append_events(redis_client, keys.ingest_stream, sent + repeated)
    workers = [make_worker(redis_client, small_city, keys, consumer=f"w{i}", batch=50) for i in range(2)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while sum(w.totals.read for w in workers) < len(sent) + len(repeated) and time.monotonic() < deadline:
        time.sleep(0.01)
    for w in workers:
        w.stop()
    for t in threads:
        t.join()
    assert all(w.totals.read > 0 for w in workers)  # both took a share
    assert sum(w.totals.applied for w in workers) == len(sent)
    assert sum(w.totals.duplicates for w in workers) == len(repeated)
    assert bucket_total(redis_client, keys) == {g.code: 25 for g in grids}
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 0
