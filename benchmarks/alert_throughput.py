"""Alert creation with dedup, side by side with Prometheus Alertmanager in the same run.

What is measured: ``AlertRepository.record`` (the path the worker's AlertSink, the offline watch
and the cases hook all take), persisted in SQLite (a file, WAL, synchronous=NORMAL, the app's
own engine and migrations) and deduplicated (one open alert per dedup key, with a count; an
event_id already counted changes nothing). The label mix is the peer's: 4 alert names x
12,410 grids with the severity fixed per pair, drawn uniformly at random, so most sends
after the first minute are repeats that must group into an existing alert. Two phases, as
the peer's: one alert per call, then ``--batch`` alerts per call, ``--threads`` callers each
(the peer's 8 HTTP client threads), a fresh database per phase. A third, shorter phase sends
one alert per call from a single thread: there group commit has nobody to share with.

Against what: ``shared/bench/peers/alertmanager`` (Alertmanager 0.25, alerts held in memory
only), run as a subprocess in the same run; its final line gives its single and batch rates.
If it cannot run, the reason is printed and only our figures are shown.

Checks every phase: open alerts == distinct dedup keys sent, the sum of counts == alerts
accepted, and one alert_event row per accepted alert.

Run: ``python -m benchmarks.alert_throughput [--seconds S] [--threads T] [--batch B] [--no-peer]``.
The last line of output is machine-readable: ``alert_throughput: <single> alerts/s (...)``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from domain.alerts import Severity
from runtime.alert_sink import load_alert_config
from storage.alert_models import AlertEventRow, AlertRow
from storage.alert_repository import AlertRepository, Occurrence
from storage.database import make_engine
from storage.migrate import upgrade_to_head

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT.parent / "shared" / "bench" / "peers" / "alertmanager"
# The peer's generator (shared/bench/peers/alertmanager, load.py): names, severities, grids.
NAMES = ("DeviceOffline", "HighTemperature", "PowerLoss", "LinkDown")
SEVERITIES = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)
GRIDS = 12_410
LABEL_SETS = len(NAMES) * GRIDS
_PEER_LINE = re.compile(r"^alertmanager: (\d+) alerts/s .*?batch(\d+): (\d+) alerts/s", re.MULTILINE)


class BenchFailure(RuntimeError):
    """A correctness check failed."""


@dataclass(frozen=True, slots=True)
class Phase:
    """One timed phase: what was sent and how fast it was accepted."""

    name: str
    threads: int
    per_call: int
    accepted: int
    elapsed: float
    latencies: list[float]
    distinct: int
    transactions: int
    calls: int
    load: float  # 1-minute load average at the end: the machine is shared, the same run is no guarantee

    @property
    def rate(self) -> float:
        """Alerts accepted per second."""
        return self.accepted / self.elapsed

    def percentile(self, q: float) -> float:
        """Call latency at quantile q, in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass(frozen=True, slots=True)
class Peer:
    """Alertmanager's figures from its final line, or why there are none."""

    single: float | None
    batch: float | None
    batch_size: int | None
    line: str


def log(message: str) -> None:
    """Print a progress note to stderr."""
    print(f"# {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the knobs from the command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.alert_throughput", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0, help="seconds per phase, ours and the peer's (20)")
    p.add_argument("--threads", type=int, default=8, help="concurrent callers, as the peer's CONC (8)")
    p.add_argument("--batch", type=int, default=100, help="alerts per call in the batch phase (100)")
    p.add_argument("--solo-seconds", type=float, default=5.0, help="seconds of the one-thread single phase (5)")
    p.add_argument("--no-peer", action="store_true", help="do not run Alertmanager")
    p.add_argument("--peer", type=Path, default=PEER, help="the peer script (shared/bench/peers/alertmanager)")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.threads < 1 or args.batch < 1:
        p.error("--seconds, --threads and --batch must be positive")
    return args


