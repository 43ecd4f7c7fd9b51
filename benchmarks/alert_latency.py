"""Event → alert on screen: from the XADD of an alarm to its row in the duty desk, in headless Chromium.

What is measured: the real app (``serve``, ``worker`` processes) on the private Redis and a
SQLite file, a headless Chromium logged in on /duty, and alarms XADDed one at a time to the
ingest stream. A MutationObserver in the page stamps each alert row when it enters the DOM
(``performance.timeOrigin + performance.now()``); the XADD is stamped in this process, and the
two clocks are compared through a measured offset. Also stamped in the page: when the push
reached the page's code, so the output splits the time into server path and rendering.

Against what: the same alarms on an idle system first (the floor of this path on this box),
then again while a load generator XADDs background events (gate passes and heartbeats that
fire no rule) at ``--rate`` per second. The achieved background rate, the worker's rate and
its backlog are printed next to the latencies: on a shared 2-core machine the generator,
worker, web server and browser compete, and the figures say how much.

Run: ``python -m benchmarks.alert_latency [--alarms N] [--rate R] [--small]``.
Figures are printed, not asserted. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

import redis
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from runtime.embedded_redis import EmbeddedRedis
from security.accounts import AccountService
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from storage.audit_repository import AuditRepository
from storage.database import make_engine
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from streams.ingest import DATA_FIELD
from streams.keys import RedisKeys

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "bench_duty", "benchmark duty passphrase"
SMALL = {"GRIDWATCH_DEMO_GRIDS": "400", "GRIDWATCH_DEMO_COMMUNITIES": "40", "GRIDWATCH_DEMO_STREETS": "9"}
SMALL |= {"GRIDWATCH_DEMO_DISTRICTS": "3", "GRIDWATCH_DEMO_SEED": "7", "GRIDWATCH_DEVICES_PER_GRID": "1"}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,900",
    "--mute-audio",  # the alarm tones would play 200 times; their timing is not measured here
)
MAXLEN = 1_000_000

# Stamps every alert row when it first enters the queue, and every push when it reaches the page's code.
OBSERVE = """
window.__rowAt = {}; window.__pushAt = {};
const now = () => performance.timeOrigin + performance.now();
new MutationObserver(function (records) {
  const t = now();
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType === 1 && n.dataset && n.dataset.alertId) {
      const a = gw.alerts.byId.get(Number(n.dataset.alertId));
      if (a && !(a.unit in window.__rowAt)) window.__rowAt[a.unit] = t;
    }
  }
}).observe(document.getElementById('gw-alert-queue'), {childList: true, subtree: true});
const onPush = gw.alerts.onPush;
gw.alerts.onPush = function (msg) {
  const t = now();
  for (const a of (msg && msg.alerts) || []) if (!(a.unit in window.__pushAt)) window.__pushAt[a.unit] = t;
  return onPush(msg);
};
"""


@dataclass(frozen=True, slots=True)
class Phase:
    """Latencies (ms) of one set of alarms, and what the box did meanwhile."""

    name: str
    to_row: list[float]
    to_push: list[float]
    missing: int
    background: float  # events/s the generator achieved (0 when idle)
    applied: float  # events/s the worker applied meanwhile
    behind: int  # events XADDed during the phase that the worker had not applied by its end


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _event(lon: float, lat: float, device: str, ts: str, payload: str) -> str:
    return (
        f'{{"event_id":"{uuid.uuid4()}","device_id":"{device}","device_type":"gate","ts":"{ts}",'
        f'"lon":{lon:.6f},"lat":{lat:.6f},"payload":{payload}}}'
    )


_GATE = '{"kind":"gate_pass","direction":"in","person":"resident","health_code":"green"}'
_BEAT = '{"kind":"heartbeat","battery":80}'


def _generate(
    url: str,
    stream: str,
    rate: float,
    points: list[tuple[float, float]],
    count: int,
    ready: MpEvent,
    stop: MpEvent,
    sent: Synchronized[int],
) -> None:
    """XADD background events at ``rate`` per second until stopped (as fast as it can if it cannot keep up).

    The events are serialised before the clock starts, so the generator spends its time on XADD, not JSON.
    """
    ts = datetime.now(UTC).isoformat()
    raws = [
        _event(*points[i % len(points)], f"BG{i % 50_000}", ts, _BEAT if i % 3 == 0 else _GATE) for i in range(count)
    ]
    client = redis.Redis.from_url(url)
    ready.set()
    started = time.monotonic()
    n = 0
    while not stop.is_set():
        due = int(rate * (time.monotonic() - started)) - n
        if due <= 0:
            time.sleep(0.002)
            continue
        pipe = client.pipeline(transaction=False)
        for i in range(n, n + min(due, 2000)):
            pipe.xadd(stream, {DATA_FIELD: raws[i % count]}, maxlen=MAXLEN, approximate=True)
        n += len(pipe)
        pipe.execute()
        sent.value = n
    client.close()


def _alarm(lon: float, lat: float) -> str:
    return (
        f'{{"event_id":"{uuid.uuid4()}","device_id":"AL{uuid.uuid4().hex[:12]}","device_type":"alarm_button",'
        f'"ts":"{datetime.now(UTC).isoformat()}","lon":{lon:.6f},"lat":{lat:.6f},'
        '"payload":{"kind":"alarm","alarm":"button"}}'
    )


@contextmanager
def _processes(env: dict[str, str], log: Path, workers: int) -> Iterator[None]:
    procs = []
    with log.open("ab") as out:
        try:
            for args in (["serve"], *(["worker", "--name", f"bench-{i}"] for i in range(workers))):
                procs.append(
                    subprocess.Popen(  # noqa: S603 - our own app.py
                        [sys.executable, str(ROOT / "app.py"), *args],
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            yield
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


def _wait_http(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL built here
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _browser(profile: Path) -> webdriver.Chrome:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        raise SystemExit("chromium and chromium-driver are required (make test installs them as root)")
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = chromium
    return webdriver.Chrome(service=Service(driver), options=options)


def _until(browser: webdriver.Chrome, script: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(script)


def _clock_offset_ms(browser: webdriver.Chrome, samples: int = 15) -> float:
    """Browser clock minus ours (ms), from the sample with the shortest round trip."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time() * 1000
        theirs = float(browser.execute_script("return performance.timeOrigin + performance.now()"))
        after = time.time() * 1000
        if best is None or after - before < best[0]:
            best = (after - before, theirs - (before + after) / 2)
    assert best is not None
    return best[1]


