from __future__ import annotations

import json
import math
import time

import redis

from domain.levels import classify
from geo.hierarchy import Hierarchy, Level
from streams.aggregates import MapAggregator, decode_push, read_snapshot
from streams.keys import RedisKeys


def put(client: redis.Redis, keys: RedisKeys, counts: dict[str, int], minutes_ago: int = 0) -> None:
    minute = math.floor(time.time() / 60) - minutes_ago
    client.hset(keys.bucket(minute), mapping=counts)  # type: ignore[arg-type]


def test_first_tick_publishes_grid_and_ancestor_levels(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    put(redis_client, keys, {grid.code: 50})
    agg = MapAggregator(redis_client, small_city, keys, owner="a", devices_total=10)
    result = agg.tick()
    assert result is not None
    assert result.changed[grid.code] == 4
    for code in small_city.ancestors(grid.code):
        n = len(small_city.grids_under(code))
        assert result.changed.get(code, 0) == classify(50 / n)
    snap = read_snapshot(redis_client, keys)
    assert snap["seq"] == result.seq == 1
    assert snap["levels"] == result.changed
    assert result.kpis.events_in_window == 50 and result.kpis.active_grids == 1


def test_only_changes_are_published_and_the_window_slides(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    g1, g2 = small_city.at_level(Level.GRID)[:2]
    put(redis_client, keys, {g1.code: 3})
    put(redis_client, keys, {g2.code: 30}, minutes_ago=20)  # outside the 10-minute window
    agg = MapAggregator(redis_client, small_city, keys, owner="a")
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.push_channel)
    first = agg.tick()
    assert first is not None and g2.code not in first.changed and first.changed[g1.code] == 1
    second = agg.tick()
    assert second is not None and second.changed == {} and second.seq is None
    put(redis_client, keys, {g1.code: 50})
    third = agg.tick()
    assert third is not None and third.changed[g1.code] == 4 and third.seq == 2
    messages = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and len([m for m in messages if m[0] == "levels"]) < 2:
        msg = pubsub.get_message(timeout=0.1)
        if msg:
            messages.append(decode_push(msg["data"]))
    levels = [d for e, d in messages if e == "levels"]
    assert [d["seq"] for d in levels] == [1, 2]  # type: ignore[index]
    assert all(e in ("levels", "kpis") for e, _ in messages)
    pubsub.close()


def test_levels_fall_back_when_events_age_out(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    now = [time.time()]
    put(redis_client, keys, {grid.code: 50})
    agg = MapAggregator(redis_client, small_city, keys, owner="a", clock=lambda: now[0])
    assert agg.tick().changed[grid.code] == 4  # type: ignore[union-attr]
    now[0] += 11 * 60
    assert agg.tick().changed[grid.code] == 0  # type: ignore[union-attr]


def test_only_one_aggregator_publishes(redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy) -> None:
    a = MapAggregator(redis_client, small_city, keys, owner="a")
    b = MapAggregator(redis_client, small_city, keys, owner="b")
    assert a.tick() is not None
    assert b.tick() is None
    redis_client.delete(keys.aggregator_lease)  # a died: its lease expired
    assert b.tick() is not None


def test_a_new_aggregator_resumes_from_the_stored_levels(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    put(redis_client, keys, {grid.code: 50})
    MapAggregator(redis_client, small_city, keys, owner="a").tick()
    redis_client.delete(keys.aggregator_lease)
    again = MapAggregator(redis_client, small_city, keys, owner="b").tick()
    assert again is not None and again.changed == {}
    assert json.loads(redis_client.get(keys.kpis))["events_in_window"] == 50  # type: ignore[arg-type]


def test_the_device_count_follows_the_registry(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    registered = [0]
    now = [time.time()]
    agg = MapAggregator(
        redis_client, small_city, keys, owner="a", devices_total=lambda: registered[0], clock=lambda: now[0]
    )
    assert agg.tick().kpis.devices_total == 0  # type: ignore[union-attr]
    registered[0] = 500  # e.g. the simulator placed devices on a freshly imported city
    now[0] += 61
    assert agg.tick().kpis.devices_total == 500  # type: ignore[union-attr]


def test_an_aggregator_that_lost_the_lease_forgets_what_it_had_read(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    grid = small_city.at_level(Level.GRID)[0]
    now = [time.time()]
    a = MapAggregator(redis_client, small_city, keys, owner="a", clock=lambda: now[0])
    b = MapAggregator(redis_client, small_city, keys, owner="b", clock=lambda: now[0])
    minute = math.floor(now[0] / 60)
    redis_client.hset(keys.bucket(minute), grid.code, 1)
    assert a.tick() is not None  # a read the minute with 1 event
    redis_client.delete(keys.aggregator_lease)
    assert b.tick() is not None  # b took over
    redis_client.hincrby(keys.bucket(minute), grid.code, 49)  # 49 more arrive in that same minute
    b.tick()
    assert a.tick() is None  # b holds the lease: a stays out (and must not renew b's lease)
    redis_client.delete(keys.aggregator_lease)
    now[0] += 120  # two minutes later a is back in charge
    result = a.tick()
    assert result is not None and result.kpis.events_in_window == 50
