"""Soak: a steady 5,000 events/s through the workers, with alerts and several /wall pages, for DURATION seconds.

Set-up: the full demo city (``app.py init``), a private Redis with AOF (everysec, as in production),
one ``serve``, ``--workers`` ``worker`` processes in one consumer group, ``app.py simulate --rate``
(the shipped simulator: gate, vehicle, sensor, alarm and face events; alarms and red health codes
fire alerts), and ``--browsers`` headless Chromium pages signed in on /wall.

After a warm-up it prints the resident memory (RSS) of every process (web, each worker, the
simulator, redis-server, each browser with all its processes) and the stream backlog (XPENDING,
the age of the oldest entry not yet delivered, entries not yet delivered), then again at the end.
PASS: every process ends within +10 % of its start (or +``--slack-mb``, for small processes whose
allocator noise is more than 10 %; Redis less the growth of the key families that fill on purpose
for hours, ``WINDOWED``, which is printed), and the backlog does not grow (the end backlog is at most the
start's plus two seconds of load). Exit status 1 on FAIL.

Two settings change from their defaults, because each sets a Redis data set that grows on purpose
until its window is full: the ingest stream's MAXLEN (1,000,000 entries: 200 s at 5,000/s) and the
dedup window (900 s: two windows of event ids are kept, 30 minutes of growth). ``--stream-maxlen``
and ``--dedup-window`` set them (defaults 100,000 and 60 s, full within the warm-up); pass the
production values to watch Redis fill its windows instead.

Run: ``python -m benchmarks.soak [--duration S] [--rate R] [--workers N] [--browsers B]`` (``make soak
DURATION=…``). The last line is machine-readable: ``soak: PASS|FAIL ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # a dev requirement without bundled types
import redis
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.remote_connection import RemoteConnection

from benchmarks.map_render import CHROMIUM_FLAGS, INITIAL, USER, BenchApp, _change_password, _run, _wait_http, sign_in
from geo.hierarchy import Hierarchy, Level
from runtime.embedded_redis import EmbeddedRedis
from storage.database import make_engine
from storage.repositories import GeoRepository
from streams.keys import RedisKeys

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
_TROUBLE = re.compile(r"ERROR|Traceback|^[\w.]+(Error|Exception)\b")  # log lines worth printing: errors, their causes
LIVE = "const s = document.getElementById('gw-status'); return !!s && s.classList.contains('gw-status-live')"


@dataclass(frozen=True, slots=True)
class Backlog:
    """The consumer group's state: what is read but not acknowledged, and what is not yet done."""

    pending: int
    behind: int  # entries appended and not yet applied (XADD calls - applied - 2 x dead letters)
    lag_s: float  # the newest entry's time minus the last delivered entry's time
    applied: int
    xadds: int

    def __str__(self) -> str:
        return f"pending {self.pending:,}, not yet applied {self.behind:,} (delivery {self.lag_s:.1f} s behind)"


def backlog(client: redis.Redis, keys: RedisKeys) -> Backlog:
    """Read the backlog of the workers' group cheaply (Redis 6.2 has no XINFO GROUPS lag).

    The count comes from Redis's own XADD call counter: the simulator sends only valid, distinct
    events, and each dead letter is two XADDs (the entry and its dead letter).
    """
    groups: Any = client.xinfo_groups(keys.ingest_stream)
    group = next(g for g in groups if g["name"] == keys.worker_group.encode())
    stream: Any = client.xinfo_stream(keys.ingest_stream)
    delivered, last = group["last-delivered-id"], stream["last-generated-id"]
    lag_ms = int(last.split(b"-")[0]) - int(delivered.split(b"-")[0])
    xadds = int(client.info("commandstats").get("cmdstat_xadd", {}).get("calls", 0))
    applied = int(client.get(keys.applied_total) or 0)
    dead = int(client.xlen(keys.dead_letter_stream))
    return Backlog(int(group["pending"]), max(0, xadds - applied - 2 * dead), lag_ms / 1000, applied, xadds)


