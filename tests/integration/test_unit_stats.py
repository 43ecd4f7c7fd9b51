"""Unit aggregates: windows, flows, health codes, devices online, rolled up the tree, folded into days once."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis
from sqlalchemy import Engine

from app import create_app
from domain.alert_config import parse_alert_config
from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level, Unit
from geo.lookup import GridLocator
from runtime.alert_sink import AlertRaiser
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.window_alerts import WindowAlerts
from settings import Settings
from storage.alert_repository import AlertRepository
from storage.geo_repository import GeoRepository
from streams.ingest import append_events
from streams.keys import RedisKeys
from streams.unit_stats import UnitStatsAggregator, read_hour_flows, read_unit_stats
from streams.worker import IngestWorker
from tests.auth import login, make_user
from tests.integration.events import gate_event, inside

VISITOR_RED = {"kind": "gate_pass", "direction": "in", "person": "visitor", "health_code": "red"}
REGISTERED_OUT = {
    "kind": "gate_pass",
    "direction": "out",
    "person": "visitor",
    "health_code": "green",
    "visitor_registration": "V1",
}


def _feed(client: redis.Redis, city: Hierarchy, keys: RedisKeys, clock: Callable[[], float]) -> tuple[str, str]:
    """Send a known mix to two grids of different communities; return their codes."""
    grids = city.at_level(Level.GRID)
    a = grids[0]
    b = next(g for g in grids if city.ancestors(g.code)[0] != city.ancestors(a.code)[0])
    events = [gate_event(*inside(a), device="GA", payload=VISITOR_RED) for _ in range(3)]
    events += [gate_event(*inside(a), device="GA", payload=REGISTERED_OUT) for _ in range(2)]
    events += [gate_event(*inside(b), device="SB", device_type="smoke", payload={"kind": "alarm", "alarm": "smoke"})]
    events += [gate_event(*inside(b), device="SB", device_type="smoke", payload={"kind": "heartbeat"})]
    append_events(client, keys.ingest_stream, events)
    worker = IngestWorker(client, GridLocator(grids), keys, consumer="w", block_ms=20, clock=clock)
    worker.ensure_group()
    while worker.process_once().read:
        pass
    assert worker.totals.applied == 7
    return a.code, b.code


def _stats(client: redis.Redis, keys: RedisKeys, code: str) -> dict[str, dict[str, float]]:
    doc = read_unit_stats(client, keys, [code])["units"]
    assert isinstance(doc, dict)
    out: dict[str, dict[str, float]] = doc[code]
    return out


def test_windows_flows_and_devices_roll_up_the_tree(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    now = [math.floor(time.time() / 60) * 60 + 20.0]
    a, b = _feed(redis_client, small_city, keys, lambda: now[0])
    devices = {"GA": a, "SB": b, "DEAD": b}
    agg = UnitStatsAggregator(
        redis_client, small_city, keys, owner="t", device_grids=lambda: devices, clock=lambda: now[0]
    )
    assert agg.tick() is not None
    grid_a = _stats(redis_client, keys, a)
    assert grid_a["minute"] == {
        "t.gate_pass": 5,
        "g.in.visitor": 3,
        "hc.red": 3,
        "g.unregistered": 3,
        "g.out.visitor": 2,
        "hc.green": 2,
    }
    assert grid_a["hour"] == grid_a["today"] == grid_a["minute"]
    assert grid_a["devices"] == {"online": 1, "total": 1}
    grid_b = _stats(redis_client, keys, b)
    assert grid_b["minute"] == {"t.alarm": 1, "t.heartbeat": 1}
    assert grid_b["devices"] == {"online": 1, "total": 2}
    city = _stats(redis_client, keys, small_city.city.code)
    assert city["today"]["t.gate_pass"] == 5 and city["today"]["t.alarm"] == 1
    assert city["devices"] == {"online": 2, "total": 3}
    community_a = _stats(redis_client, keys, small_city.ancestors(a)[0])
    assert community_a["hour"]["hc.red"] == 3 and "t.alarm" not in community_a["hour"]

    # Three minutes later: out of the last minute, still in the hour and the day, folded once.
    now[0] += 180
    agg.tick()
    grid_a = _stats(redis_client, keys, a)
    assert grid_a["minute"] == {}
    assert grid_a["hour"]["t.gate_pass"] == 5 and grid_a["today"]["t.gate_pass"] == 5
    assert int(redis_client.get(keys.folded_through) or 0) >= math.floor(now[0] / 60) - 2

    # Another process takes the lease over: it must not count the folded minutes twice.
    redis_client.delete(keys.stats_lease)
    other = UnitStatsAggregator(
        redis_client, small_city, keys, owner="t2", device_grids=lambda: devices, clock=lambda: now[0]
    )
    other.tick()
    assert _stats(redis_client, keys, a)["today"]["t.gate_pass"] == 5
    assert agg.tick() is None  # the first one lost its lease

    # The folded minute's gate flows are in its hour, for every unit above the grid, once.
    hour = math.floor((now[0] - 180) / 3600)
    for unit in small_city.ancestors(a):
        flows = read_hour_flows(redis_client, keys, unit, [hour - 1, hour, hour + 1])
        assert sorted(flows) == [(hour, "in", "visitor", 3), (hour, "out", "visitor", 2)]
    assert read_hour_flows(redis_client, keys, small_city.ancestors(b)[0], [hour]) == []

    # Two hours later the hour is empty; the day (same local day or not) never grows.
    now[0] += 7200
    other.tick()
    later = _stats(redis_client, keys, a)
    assert later["hour"] == {} and later["today"].get("t.gate_pass", 0) in (0, 5)


def test_changes_are_published_with_a_sequence_for_units_above_grids(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    now = [math.floor(time.time() / 60) * 60 + 20.0]
    pubsub = redis_client.pubsub()
    pubsub.subscribe(keys.push_channel)
    a, _ = _feed(redis_client, small_city, keys, lambda: now[0])
    agg = UnitStatsAggregator(redis_client, small_city, keys, owner="t", clock=lambda: now[0])
    first = agg.tick()
    assert first is not None and first.seq == 1 and first.changed > 0
    again = agg.tick()
    assert again is not None and again.seq is None and again.changed == 0  # nothing changed: nothing sent
    deadline = time.monotonic() + 5
    messages = []
    while time.monotonic() < deadline and not messages:
        msg = pubsub.get_message(timeout=0.2)
        if msg and msg["type"] == "message" and b'"stats"' in msg["data"]:
            messages.append(msg["data"])
    assert messages and a.encode() not in messages[0]  # grids are not pushed, their ancestors are
    assert small_city.city.code.encode() in messages[0]


def test_the_snapshot_endpoint_serves_a_unit_in_the_callers_jurisdiction_only(small_settings: Settings) -> None:
    engine = open_database(small_settings)
    city = ensure_demo_city(engine, small_settings)
    engine.dispose()
    gw = create_app(small_settings)
    try:
        client = gw.ctx.redis
        client.flushall()
        now = [math.floor(time.time() / 60) * 60 + 20.0]
        a, _ = _feed(client, city, gw.ctx.keys, lambda: now[0])
        UnitStatsAggregator(client, city, gw.ctx.keys, owner="t", clock=lambda: now[0]).tick()
        district = city.ancestors(a)[-2]
        other = next(d.code for d in city.at_level(Level.DISTRICT) if d.code != district)
        make_user(gw.ctx.accounts, "leader", Role.DISTRICT_LEADER, district)
        http = gw.server.test_client()
        assert http.get(f"/api/v1/units/{district}/stats").status_code == 401
        login(http, "leader")
        mine = http.get(f"/api/v1/units/{district}/stats?children=1").get_json()
        assert mine["seq"] >= 1 and mine["units"][district]["today"]["hc.red"] == 3
        assert set(mine["units"]) == {district, *(c.code for c in city.children(district))}
        assert http.get(f"/api/v1/units/{a}/stats").get_json()["units"][a]["hour"]["g.unregistered"] == 3
        assert http.get(f"/api/v1/units/{other}/stats").status_code == 403
        assert http.get(f"/api/v1/units/{city.city.code}/stats").status_code == 403
    finally:
        gw.close()


_WINDOW_RULES = """
[[rule]]
key = "visitor_surge"
kind = "unit_window"
severity = "warning"
level = "community"
counter = "g.unregistered"
window = "hour"
threshold = 3

