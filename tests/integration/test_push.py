from __future__ import annotations

import gzip
import json
import threading
import time
from typing import Any

import redis

from app import create_app
from domain.permissions import Role
from geo.hierarchy import Level
from runtime.bootstrap import ensure_demo_city, open_database
from settings import Settings
from streams.aggregates import encode_push
from streams.keys import RedisKeys
from streams.push import PushBridge
from tests.auth import login, make_user


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_bridge_relays_and_stops(redis_client: redis.Redis, keys: RedisKeys) -> None:
    got: list[tuple[str, object]] = []
    bridge = PushBridge(redis_client, keys, lambda e, d: got.append((e, d)))
    thread = threading.Thread(target=bridge.run)
    thread.start()
    assert bridge.connected.wait(5)
    redis_client.publish(keys.push_channel, "not json")
    redis_client.publish(keys.push_channel, encode_push("levels", {"seq": 1, "levels": {"x": 2}}))
    assert wait_for(lambda: got)
    assert got == [("levels", {"seq": 1, "levels": {"x": 2}})]
    bridge.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_socket_clients_receive_pushed_levels(small_settings: Settings, redis_client: redis.Redis) -> None:
    engine = open_database(small_settings)
    city = ensure_demo_city(engine, small_settings)
    engine.dispose()
    gw = create_app(small_settings)
    gw.start_background()
    try:
        make_user(gw.ctx.accounts, "ops", Role.CITY_OPERATOR, city.city.code)
        http = gw.server.test_client()
        login(http, "ops")
        client = gw.socketio.test_client(gw.server, flask_test_client=http)
        assert client.is_connected()
        assert gw.bridge.connected.wait(5)
        keys = gw.ctx.keys
        district = city.at_level(Level.DISTRICT)[0].code
        redis_client.publish(keys.push_channel, encode_push("levels", {"seq": 5, "levels": {district: 3}}))
        received: list[dict[str, Any]] = []
        assert wait_for(lambda: received.extend(client.get_received()) or any(m["name"] == "levels" for m in received))
        msg = next(m for m in received if m["name"] == "levels")
        assert msg["args"][0] == {"seq": 5, "levels": {district: 3}}
        client.disconnect()
    finally:
        gw.close()


def test_snapshot_and_geojson_endpoints(small_settings: Settings) -> None:
    engine = open_database(small_settings)
    city = ensure_demo_city(engine, small_settings)
    engine.dispose()
    gw = create_app(small_settings)
    try:
        make_user(gw.ctx.accounts, "ops", Role.CITY_OPERATOR, city.city.code)
        http = gw.server.test_client()
        assert http.get("/api/v1/map/snapshot").status_code == 401  # nothing without a login
        login(http, "ops")
        snap = http.get("/api/v1/map/snapshot").get_json()
        assert snap["seq"] == 0 and snap["levels"] == {} and len(snap["kpis_display"]) == 5
        streets = http.get("/api/v1/geo/street.geojson")
        assert streets.status_code == 200 and streets.mimetype == "application/geo+json"
        assert len(streets.get_json()["features"]) == small_settings.demo_streets
        zipped = http.get("/api/v1/geo/street.geojson", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert json.loads(gzip.decompress(zipped.data)) == streets.get_json()
        assert len(zipped.data) < len(streets.data) / 2
        assert (
            http.get("/api/v1/geo/street.geojson", headers={"If-None-Match": streets.headers["ETag"]}).status_code
            == 304
        )
        district = city.at_level(1)[0].code  # type: ignore[arg-type]
        grids = http.get(f"/api/v1/geo/grid/{district}.geojson").get_json()["features"]
        assert grids and all(f["properties"]["code"].startswith(district) for f in grids)
        assert len(grids) == len(city.grids_under(district))
        assert http.get("/api/v1/geo/grid.geojson").status_code == 404
        one_grid = city.at_level(Level.GRID)[0].code  # a grid worker's map: their own grid
        assert [f["id"] for f in http.get(f"/api/v1/geo/grid/{one_grid}.geojson").get_json()["features"]] == [one_grid]
        assert http.get("/api/v1/geo/grid/nope.geojson").status_code == 403  # unknown = out of scope: no oracle
        assert http.get("/api/v1/geo/empty.geojson").get_json()["features"] == []
        page = http.get("/")
        assert page.status_code == 200 and b"_dash-config" in page.data
    finally:
        gw.close()