def redis_families(client: redis.Redis) -> dict[str, float]:
    """Redis memory (MB, MEMORY USAGE) by key family: the key up to its last ':' part ("gw:counts", "gw:seen")."""
    out: dict[str, float] = {}
    for key in client.scan_iter(count=1000):
        family = key.decode(errors="replace").rsplit(":", 1)[0] if key.count(b":") > 1 else key.decode()
        out[family] = out.get(family, 0.0) + int(client.memory_usage(key, samples=0) or 0) / 2**20
    return out


def rss_mb(proc: psutil.Process, tree: bool = False) -> float:
    """Resident memory of a process (and, with tree, all its descendants) in MB."""
    procs = [proc, *(proc.children(recursive=True) if tree else [])]
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


@dataclass
class Fleet:
    """Every process of the soak, by name, and how to measure it."""

    procs: dict[str, tuple[psutil.Process, bool]]

    def memory(self) -> dict[str, float]:
        """RSS in MB of every process (browsers with their whole tree)."""
        return {name: rss_mb(p, tree) for name, (p, tree) in self.procs.items()}

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by every process (browsers with their whole tree)."""
        out: dict[str, float] = {}
        for name, (proc, tree) in self.procs.items():
            total = 0.0
            for p in [proc, *(proc.children(recursive=True) if tree else [])]:
                try:
                    times = p.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                total += times.user + times.system
            out[name] = total
        return out


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own app.py
            [sys.executable, str(ROOT / "app.py"), *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _browser(profile: Path) -> webdriver.Chrome:
    """Headless Debian Chromium without any DevTools log (a soak must not grow a log buffer)."""
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _until(browser: webdriver.Chrome, script: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not browser.execute_script(script):
        if time.monotonic() > deadline:
            raise TimeoutError(script)
        time.sleep(0.1)


def _page_state(browser: webdriver.Chrome) -> str:
    """ "live", "stale" (the page shows stale data) or "hung" (it does not run a script within 30 s)."""
    executor = browser.command_executor
    if isinstance(executor, RemoteConnection):
        executor.client_config.timeout = 30  # selenium's HTTP read timeout (120 s by default), first
    try:
        browser.set_script_timeout(30)
        return "live" if browser.execute_script(LIVE) else "stale"
    except Exception:  # noqa: BLE001 - a timed-out or crashed page is what we report
        return "hung"


def _close(browser: webdriver.Chrome) -> None:
    """Quit a browser; if a hung page keeps it from quitting, kill its processes (ours, by pid)."""
    driver = psutil.Process(browser.service.process.pid)
    tree = [*driver.children(recursive=True), driver]
    with contextlib.suppress(Exception):  # a hung browser: the kill below is the fallback
        browser.quit()
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


# Redis key families that fill on purpose for hours: the event ids of two dedup windows, the
# per-minute counts (kept 3 h) and the day counts. Their growth is printed; Redis is judged on the rest.
WINDOWED = ("gw:seen", "gw:counts", "gw:day")


def _verdict(start: dict[str, float], end: dict[str, float], slack_mb: float) -> list[str]:
    """The processes whose memory grew more than 10 % (and more than slack_mb)."""
    return [name for name, mb in end.items() if mb > start[name] * 1.10 and mb - start[name] > slack_mb]


def windowed_growth(before: dict[str, float], after: dict[str, float]) -> float:
    """MB the windowed key families grew by (growth by design, not a leak)."""
    return sum(after.get(f, 0.0) - before.get(f, 0.0) for f in WINDOWED)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=600, help="seconds of measured soak after the warm-up")
    p.add_argument("--warmup", type=float, default=None, help="seconds before the start sample (default 60)")
    p.add_argument("--rate", type=float, default=5000, help="simulated events per second")
    p.add_argument("--workers", type=int, default=2, help="worker processes in the group")
    p.add_argument("--browsers", type=int, default=3, help="headless Chromium pages on /wall")
    p.add_argument("--stream-maxlen", type=int, default=100_000, help="GRIDWATCH_STREAM_MAXLEN")
    p.add_argument("--dedup-window", type=int, default=60, help="GRIDWATCH_DEDUP_WINDOW_S")
    p.add_argument("--slack-mb", type=float, default=5.0, help="growth below this many MB always passes")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="print the verdict but exit 0 on FAIL (a crash still fails): CI on a box too small for the load",
    )
    p.add_argument("--sample", type=float, default=30, help="seconds between progress lines")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; print the figures and PASS/FAIL; return 1 on FAIL."""
    opts = _parser().parse_args(argv)
    warmup = opts.warmup if opts.warmup is not None else 60.0
    with tempfile.TemporaryDirectory(prefix="gw-soak-") as tmp_name, EmbeddedRedis(Path(tmp_name) / "redis") as server:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
        port = _free_port()
        env |= {
            "GRIDWATCH_DATA_DIR": str(tmp / "var"),
            "GRIDWATCH_REDIS_URL": server.url,
            "GRIDWATCH_PORT": str(port),
            "GRIDWATCH_LOG_LEVEL": "WARNING",
            "GRIDWATCH_DEMO_USERS": "0",
            "GRIDWATCH_STREAM_MAXLEN": str(opts.stream_maxlen),
            "GRIDWATCH_DEDUP_WINDOW_S": str(opts.dedup_window),
        }
        _run(["init"], env)
        engine = make_engine(f"sqlite:///{tmp / 'var' / 'gridwatch.db'}")
        city = Hierarchy(GeoRepository(engine).load_units())
        engine.dispose()
        _run(
            ["users", "create", USER, "--role", "city_operator", "--unit", city.city.code, "--password-stdin"],
            env,
            stdin=f"{INITIAL}\n",
        )
        log = tmp / "app.log"
        children: list[subprocess.Popen[bytes]] = []
        browsers: list[webdriver.Chrome] = []
        client = redis.Redis.from_url(server.url, socket_timeout=30)
        keys = RedisKeys()
        try:
            children.append(_start(["serve"], env, log))
            children += [_start(["worker", "--name", f"soak-{i + 1}"], env, log) for i in range(opts.workers)]
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/healthz")
            _change_password(base)
            app = BenchApp(base, client, keys, city, tmp, random.Random(0))
            for i in range(opts.browsers):
                browser = _browser(tmp / f"profile-{i}")
                browsers.append(browser)
                sign_in(browser, app)
                _until(browser, LIVE, 60)
            children.append(_start(["simulate", "--rate", str(opts.rate)], env, log))
            names = ["web", *(f"worker-{i + 1}" for i in range(opts.workers)), "simulate"]
            procs = {n: (psutil.Process(c.pid), False) for n, c in zip(names, children, strict=True)}
            assert server.pid is not None
            procs["redis"] = (psutil.Process(server.pid), False)
            for i, browser in enumerate(browsers):
                procs[f"chromium-{i + 1}"] = (psutil.Process(browser.service.process.pid), True)
            fleet = Fleet(procs)
            print(
                f"soak: {len(city.at_level(Level.GRID)):,} grids, {opts.rate:,.0f} events/s targeted, "
                f"{opts.workers} workers, {opts.browsers} browsers on /wall, warm-up {warmup:.0f} s, "
                f"measured {opts.duration:.0f} s; stream MAXLEN ~{opts.stream_maxlen:,}, dedup window "
                f"{opts.dedup_window} s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            time.sleep(warmup)
            mem0, back0, t0, cpu0 = fleet.memory(), backlog(client, keys), time.monotonic(), fleet.cpu()
            alerts0, families0 = _alerts(tmp), redis_families(client)
            _print_sample("start", mem0, back0)
            end_at = t0 + opts.duration
            while (left := end_at - time.monotonic()) > 0:
                time.sleep(min(opts.sample, left))
                b = backlog(client, keys)
                elapsed = time.monotonic() - t0
                print(
                    f"  t+{elapsed:4.0f} s: produced {(b.xadds - back0.xadds) / elapsed:,.0f}/s, applied "
                    f"{(b.applied - back0.applied) / elapsed:,.0f}/s, {b}; "
                    + ", ".join(f"{n} {mb:.0f}" for n, mb in fleet.memory().items())
                    + " MB",
                    flush=True,
                )
                for c in children:
                    if c.poll() is not None:
                        raise RuntimeError(f"process {c.pid} exited with {c.returncode}; see {log}")
            mem1, back1, elapsed = fleet.memory(), backlog(client, keys), time.monotonic() - t0
            cpu1 = fleet.cpu()
            alerts1, families1 = _alerts(tmp), redis_families(client)
            _print_sample("end", mem1, back1)
            produced = (back1.xadds - back0.xadds) / elapsed
            applied = (back1.applied - back0.applied) / elapsed
            filling = windowed_growth(families0, families1)
            judged = {**mem1, "redis": mem1["redis"] - filling}  # Redis less what its windows added
            grown = _verdict(mem0, judged, opts.slack_mb)
            allowed = back0.behind + back0.pending + 2 * opts.rate
            backlog_ok = back1.behind + back1.pending <= allowed
            states = [_page_state(b) for b in browsers]
        finally:
            for browser in browsers:
                _close(browser)
            for child in reversed(children):
                _stop(child)
            client.close()
            trouble = [ln for ln in log.read_text(errors="replace").splitlines() if _TROUBLE.search(ln)]
            for line in trouble[:10]:
                print(f"app log: {line[:200]}")
    print(
        "memory, start → end (MB): "
        + ", ".join(f"{n} {mem0[n]:.0f} → {mem1[n]:.0f} ({(mem1[n] - mem0[n]) / mem0[n]:+.1%})" for n in mem0)
    )
    print(
        f"throughput: produced {produced:,.0f} events/s (target {opts.rate:,.0f}), applied {applied:,.0f}/s;"
        f" alert occurrences counted: {alerts1 - alerts0:,}"
    )
    big = sorted(families1, key=lambda f: -families1[f])[:6]
    print(
        "redis keys, start → end (MB): " + ", ".join(f"{f} {families0.get(f, 0):.1f} → {families1[f]:.1f}" for f in big)
    )
    print(
        f"redis, judged without its windows ({', '.join(WINDOWED)}: +{filling:.1f} MB by design):"
        f" {mem0['redis']:.0f} → {judged['redis']:.0f} MB ({(judged['redis'] - mem0['redis']) / mem0['redis']:+.1%})"
    )
    print("cores used (CPU s per s): " + ", ".join(f"{n} {(cpu1[n] - cpu0[n]) / elapsed:.2f}" for n in cpu0))
    print(f"backlog: start {back0}; end {back1} (allowed end: {allowed:,.0f} entries)")
    print(f"pages at the end: {', '.join(states)}")
    ok = not grown and backlog_ok and set(states) <= {"live"}
    reasons = [f"memory grew > 10 %: {', '.join(grown)}"] if grown else []
    reasons += [] if backlog_ok else ["the backlog grew"]
    if back1.behind > opts.stream_maxlen:  # MAXLEN ~ trims the oldest entries, read or not
        reasons.append(f"backlog over the stream's MAXLEN ~{opts.stream_maxlen:,}: unread entries were trimmed")
    reasons += [] if set(states) <= {"live"} else ["not every page live at the end"]
    print(
        f"soak: {'PASS' if ok else 'FAIL'} {elapsed:.0f} s at {produced:,.0f} events/s produced,"
        f" {applied:,.0f}/s applied" + (f" ({'; '.join(reasons)})" if reasons else ""),
        flush=True,
    )
    return 0 if ok or opts.report_only else 1


def _alerts(tmp: Path) -> int:
    """The sum of all alerts' occurrence counts so far."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp / 'var' / 'gridwatch.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(SUM(count), 0) FROM alert")).scalar_one())
    finally:
        engine.dispose()


def _print_sample(when: str, memory: dict[str, float], back: Backlog) -> None:
    print(f"{when}: " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in memory.items()) + f"; backlog {back}", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