[[rule]]
key = "hotspot"
kind = "unit_window"
severity = "info"
level = "grid"
counter = "activity"
factor = 5
min_events = 5
"""


def test_window_rules_fire_on_a_surge_and_a_hotspot_and_clear_when_the_window_passes(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy, engine: Engine
) -> None:
    GeoRepository(engine).replace_all(list(small_city.at_level(Level.GRID)) + _above_grids(small_city))
    rules = parse_alert_config(_WINDOW_RULES).rules
    alerts = AlertRepository(engine)
    now = [math.floor(time.time() / 60) * 60 + 20.0]
    a, _ = _feed(redis_client, small_city, keys, lambda: now[0])  # 3 unregistered visitors, 5 events at a
    community = small_city.ancestors(a)[0]
    watcher = WindowAlerts(AlertRaiser(alerts, rules, small_city), alerts, rules, small_city)
    agg = UnitStatsAggregator(redis_client, small_city, keys, owner="t", clock=lambda: now[0], watcher=watcher)
    agg.tick()
    open_now = {(x.rule_key, x.unit_code) for x in alerts.open_alerts() if x.cleared_at is None}
    assert open_now == {("visitor_surge", community), ("hotspot", a)}  # b: 1 activity event, under min_events
    agg.tick()  # nothing changed: nothing fired twice
    assert len(alerts.open_alerts()) == 2

    # A restart knows what is open; two hours on, both conditions have passed and both alerts clear.
    now[0] += 7200
    again = WindowAlerts(AlertRaiser(alerts, rules, small_city), alerts, rules, small_city)
    redis_client.delete(keys.stats_lease)
    UnitStatsAggregator(redis_client, small_city, keys, owner="t2", clock=lambda: now[0], watcher=again).tick()
    assert all(x.cleared_at is not None for x in alerts.open_alerts())
    assert {x.rule_key for x in alerts.open_alerts()} == {"visitor_surge", "hotspot"}  # cleared, not yet closed


def _above_grids(city: Hierarchy) -> list[Unit]:
    return [u for level in (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY) for u in city.at_level(level)]