def _measure(
    name: str,
    browser: webdriver.Chrome,
    client: redis.Redis,
    keys: RedisKeys,
    grids: list[tuple[str, float, float]],
    interval: float,
    generated: Synchronized[int] | None,
) -> Phase:
    browser.execute_script("window.__rowAt = {}; window.__pushAt = {};")
    offset = _clock_offset_ms(browser)
    applied0, gen0, t0 = int(client.get(keys.applied_total) or 0), generated.value if generated else 0, time.monotonic()
    sent: dict[str, float] = {}
    for code, lon, lat in grids:
        sent[code] = time.time() * 1000
        client.xadd(keys.ingest_stream, {DATA_FIELD: _alarm(lon, lat)}, maxlen=MAXLEN, approximate=True)
        time.sleep(interval)  # pacing between alarms, not waiting for a result
    elapsed = time.monotonic() - t0
    background = ((generated.value if generated else 0) - gen0) / elapsed
    applied = (int(client.get(keys.applied_total) or 0) - applied0) / elapsed
    applied_n = int(client.get(keys.applied_total) or 0) - applied0
    behind = max(0, (generated.value if generated else 0) - gen0 + len(sent) - applied_n)
    deadline = time.monotonic() + 300  # a worker that fell behind needs time to reach the last alarm
    rows: dict[str, float] = {}
    while time.monotonic() < deadline and len(rows) < len(sent):
        rows = browser.execute_script("return window.__rowAt")
        time.sleep(0.2)
    pushes: dict[str, float] = browser.execute_script("return window.__pushAt")
    page = browser.execute_script(
        "return {pushes: gw.alerts.pushes, gaps: gw.alerts.gaps, resyncs: gw.alerts.resyncs,"
        " held: gw.alerts.byId.size, rows: document.querySelectorAll('#gw-alert-queue li').length,"
        " seq: gw.alerts.seq, connected: gw.wasConnected, connects: gw.connects}"
    )
    dead = client.xlen(keys.dead_letter_stream) if client.exists(keys.dead_letter_stream) else 0
    print(f"{'':>14}  page: {page}; dead letters so far: {dead}", flush=True)
    to_row = [rows[c] - offset - t for c, t in sent.items() if c in rows]
    to_push = [pushes[c] - offset - t for c, t in sent.items() if c in pushes]
    return Phase(name, to_row, to_push, len(sent) - len(to_row), background, applied, behind)


