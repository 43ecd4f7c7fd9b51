"""Fixtures shared by every test: a private real Redis, a real database file, a small city."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from geo.demo_city import DemoCitySpec, generate_demo_city
from geo.hierarchy import Hierarchy, Unit
from runtime.embedded_redis import EmbeddedRedis
from settings import Settings
from storage.database import make_engine
from storage.migrate import upgrade_to_head
from streams.keys import RedisKeys
from tests import databases

SMALL_CITY = DemoCitySpec(seed=7, districts=3, streets=9, communities=40, grids=400)


def small_city_settings(data_dir: Path, redis_url: str, **overrides: Any) -> Settings:
    """Settings for an app on the small city, a given Redis and data dir."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "redis_url": redis_url,
        "demo_seed": SMALL_CITY.seed,
        "demo_grids": SMALL_CITY.grids,
        "demo_communities": SMALL_CITY.communities,
        "demo_streets": SMALL_CITY.streets,
        "demo_districts": SMALL_CITY.districts,
        "devices_per_grid": 1,
        "database_url": databases.app_db_url(data_dir),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A private redis-server for the whole session, on a unix socket in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="gw-test-redis-") as tmp:
        server = EmbeddedRedis(Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A client on an emptied private server."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def keys() -> RedisKeys:
    """Default Redis names."""
    return RedisKeys()


@pytest.fixture(scope="session")
def small_units() -> list[Unit]:
    """A small generated city (3 districts, 400 grids)."""
    return generate_demo_city(SMALL_CITY)


@pytest.fixture(scope="session")
def small_city(small_units: list[Unit]) -> Hierarchy:
    """The small city as a hierarchy."""
    return Hierarchy(small_units)


@pytest.fixture(scope="session", autouse=True)
def database_backend() -> Iterator[str]:
    """The database the suite runs on (GW_TEST_DATABASE); its private server stops with the session."""
    yield databases.BACKEND
    databases.shutdown()


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """Drop the PostgreSQL databases a test made (set up after wider fixtures, so theirs survive)."""
    before = databases.created()
    yield
    databases.drop(databases.created() - before)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of this test's own: a SQLite file in a temp dir, or a PostgreSQL database."""
    eng = make_engine(databases.db_url(tmp_path / "test.db", migrated=True))
    upgrade_to_head(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def small_settings(tmp_path: Path, redis_server: EmbeddedRedis) -> Settings:
    """Settings for an app on the small city, the private Redis and a temp data dir."""
    return Settings(
        data_dir=tmp_path / "var",
        redis_url=redis_server.url,
        demo_seed=SMALL_CITY.seed,
        demo_districts=SMALL_CITY.districts,
        demo_streets=SMALL_CITY.streets,
        demo_communities=SMALL_CITY.communities,
        demo_grids=SMALL_CITY.grids,
        devices_per_grid=2,
        database_url=databases.app_db_url(tmp_path / "var"),
    )
