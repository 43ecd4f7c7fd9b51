"""The device_offline rule on a real Redis and database with a frozen clock; the external-rule hook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine

from domain.alert_config import parse_alert_config
from domain.devices import Device, DeviceType
from geo.hierarchy import Hierarchy, Level
from runtime.alert_sink import AlertRaiser, load_alert_config
from runtime.device_offline import OfflineWatch
from storage.alert_repository import AlertRepository
from storage.device_repository import DeviceRepository
from storage.geo_repository import GeoRepository
from streams.keys import RedisKeys

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CONFIG = load_alert_config()  # the shipped file: device_offline after 30 minutes, case_overdue external


class FrozenClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: float) -> datetime:
        self.now = T0 + timedelta(minutes=minutes)
        return self.now


def ms(minutes: float) -> int:
    return int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)


@pytest.fixture
def registry(engine: Engine, small_city: Hierarchy, small_units: list) -> dict[str, str]:
    GeoRepository(engine).replace_all(small_units)
    grids = [g.code for g in small_city.at_level(Level.GRID)[:3]]
    devices = [Device(f"D{i}", DeviceType.SMOKE, 118.0, 32.0, grids[i % 3]) for i in range(6)]
    DeviceRepository(engine).add_many(devices)
    return {d.device_id: d.grid_code for d in devices}


def watch(
    client: redis.Redis,
    keys: RedisKeys,
    engine: Engine,
    registry: dict[str, str],
    clock: FrozenClock,
    owner: str = "w1",
) -> OfflineWatch:
    devices = DeviceRepository(engine)  # the registry itself, as the worker passes it
    return OfflineWatch(
        client,
        keys,
        AlertRepository(engine),
        CONFIG.rules,
        lambda: {d.device_id: d.grid_code for d in devices.load_all()},
        owner=owner,
        clock=clock,
    )


def open_offline(repo: AlertRepository) -> dict[str, int]:
    return {a.dedup_key: a.count for a in repo.open_alerts() if a.rule_key == "device_offline" and a.cleared_at is None}


def test_a_device_silent_longer_than_the_limit_raises_one_alert_on_its_grid_and_clears_when_seen(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, registry: dict[str, str]
) -> None:
    clock = FrozenClock()
    repo = AlertRepository(engine)
    w = watch(redis_client, keys, engine, registry, clock)
    redis_client.zadd(keys.devices_seen, {"D0": ms(0), "D1": ms(5), "D2": ms(0), "UNREGISTERED": ms(0)})
    clock.at(29.99)
    assert w.tick() == []  # nobody silent for 30 minutes yet
    clock.at(30)
    changed = w.tick()
    assert changed and open_offline(repo) == {"device_offline:D0": 1, "device_offline:D2": 1}
    alert = next(a for a in repo.open_alerts() if a.dedup_key == "device_offline:D0")
    assert alert.unit_code == registry["D0"] and alert.first_seen == T0 + timedelta(minutes=30)
    assert alert.severity.name == "WARNING"
    for minute in (31, 32, 33):  # still silent: still one alert, counted once
        clock.at(minute)
        w.tick()
    assert open_offline(repo) == {"device_offline:D0": 1, "device_offline:D2": 1}
    clock.at(35)
    w.tick()
    assert open_offline(repo) == {"device_offline:D0": 1, "device_offline:D1": 1, "device_offline:D2": 1}
    # D0 reports again: its alert clears (and waits to be handled); the others stay.
    redis_client.zadd(keys.devices_seen, {"D0": ms(36)})
    clock.at(36.5)
    w.tick()
    assert set(open_offline(repo)) == {"device_offline:D1", "device_offline:D2"}
    assert repo.get(alert.id).cleared_at == T0 + timedelta(minutes=36)
    # Silent again for 30 minutes: a new alert (re-armed), the old one untouched.
    clock.at(66)
    w.tick()
    again = next(a for a in repo.open_alerts() if a.dedup_key == "device_offline:D0" and a.cleared_at is None)
    assert again.id != alert.id and again.count == 1


def test_a_new_lease_holder_checks_the_whole_past_without_counting_twice(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, registry: dict[str, str]
) -> None:
    clock = FrozenClock()
    repo = AlertRepository(engine)
    redis_client.zadd(keys.devices_seen, {"D3": ms(0)})
    first = watch(redis_client, keys, engine, registry, clock, owner="w1")
    clock.at(40)
    assert first.tick()
    assert watch(redis_client, keys, engine, registry, clock, owner="w2").tick() is None  # w1 holds the lease
    redis_client.delete(keys.offline_lease)  # w1 died
    second = watch(redis_client, keys, engine, registry, clock, owner="w2")
    clock.at(41)
    assert second.tick() == []  # the full scan finds D3 again, already counted
    assert open_offline(repo) == {"device_offline:D3": 1}
    second.stop()
    second.run()  # stopped before it starts: returns at once
    assert second.stopped


def test_a_file_without_offline_rules_checks_nothing(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, registry: dict[str, str]
) -> None:
    redis_client.zadd(keys.devices_seen, {"D0": ms(0)})
    clock = FrozenClock()
    clock.at(600)
    rules = parse_alert_config("[[rule]]\nkey='x'\nseverity='info'\nwhen=[]").rules
    w = OfflineWatch(redis_client, keys, AlertRepository(engine), rules, lambda: registry, owner="w", clock=clock)
    assert w.tick() == [] and AlertRepository(engine).open_alerts() == []


def test_the_cases_feature_raises_repeats_and_clears_case_overdue(
    engine: Engine, small_city: Hierarchy, small_units: list
) -> None:
    GeoRepository(engine).replace_all(small_units)
    repo = AlertRepository(engine, CONFIG.escalation)
    raiser = AlertRaiser(repo, CONFIG.rules, small_city)
    community = small_city.at_level(Level.COMMUNITY)[2].code
    first = raiser.raise_external("case_overdue", "CASE-17", community, "案件 17 超期", T0)
    alert = repo.get(first)
    assert (alert.rule_key, alert.unit_code, alert.level_code, alert.text) == (
        "case_overdue",
        community,
        community,
        "案件 17 超期",
    )
    assert alert.escalates_at == T0 + timedelta(seconds=900)  # a warning: the shipped ack_s
    assert raiser.raise_external("case_overdue", "CASE-17", community, now=T0 + timedelta(hours=1)) == first
    assert repo.get(first).count == 2
    retried = raiser.raise_external("case_overdue", "CASE-17", community, now=T0, event_id="case17-check-3")
    assert raiser.raise_external("case_overdue", "CASE-17", community, now=T0, event_id="case17-check-3") == retried
    assert repo.get(first).count == 3  # the retried call counted once
    assert raiser.raise_external("case_overdue", "CASE-18", community, now=T0) != first
    assert raiser.clear_external("case_overdue", "CASE-17", T0 + timedelta(hours=2)) == first
    assert repo.get(first).cleared_at == T0 + timedelta(hours=2)
    assert raiser.clear_external("case_overdue", "CASE-17") is None  # nothing open any more
    assert raiser.raise_external("case_overdue", "CASE-17", community, now=T0 + timedelta(hours=3)) != first
    with pytest.raises(ValueError, match="no external rule"):
        raiser.raise_external("smoke_alarm", "CASE-1", community)  # an event rule is not raised by hand
    with pytest.raises(ValueError, match="unknown unit"):
        raiser.raise_external("case_overdue", "CASE-1", "000000")
    with pytest.raises(ValueError, match="source_key"):
        raiser.raise_external("case_overdue", "", community)
