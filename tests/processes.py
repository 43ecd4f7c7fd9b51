"""Start the real app's commands as child processes for tests, and stop them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests import databases

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port on loopback that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(**values: str) -> dict[str, str]:
    """The environment for a child app process: ours minus GRIDWATCH_*, plus values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
    env.update(values)
    if databases.on_postgresql() and "GRIDWATCH_DATA_DIR" in env and "GRIDWATCH_DATABASE_URL" not in env:
        env["GRIDWATCH_DATABASE_URL"] = databases.app_db_url(Path(env["GRIDWATCH_DATA_DIR"]))
    return env


def small_city_env(data_dir: Path, **values: str) -> dict[str, str]:
    """The environment of a child app process on the small test city in data_dir, plus values."""
    from tests.conftest import SMALL_CITY

    return app_env(
        GRIDWATCH_DATA_DIR=str(data_dir),
        GRIDWATCH_DEMO_SEED=str(SMALL_CITY.seed),
        GRIDWATCH_DEMO_GRIDS=str(SMALL_CITY.grids),
        GRIDWATCH_DEMO_COMMUNITIES=str(SMALL_CITY.communities),
        GRIDWATCH_DEMO_STREETS=str(SMALL_CITY.streets),
        GRIDWATCH_DEMO_DISTRICTS=str(SMALL_CITY.districts),
        GRIDWATCH_DEVICES_PER_GRID="1",
        **values,
    )


def start(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `python app.py ARGS` in its own process group, logging to a file."""
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), *args],
        env=dict(env),
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20, group: bool = True) -> int:
    """Signal a child (its whole process group, as a terminal does) and wait; kill it if it hangs."""
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def wait_http(url: str, timeout: float = 60) -> None:
    """Poll a URL until it answers 200."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL built by the test
                if resp.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last}")
