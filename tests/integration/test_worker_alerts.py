from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import Engine

from domain.alerts import AlertState
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime.alert_sink import AlertSink, load_rules
from storage.alert_repository import AlertRepository
from streams.ingest import append_events
from streams.keys import RedisKeys
from streams.worker import IngestWorker
from tests.integration.events import inside


def smoke(lon: float, lat: float, payload: dict[str, object]) -> str:
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "device_id": "S1",
            "device_type": "smoke",
            "ts": datetime.now(UTC).isoformat(),
            "lon": lon,
            "lat": lat,
            "payload": payload,
        }
    )


def test_alarms_become_one_alert_stored_before_the_ack_and_clear(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy, engine: Engine, small_units: list
) -> None:
    from storage.geo_repository import GeoRepository

    GeoRepository(engine).replace_all(small_units)
    repo = AlertRepository(engine)
    grid = small_city.at_level(Level.GRID)[5]
    sink = AlertSink(repo, load_rules())
    worker = IngestWorker(
        redis_client, GridLocator(small_city.at_level(Level.GRID)), keys, consumer="w", block_ms=50, sink=sink
    )
    worker.ensure_group()
    alarm = {"kind": "alarm", "alarm": "smoke"}
    append_events(redis_client, keys.ingest_stream, [smoke(*inside(grid), alarm) for _ in range(3)])
    entries = worker._read(">", block=None)
    worker._handle(entries, set())
    alerts = repo.open_alerts()
    assert len(alerts) == 1
    assert (alerts[0].count, alerts[0].unit_code, alerts[0].rule_key) == (3, grid.code, "smoke_alarm")
    # A crash after the SQL commit but before the XACK: the same entries come again. Nothing double-counts.
    worker._handle(entries, set())
    assert repo.get(alerts[0].id).count == 3
    # Back to normal: the alert clears by itself, and stays open until someone handles it.
    append_events(
        redis_client, keys.ingest_stream, [smoke(*inside(grid), {"kind": "sensor_reading", "value": 0.1, "unit": "%"})]
    )
    worker._handle(worker._read(">", block=None), set())
    cleared = repo.get(alerts[0].id)
    assert cleared.cleared_at is not None and cleared.state is AlertState.NEW


def test_a_failing_sink_leaves_the_batch_pending(
    redis_client: redis.Redis, keys: RedisKeys, small_city: Hierarchy
) -> None:
    class Broken:
        def on_events(self, placed: object) -> None:
            raise RuntimeError("database down")

    grid = small_city.at_level(Level.GRID)[5]
    worker = IngestWorker(
        redis_client, GridLocator(small_city.at_level(Level.GRID)), keys, consumer="w", block_ms=50, sink=Broken()
    )
    worker.ensure_group()
    append_events(redis_client, keys.ingest_stream, [smoke(*inside(grid), {"kind": "alarm", "alarm": "smoke"})])
    with pytest.raises(RuntimeError, match="database down"):
        worker.process_once()  # the error reaches the run loop, which logs it and retries
    assert redis_client.xpending(keys.ingest_stream, keys.worker_group)["pending"] == 1  # not acked, not lost