def _print(phase: Phase) -> None:
    row, push = phase.to_row, phase.to_push
    print(
        f"{phase.name:>14}: XADD→row p50 {_pct(row, 0.5):8.1f} ms  p99 {_pct(row, 0.99):8.1f} ms"
        f"  max {max(row or [0]):8.1f}  | XADD→push in page p50 {_pct(push, 0.5):8.1f}  p99 {_pct(push, 0.99):8.1f}"
        f"  | n={len(row)} missing={phase.missing}",
        flush=True,
    )
    if phase.background:
        print(
            f"{'':>14}  background achieved {phase.background:,.0f} events/s; worker applied {phase.applied:,.0f}"
            f" events/s; behind by {phase.behind:,} events at the last alarm",
            flush=True,
        )


def _drain(client: redis.Redis, keys: RedisKeys, timeout: float = 600) -> None:
    """Wait until the worker has caught up (its applied counter stops moving)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        now = int(client.get(keys.applied_total) or 0)
        if now == last:
            return
        last = now
        time.sleep(1.0)


def _loaded(
    browser: webdriver.Chrome,
    client: redis.Redis,
    url: str,
    keys: RedisKeys,
    rate: float,
    background_points: list[tuple[float, float]],
    targets: list[tuple[str, float, float]],
    args: argparse.Namespace,
) -> Phase:
    ready, stop, generated = mp.Event(), mp.Event(), mp.Value("q", 0)
    # Enough distinct events (distinct event_ids: none is a duplicate) for the whole phase, at most a million.
    count = min(1_000_000, int(rate * (args.warmup + len(targets) * args.interval + 10)))
    gen = mp.Process(
        target=_generate,
        args=(url, keys.ingest_stream, rate, background_points, count, ready, stop, generated),
        daemon=True,
    )
    gen.start()
    try:
        if not ready.wait(300):
            raise TimeoutError("the load generator did not get ready")
        time.sleep(args.warmup)  # the load reaches its steady state before the first alarm
        phase = _measure(f"at {rate:,.0f}/s", browser, client, keys, targets, args.interval, generated)
    finally:
        stop.set()
        gen.join(10)
    return phase


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--alarms", type=int, default=200, help="alarms per loaded phase (default 200)")
    p.add_argument("--idle-alarms", type=int, default=50, help="alarms on the idle system first (default 50)")
    p.add_argument(
        "--rates",
        default="3000,20000",
        help="background events/s of each loaded phase (default 3000,20000: one the worker keeps up with, the goal)",
    )
    p.add_argument("--interval", type=float, default=0.1, help="seconds between alarms (default 0.1)")
    p.add_argument("--workers", type=int, default=1, help="ingest worker processes (default 1)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of background load before measuring")
    p.add_argument("--small", action="store_true", help="a 400-grid city instead of the full demo city")
    args = p.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    wanted = args.idle_alarms + args.alarms * len(rates)

    with tempfile.TemporaryDirectory(prefix="gw-bench-alerts-") as tmp_name:
        tmp = Path(tmp_name)
        with EmbeddedRedis(tmp / "redis") as server:
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWATCH_")}
            env |= {"GRIDWATCH_DATA_DIR": str(tmp / "var"), "GRIDWATCH_REDIS_URL": server.url}
            env |= {"GRIDWATCH_PORT": str(port), "GRIDWATCH_LOG_LEVEL": "WARNING", "GRIDWATCH_DEMO_USERS": "0"}
            if args.small:
                env |= SMALL
            started = time.monotonic()
            init = [sys.executable, str(ROOT / "app.py"), "init"]
            subprocess.run(init, env=env, cwd=ROOT, check=True, timeout=900)  # noqa: S603 - our own command
            engine = make_engine(f"sqlite:///{tmp / 'var' / 'gridwatch.db'}")
            city = Hierarchy(GeoRepository(engine).load_units())
            client = redis.Redis.from_url(server.url)
            accounts = AccountService(
                UserRepository(engine), AuditRepository(engine), SessionStore(client), city, PasswordHashing()
            )
            accounts.create("bench", USER, Role.DUTY_STAFF, city.city.code, password=PASSWORD, must_change=False)
            engine.dispose()
            grid_units = city.at_level(Level.GRID)
            if len(grid_units) < wanted:
                raise SystemExit(f"{wanted} alarms need {wanted} grids (each alarm a grid of its own): drop --small")
            chosen = grid_units[:: len(grid_units) // wanted][:wanted]
            points = [(p.x, p.y) for p in (u.geometry.representative_point() for u in chosen)]
            targets = [(u.code, x, y) for u, (x, y) in zip(chosen, points, strict=True)]
            background_points = [
                (pt.x, pt.y) for pt in (u.geometry.representative_point() for u in grid_units[1::7][:5000])
            ]
            keys = RedisKeys()
            print(
                f"city: {len(grid_units):,} grids; set up in {time.monotonic() - started:.0f} s; "
                f"{os.cpu_count()} CPUs (shared); {args.workers} worker process(es); one alarm every {args.interval} s",
                flush=True,
            )
            base = f"http://127.0.0.1:{port}"
            phases: list[Phase] = []
            with _processes(env, tmp / "app.log", args.workers):
                _wait_http(f"{base}/healthz")
                browser = _browser(tmp / "profile")
                try:
                    browser.get(f"{base}/login?next=/duty")
                    browser.find_element(By.NAME, "username").send_keys(USER)
                    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
                    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
                    _until(browser, "return window.gw && gw.alerts && gw.wasConnected && gw.alerts.resyncs > 0")
                    _until(browser, "return !gw.alerts.resyncing && document.getElementById('gw-alert-queue')")
                    browser.execute_script(OBSERVE)
                    idle_targets, rest = targets[: args.idle_alarms], targets[args.idle_alarms :]
                    phases.append(_measure("idle", browser, client, keys, idle_targets, args.interval, None))
                    _print(phases[-1])
                    for i, rate in enumerate(rates):
                        mine = rest[i * args.alarms : (i + 1) * args.alarms]
                        phases.append(_loaded(browser, client, server.url, keys, rate, background_points, mine, args))
                        _print(phases[-1])
                        _drain(client, keys)
                finally:
                    browser.quit()
            client.close()
            trouble = [
                line
                for line in (tmp / "app.log").read_text(encoding="utf-8", errors="replace").splitlines()
                if "WARNING" in line or "ERROR" in line or "Traceback" in line
            ]
            for line in trouble[:10]:
                print(f"app log: {line[:200]}")
    idle, last = phases[0], phases[-1]
    print(
        f"alert_latency: p50 {_pct(last.to_row, 0.5):.1f} ms p99 {_pct(last.to_row, 0.99):.1f} ms over "
        f"{len(last.to_row)} alarms at {last.background:,.0f} background events/s achieved "
        f"(of {rates[-1]:,.0f} targeted; worker applied {last.applied:,.0f}/s); idle p50 "
        f"{_pct(idle.to_row, 0.5):.1f} p99 {_pct(idle.to_row, 0.99):.1f} ms; goal p99 <= 100 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