def run_peer(script: Path, args: argparse.Namespace) -> Peer:
    """Run the Alertmanager peer script and parse its final line; never raise."""
    if not script.exists():
        return Peer(None, None, None, f"not run: {script} is missing")
    env = dict(os.environ, DUR=str(int(args.seconds)), CONC=str(args.threads), BATCH=str(args.batch))
    log(f"running the peer {script} (about {int(3 * args.seconds + 20)} s)")
    try:
        done = subprocess.run(  # noqa: S603 - the shared peer script, by path
            [str(script)], env=env, capture_output=True, text=True, timeout=30 * args.seconds + 600, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Peer(None, None, None, f"not run: {exc}")
    found = _PEER_LINE.search(done.stdout)
    if done.returncode != 0 or found is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return Peer(None, None, None, f"failed (exit {done.returncode}): {' | '.join(tail)}")
    last = done.stdout.strip().splitlines()
    for line in last[:-1]:
        print(f"  peer> {line}", flush=True)
    load = f" [load at its end {os.getloadavg()[0]:.1f}]"
    return Peer(float(found.group(1)), float(found.group(3)), int(found.group(2)), last[-1] + load)


def occurrence(k: int, event_id: str, ts: datetime) -> Occurrence:
    """The peer's label set k as an occurrence: alertname x grid, severity fixed per pair."""
    g, n = divmod(k, len(NAMES))
    name = NAMES[n]
    return Occurrence(
        event_id=event_id,
        rule_key=name,
        dedup_key=f"{name}:G{g:05d}",
        severity=SEVERITIES[(g * 7 + n) % 3],
        unit_code=f"G{g:05d}",
        text=f"{name} on grid G{g:05d}",
        clears=False,
        ts=ts,
    )


def run_phase(name: str, db: Path, threads: int, per_call: int, seconds: float, pool_alerts: float) -> Phase:
    """Feed a fresh database from ``threads`` callers for ``seconds``; check the result."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    repo = AlertRepository(engine, load_alert_config().escalation)
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]
    lock = threading.Lock()
    accepted = [0]
    latencies: list[float] = []
    sent: set[int] = set()

    def draws(seed: int, calls: int) -> list[tuple[list[int], list[Occurrence]]]:
        rng = random.Random(seed)
        now = datetime.now(UTC)
        out = []
        for c in range(calls):
            ks = [rng.randrange(LABEL_SETS) for _ in range(per_call)]
            out.append((ks, [occurrence(k, f"{seed:04d}-{c:025d}-{j:05d}", now) for j, k in enumerate(ks)]))
        return out

    # The calls are built before the clock starts: in one process, callers busy building payloads
    # would hold the GIL the writer needs back after every SQLite step (the peer's client is another
    # process). The pool is sized for the goal rate; a caller that runs out builds more as it goes.
    pool = max(1, int(pool_alerts / threads / per_call))
    prepared = [draws(seed, pool) for seed in range(threads)]

    def caller(seed: int) -> None:
        mine_lat: list[float] = []
        mine_sent: set[int] = set()
        ok = 0
        calls = prepared[seed]
        more = 0
        start.wait()
        while True:
            if not calls:
                more += 1
                calls = draws(1000 * more + seed, 100)
            ks, batch = calls.pop()
            t = time.perf_counter()
            if t >= stop_at[0]:
                break
            repo.record(batch)
            mine_lat.append(time.perf_counter() - t)
            ok += per_call
            mine_sent.update(ks)
        with lock:
            accepted[0] += ok
            latencies.extend(mine_lat)
            sent.update(mine_sent)

    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    start.wait()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    check(engine, name, len(sent), accepted[0])
    transactions, calls = repo.group_stats
    engine.dispose()
    load = os.getloadavg()[0]
    return Phase(name, threads, per_call, accepted[0], elapsed, latencies, len(sent), transactions, calls, load)


def check(engine: object, name: str, distinct: int, accepted: int) -> None:
    """Raise BenchFailure unless dedup held: one alert per label set sent, every alert counted once."""
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        alerts, counted = conn.execute(select(func.count(), func.sum(AlertRow.count))).one()
        events = conn.execute(select(func.count()).select_from(AlertEventRow)).scalar_one()
    problems = [
        f"{alerts} alerts != {distinct} distinct label sets sent" if alerts != distinct else "",
        f"sum of counts {counted} != {accepted} accepted" if (counted or 0) != accepted else "",
        f"{events} alert_event rows != {accepted} accepted" if events != accepted else "",
    ]
    failed = [p for p in problems if p]
    if failed:
        raise BenchFailure(f"{name}: " + "; ".join(failed))


def phase_line(p: Phase) -> str:
    """Render one phase."""
    shared = p.calls / p.transactions if p.transactions else 0.0
    return (
        f"  {p.name:<22} {p.rate:>9,.0f} alerts/s   calls: {p.threads} thread(s) x {p.per_call} alert(s), "
        f"p50 {p.percentile(0.5):.2f} ms p99 {p.percentile(0.99):.2f} ms; {p.accepted:,} sent, "
        f"{p.distinct:,} distinct = alerts stored (ok); {p.transactions:,} transactions "
        f"({shared:.1f} calls each); load {p.load:.1f}"
    )


def ratio(ours: float, peer: float | None) -> str:
    """ours / peer, or n/a."""
    return f"{ours / peer:.2f}x" if peer else "n/a"


def machine_facts() -> str:
    """Describe the machine and the libraries."""
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    import sqlalchemy

    return (
        f"nproc {len(os.sched_getaffinity(0))}, load avg {load}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the peer, then our phases; print the figures and the ratios."""
    args = parse_args(argv)
    peer = Peer(None, None, None, "not run (--no-peer)") if args.no_peer else run_peer(args.peer.resolve(), args)
    tmp = Path(tempfile.mkdtemp(prefix="gw-alert-bench-"))
    try:
        db = tmp / "alerts.db"
        log(f"ours: single x{args.threads} threads, {args.seconds:.0f} s")
        single = run_phase("single", db, args.threads, 1, args.seconds, 12_000 * args.seconds)
        log(f"ours: batch{args.batch} x{args.threads} threads, {args.seconds:.0f} s")
        batch = run_phase(f"batch{args.batch}", db, args.threads, args.batch, args.seconds, 40_000 * args.seconds)
        log(f"ours: single, one thread, {args.solo_seconds:.0f} s")
        solo = run_phase("single, one thread", db, 1, 1, args.solo_seconds, 3_000 * args.solo_seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"alert_throughput figures ({args.seconds:.0f} s per phase, fresh database per phase, "
        f"{LABEL_SETS:,} possible label sets):"
    )
    print(f"  machine: {machine_facts()}")
    print("  storage: SQLite file, WAL, synchronous=NORMAL, AlertRepository.record (upsert on the open-alert index,")
    print("           event_id dedup, group commit across concurrent callers); durable at each call's return")
    print(f"  peer: {peer.line}")
    for p in (single, batch, solo):
        print(phase_line(p))
    goal_single = 3 * peer.single if peer.single else None
    print(
        f"  ratio single / Alertmanager single: {ratio(single.rate, peer.single)} (goal >= 3x"
        + (f" = {goal_single:,.0f}/s)" if goal_single else ")")
    )
    print(
        f"  ratio batch{args.batch} / Alertmanager batch{peer.batch_size or args.batch}: "
        f"{ratio(batch.rate, peer.batch)} (goal >= 1x)"
    )
    print(f"  ratio one-thread single / Alertmanager single: {ratio(solo.rate, peer.single)}")
    am_single = f"{peer.single:.0f}" if peer.single else "n/a"
    am_batch = f"{peer.batch:.0f}" if peer.batch else "n/a"
    print(
        f"alert_throughput: {single.rate:.0f} alerts/s (single c{args.threads}, ratio "
        f"{ratio(single.rate, peer.single)} vs Alertmanager {am_single}/s; batch{args.batch}: {batch.rate:.0f}/s, "
        f"ratio {ratio(batch.rate, peer.batch)} vs {am_batch}/s; one thread {solo.rate:.0f}/s; dedup ok)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
