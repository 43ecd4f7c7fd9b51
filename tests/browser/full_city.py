"""The full demo city (12,410 grids) served by real `serve` and `worker` processes, for browser tests.

Import ``running_app`` into a test module to use it (module scope: one app per module).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from geo.hierarchy import Hierarchy, Level
from runtime.embedded_redis import EmbeddedRedis
from storage.database import make_engine
from storage.repositories import GeoRepository
from tests import databases
from tests.auth import PASSWORD, change_password
from tests.processes import ROOT, app_env, free_port, start, stop, wait_http

__all__ = ["INITIAL", "RunningApp", "running_app"]

INITIAL = "one-time initial password"


@dataclass
class RunningApp:
    url: str
    redis: redis.Redis
    city: Hierarchy
    log: Path
    env: dict[str, str]
    worker: subprocess.Popen[bytes]
    web: subprocess.Popen[bytes] | None = None  # tests may restart it: the fixture stops whichever runs


@pytest.fixture(scope="module")
def running_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The full demo city (12,410 grids) served by real `serve` and `worker` processes."""
    tmp = tmp_path_factory.mktemp("app")
    with EmbeddedRedis(tmp / "redis") as server:
        port = free_port()
        env = app_env(GRIDWATCH_DATA_DIR=str(tmp / "var"), GRIDWATCH_REDIS_URL=server.url, GRIDWATCH_PORT=str(port))
        subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "init"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
        engine = make_engine(databases.app_db_url(tmp / "var"))
        city = Hierarchy(GeoRepository(engine).load_units())
        engine.dispose()
        accounts = (
            ("ops", "city_operator", city.city.code),
            ("leader", "district_leader", city.at_level(Level.DISTRICT)[1].code),
        )
        for username, role, unit in accounts:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "app.py"),
                    "users",
                    "create",
                    username,
                    "--role",
                    role,
                    "--unit",
                    unit,
                    "--password-stdin",
                ],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                input=f"{INITIAL}\n".encode(),
                timeout=120,
            )
        log = tmp / "app.log"
        web = start(["serve"], env, log)
        worker = start(["worker", "--name", "browser-test"], env, log)
        client = redis.Redis.from_url(server.url)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            for username, _, _ in accounts:  # first login: the forced change from the one-time password
                change_password(f"http://127.0.0.1:{port}", username, INITIAL, PASSWORD)
            app = RunningApp(f"http://127.0.0.1:{port}", client, city, log, env, worker, web)
            yield app
        finally:
            client.close()
            stop(app.worker if "app" in locals() else worker)
            stop(app.web if "app" in locals() and app.web is not None else web)
