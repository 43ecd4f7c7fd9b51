"""Fault-test sites: the small city, a private Redis (AOF everysec) the test may kill, and the app's own processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine

from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.embedded_redis import EmbeddedRedis
from settings import Settings
from streams.keys import RedisKeys
from tests.auth import PASSWORD, change_password
from tests.faults.load import Ledger, SteadyProducer, reckon
from tests.integration.events import inside
from tests.integration.stream_state import caught_up, wait_until
from tests.processes import ROOT, free_port, small_city_env, start, stop, wait_http

INITIAL = "one-time initial password"
CREATE_OPS = ("users", "create", "ops", "--role", "city_operator", "--unit")


@dataclass
class Site:
    """One private Redis, one database and the small city; processes started here are stopped at the end."""

    tmp: Path
    server: EmbeddedRedis
    env: dict[str, str]
    city: Hierarchy
    engine: Engine
    client: redis.Redis
    keys: RedisKeys = field(default_factory=RedisKeys)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def points(self) -> dict[str, tuple[float, float]]:
        """A point inside each of the first 80 grids."""
        return {g.code: inside(g) for g in self.city.at_level(Level.GRID)[:80]}

    def run(self, *args: str, log: str = "app.log", **env: str) -> subprocess.Popen[bytes]:
        """Start `python app.py ARGS` with this site's environment (plus env)."""
        proc = start(list(args), {**self.env, **env}, self.tmp / log)
        self.procs.append(proc)
        return proc

    def settle(self, producer: SteadyProducer, since_minute: int, log: str) -> Ledger:
        """Wait until the workers' group has caught up, then count what became of every event sent."""
        wait_until(lambda: caught_up(self.client, self.keys), 180, lambda: self.log_tail(log))
        return reckon(self.client, self.keys, self.engine, producer, since_minute)

    def log_tail(self, log: str = "app.log") -> str:
        """The end of a process log, for failure messages."""
        path = self.tmp / log
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def make_site(tmp: Path, **env: str) -> Iterator[Site]:
    """Set up a site in tmp (env adds GRIDWATCH_* values); stop everything when the generator closes."""
    server = EmbeddedRedis(tmp / "redis")  # appendonly yes, appendfsync everysec
    server.start()
    values = small_city_env(tmp / "var", GRIDWATCH_REDIS_URL=server.url, **env)
    settings = Settings.from_env(values)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    client = redis.Redis.from_url(server.url, socket_timeout=15)
    site = Site(tmp, server, values, city, engine, client)
    try:
        yield site
    finally:
        for proc in site.procs:
            stop(proc)
        client.close()
        engine.dispose()
        server.stop()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A fresh site per test: workers reclaim others' entries after 1 s of idleness."""
    yield from make_site(tmp_path, GRIDWATCH_WORKER_CLAIM_IDLE_MS="1000")


@dataclass
class WebSite:
    """A site with `serve`, `worker` and `simulate` running and an operator who can sign in."""

    site: Site
    url: str
    web: subprocess.Popen[bytes]

    def restart_web(self) -> None:
        """Stop the web process (SIGTERM) and start another on the same port; return when it answers."""
        stop(self.web)
        self.site.procs.remove(self.web)
        self.web = self.site.run("serve", log="web.log")
        wait_http(f"{self.url}/healthz", timeout=60)


@pytest.fixture(scope="module")
def web_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """The small city served by real processes, with a live feed, and an operator account `ops`."""
    tmp = tmp_path_factory.mktemp("faults-web")
    port = free_port()
    for site in make_site(tmp, GRIDWATCH_PORT=str(port)):
        subprocess.run(
            [sys.executable, str(ROOT / "app.py"), *CREATE_OPS, site.city.city.code, "--password-stdin"],
            env=site.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            input=f"{INITIAL}\n".encode(),
            timeout=120,
        )
        web = site.run("serve", log="web.log")
        site.run("worker", "--name", "web-fault-worker", log="worker.log")
        site.run("simulate", "--rate", "100", log="simulate.log")
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz")
        change_password(url, "ops", INITIAL, PASSWORD)
        yield WebSite(site, url, web)
