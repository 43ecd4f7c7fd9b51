"""The command line, run as a user would: `python app.py run`, then Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import inspect

from storage.database import make_engine
from tests import databases
from tests.auth import get_json, http_session
from tests.processes import ROOT, free_port, small_city_env, start, stop, wait_http


def test_help_lists_the_commands() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    for command in ("serve", "worker", "simulate", "run", "init", "deadletter", "replay"):
        assert command in out


def demo_login(data_dir: Path, username: str) -> str:
    """The generated password of a demo account."""
    for line in (data_dir / "demo-logins.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(username + " "):
            return line.split()[1]
    raise AssertionError(f"no demo login {username}")


@pytest.mark.parametrize(
    ("sig", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-terminal-group", "sigterm-to-the-parent-only"],
)
def test_run_starts_everything_and_a_signal_stops_everything(tmp_path: Path, sig: int, whole_group: bool) -> None:
    port = free_port()
    data_dir = tmp_path / "var"
    env = small_city_env(data_dir, GRIDWATCH_PORT=str(port), GRIDWATCH_SIM_RATE="300")
    log = tmp_path / "run.log"
    proc = start(["run"], env, log)  # no GRIDWATCH_REDIS_URL: the embedded Redis is started
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", timeout=120)
        assert f"Gridwatch is running: {url}/" in log.read_text()
        family = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "worker" in names and "simulate" in names and "redis-server" in names
        # Demo accounts exist; simulated events flow through the worker to the map within seconds.
        session = http_session(url, "admin", demo_login(data_dir, "admin"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and get_json(session, f"{url}/api/v1/map/snapshot")["seq"] == 0:
            time.sleep(0.25)
        snap = get_json(session, f"{url}/api/v1/map/snapshot")
        assert snap["seq"] > 0, log.read_text()[-2000:]  # type: ignore[operator]
        assert snap["kpis"]["events_per_second"] > 0  # type: ignore[index]
        assert (data_dir / "redis" / "appendonly.aof").exists()
        engine = make_engine(databases.app_db_url(data_dir))  # the embedded default: data_dir/gridwatch.db
        assert inspect(engine).has_table("geo_unit")
        engine.dispose()
    finally:
        code = stop(proc, sig, timeout=30, group=whole_group)
    assert code == 0, log.read_text()[-3000:]
    assert "Gridwatch stopped." in log.read_text()
    assert not [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
