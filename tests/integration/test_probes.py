"""Readiness and metrics in one process, on the private Redis and a real database file."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import Engine, create_engine

from api.metrics import GridwatchCollector, build_registry
from api.probes import check_readiness, parse_networks
from settings import Settings, SettingsError
from streams.connection import connect
from streams.keys import RedisKeys


def test_readiness_names_what_failed_and_nothing_more(redis_client: redis.Redis, engine: Engine) -> None:
    assert check_readiness(redis_client, engine).ready
    gone = connect("redis://:s3cret-password@127.0.0.1:1/0", retries=0, timeout=1.0)
    no_db = create_engine("sqlite:////nonexistent-dir/gw.db")
    result = check_readiness(gone, no_db)
    assert not result.ready
    assert result.checks == {"redis": "unavailable", "database": "unavailable"}
    assert "s3cret" not in repr(result) and "nonexistent" not in repr(result)
    gone.close()
    no_db.dispose()


def test_metrics_read_the_shared_state_at_scrape_time(redis_client: redis.Redis, engine: Engine) -> None:
    keys = RedisKeys()
    registry = build_registry(GridwatchCollector(redis_client, keys, engine, lambda: 3))
    assert registry.get_sample_value("gridwatch_sockets_connected") == 3
    assert registry.get_sample_value("gridwatch_dead_letters") == 0  # no stream yet: empty, not an error
    redis_client.incrby(keys.applied_total, 7)
    redis_client.xadd(keys.dead_letter_stream, {"reason": "not_json"})
    redis_client.xadd(keys.ingest_stream, {"data": "x"})
    redis_client.xgroup_create(keys.ingest_stream, keys.worker_group, id="0")
    assert registry.get_sample_value("gridwatch_events_applied_total") == 7
    assert registry.get_sample_value("gridwatch_dead_letters") == 1
    assert registry.get_sample_value("gridwatch_stream_pending", {"group": keys.worker_group}) == 0
    assert registry.get_sample_value("gridwatch_alerts_open", {"severity": "critical", "state": "new"}) == 0
    assert registry.get_sample_value("gridwatch_redis_up") == 1
    # A Redis that does not answer is reported, not raised into the scrape.
    down = build_registry(
        GridwatchCollector(connect("unix:///nonexistent/redis.sock", retries=0, timeout=1.0), keys, engine, lambda: 0)
    )
    assert down.get_sample_value("gridwatch_redis_up") == 0
    assert down.get_sample_value("gridwatch_database_up") == 1


def test_the_metrics_allow_list() -> None:
    nets = parse_networks("127.0.0.1, 10.0.0.0/8,::1")
    assert len(nets) == 3
    assert parse_networks("") == ()
    with pytest.raises(SettingsError):
        Settings(metrics_allow="10.0.0.0/8,not-an-address")
