"""The command-line commands: init, serve, worker, simulate, run (all of them together), web and prod.

The families of subcommands (geo, users, audit, clients, devices, deadletter, replay) live in their own modules.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from domain.case_config import load_case_config
from geo.hierarchy import Level
from geo.lookup import GridLocator
from runtime import (
    account_commands,
    case_demo,
    client_commands,
    deadletter_commands,
    device_commands,
    geo_commands,
    replay_commands,
    verification_commands,
)
from runtime.alert_sink import AlertAnnouncer, AlertRaiser, AlertSink, load_alert_config
from runtime.bootstrap import demo_devices, ensure_demo_city, open_database
from runtime.case_supervisor import CaseSupervisor
from runtime.device_offline import OfflineWatch
from runtime.embedded_redis import EmbeddedRedis
from runtime.escalator import Escalator
from runtime.verification_service import verification_service_for
from runtime.window_alerts import WindowAlerts
from settings import Settings
from storage.alert_repository import AlertRepository
from storage.audit_repository import AuditRepository
from storage.case_repository import CaseRepository
from storage.repositories import DeviceRepository
from streams.aggregates import MapAggregator
from streams.connection import connect
from streams.keys import RedisKeys
from streams.simulator import Simulator
from streams.unit_stats import UnitStatsAggregator
from streams.worker import IngestWorker

__all__ = ["run_cli"]

_LOOP_NAMES = ("aggregator", "unit-stats", "escalator", "offline-watch", "case-supervisor")

log = logging.getLogger("gridwatch")
APP_PY = Path(__file__).resolve().parent.parent / "app.py"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="Gridwatch: real-time grid governance dashboard.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("serve", help="serve the web app (default); starts an embedded Redis if none is set")
    sub.add_parser("init", help="create the database and the demo city, then exit")
    w = sub.add_parser("worker", help="run an ingest worker (and the map aggregator)")
    w.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}", help="consumer name in the group")
    s = sub.add_parser("simulate", help="publish simulated device events into the ingest stream")
    s.add_argument("--rate", type=float, default=None, help="events per second (default GRIDWATCH_SIM_RATE)")
    s.add_argument("--count", type=int, default=None, help="stop after this many events")
    s.add_argument("--cases", action="store_true", help="also file and move demo cases (GRIDWATCH_DEMO_CASES_PER_DAY)")
    r = sub.add_parser("run", help="serve + worker + simulator together (what `make run` does)")
    r.add_argument("--rate", type=float, default=None, help="simulated events per second")
    sub.add_parser("web", help="one production web process: gunicorn, one worker (GRIDWATCH_WEB_WORKER)")
    pr = sub.add_parser("prod", help="the production layout on this machine: web processes and workers (`make prod`)")
    pr.add_argument("--web", type=int, default=2, help="web processes, on ports GRIDWATCH_PORT, +1, … (default 2)")
    pr.add_argument("--workers", type=int, default=2, help="ingest workers in the consumer group (default 2)")
    geo_commands.add_parser(sub)
    account_commands.add_parsers(sub)
    client_commands.add_parser(sub)
    device_commands.add_parser(sub)
    deadletter_commands.add_parser(sub)
    replay_commands.add_parser(sub)
    verification_commands.add_parser(sub)
    return p


def run_cli(argv: Sequence[str] | None, create_app: Callable[[Settings], Any]) -> int:
    """Parse arguments and run one command; return the exit status."""
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # every process migrates; say so only on change
    command = args.command or "serve"
    if command == "init":
        _init(settings)
        return 0
    if command == "worker":
        return _worker(settings, args.name)
    if command == "simulate":
        return _simulate(settings, args.rate, args.count, cases=args.cases)
    if command == "run":
        return _run_all(settings, args.rate, create_app)
    if command == "web":
        return _web(settings, create_app)
    if command == "prod":
        return _prod(settings, args.web, args.workers)
    if command == "geo":
        return geo_commands.run(args, settings)
    if command == "devices":
        return device_commands.run(args, settings)
    if command in ("users", "audit"):
        return account_commands.run(args, settings)
    if command == "clients":
        return client_commands.run(args, settings)
    if command == "deadletter":
        return deadletter_commands.run(args, settings, _existing_redis_url)
    if command == "replay":
        return replay_commands.run(args, settings, _existing_redis_url)
    if command == "verification":
        return verification_commands.run(args, settings)
    return _serve(settings, create_app)


# -- shared pieces -----------------------------------------------------------------------------
def _init(settings: Settings) -> None:
    engine = open_database(settings)
    with tqdm(total=0, desc="demo city", unit="community", disable=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        hierarchy = ensure_demo_city(engine, settings, progress)
    print(
        f"city {hierarchy.city.name}: {len(hierarchy.at_level(Level.GRID))} grids, "
        f"{DeviceRepository(engine).count()} devices",
        flush=True,
    )
    engine.dispose()


def _demo_history(settings: Settings) -> None:
    engine = open_database(settings)
    hierarchy = ensure_demo_city(engine, settings)
    started = time.monotonic()
    filed = case_demo.ensure_demo_history(settings, engine, hierarchy)
    if filed:
        print(f"demo cases: {filed} filed and walked in {time.monotonic() - started:.1f} s", flush=True)
    engine.dispose()


def _embedded(settings: Settings) -> EmbeddedRedis:
    return EmbeddedRedis(settings.data_dir / "redis")


def _existing_redis_url(settings: Settings) -> str:
    """The Redis URL set, or the embedded server a `serve`/`run` in this data dir started."""
    if settings.redis_url:
        return settings.redis_url
    sock = Path(_embedded(settings).socket_path)
    if sock.exists():
        return f"unix://{sock}"
    raise SystemExit("no Redis: set GRIDWATCH_REDIS_URL, or start `python app.py serve` in this data dir first")


@contextmanager
def _redis_for(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a Redis URL, starting the embedded server if none was set."""
    if settings.redis_url:
        yield settings
        return
    server = _embedded(settings)
    server.start()
    try:
        yield settings.with_overrides(redis_url=server.url)
    finally:
        server.stop()


def _interrupt_on_signals() -> None:
    """Turn SIGTERM and SIGINT into KeyboardInterrupt, so every way of stopping cleans up.

    SIGINT is installed explicitly: a process started in the background by a shell inherits
    it as ignored, and Python would keep it that way.
    """

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _on_signals(stop: Callable[[], None]) -> None:
    def handler(_signum: int, _frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# -- commands ------------------------------------------------------------------------------------
def _serve(settings: Settings, create_app: Callable[[Settings], Any]) -> int:
    _interrupt_on_signals()
    _init(settings)
    with _redis_for(settings) as s:
        app = create_app(s)
        try:
            app.serve()
        except KeyboardInterrupt:
            pass
        finally:
            app.close()
    return 0


def _worker(settings: Settings, name: str) -> int:
    url = _existing_redis_url(settings)
    engine = open_database(settings)
    hierarchy = ensure_demo_city(engine, settings)
    devices = DeviceRepository(engine)
    client = connect(url)
    keys = RedisKeys(settings.ingest_stream, settings.dead_letter_stream)
    config = load_alert_config(settings.alert_rules)
    alerts = AlertRepository(engine, config.escalation)
    worker = IngestWorker(
        client,
        GridLocator(hierarchy.at_level(Level.GRID)),
        keys,
        consumer=name,
        batch=settings.worker_batch,
        claim_idle_ms=settings.worker_claim_idle_ms,
        max_deliveries=settings.max_deliveries,
        dedup_window_s=settings.dedup_window_s,
        dead_maxlen=settings.dead_letter_maxlen,
        window_minutes=settings.window_minutes,
        max_age_s=settings.event_max_age_s,
        max_ahead_s=settings.event_max_ahead_s,
        sink=AlertSink(alerts, config.rules, hierarchy, client, keys),
    )
    aggregator = MapAggregator(
        client,
        hierarchy,
        keys,
        owner=name,
        window_minutes=settings.window_minutes,
        interval_s=settings.delta_interval_s,
        devices_total=devices.count,
        online_s=settings.device_online_s,
    )

    def device_grids() -> dict[str, str]:
        """Each registered device's grid, read afresh (the registry grows while we run)."""
        return {d.device_id: d.grid_code for d in devices.load_all()}

    raiser = AlertRaiser(alerts, config.rules, hierarchy, AlertAnnouncer(alerts, hierarchy, client, keys))
    unit_stats = UnitStatsAggregator(
        client,
        hierarchy,
        keys,
        owner=name,
        device_grids=device_grids,
        online_s=settings.device_online_s,
        utc_offset_min=settings.utc_offset_min,
        interval_s=settings.stats_interval_s,
        watcher=WindowAlerts(
            raiser,
            alerts,
            config.rules,
            hierarchy,
        ),
    )
    escalator = Escalator(
        client,
        keys,
        alerts,
        AuditRepository(engine),
        hierarchy,
        config.escalation,
        owner=name,
        interval_s=settings.escalation_interval_s,
    )
    offline = OfflineWatch(
        client,
        keys,
        alerts,
        config.rules,
        device_grids,
        owner=name,
        hierarchy=hierarchy,
        interval_s=settings.offline_interval_s,
    )
    supervisor = CaseSupervisor(
        CaseRepository(engine),
        raiser,
        hierarchy,
        load_case_config(settings.case_rules),
        client,
        keys.cases_lease,
        owner=name,
        interval_s=settings.case_interval_s,
        checks=(verification_service_for(engine, hierarchy, raiser, alerts).check_overdue,),
    )
    loops: list[Any] = [aggregator, unit_stats, escalator, offline, supervisor]

    def stop() -> None:
        worker.stop()
        for loop in loops:
            loop.stop()

    _on_signals(stop)
    # The city, its spatial index and the rules live as long as the process: keep the cyclic garbage
    # collector off them, or each full collection walks them all (a third of the worker's time).
    gc.freeze()
    threads = [
        threading.Thread(target=loop.run, name=name_, daemon=True)
        for loop, name_ in zip(loops, _LOOP_NAMES, strict=True)
    ]
    for thread in threads:
        thread.start()
    log.info("worker %s consuming %s", name, keys.ingest_stream)
    worker.run()
    for thread in threads:
        thread.join(timeout=5)
    log.info("worker %s stopped: %s", name, worker.totals)
    client.close()
    engine.dispose()
    return 0


def _simulate(settings: Settings, rate: float | None, count: int | None, *, cases: bool = False) -> int:
    from domain.simulation import EventFactory

    url = _existing_redis_url(settings)
    engine = open_database(settings)
    hierarchy = ensure_demo_city(engine, settings)
    devices = DeviceRepository(engine).load_all()
    if not devices:  # e.g. a city just imported: the simulator brings its own demo devices
        placed = demo_devices(hierarchy, settings.devices_per_grid, settings.demo_seed)
        DeviceRepository(engine).add_many(placed)
        log.info("placed %d demo devices for the simulator", len(placed))
        devices = DeviceRepository(engine).load_all()
    demo = case_demo.live_demo(settings, engine, hierarchy) if cases and settings.demo_cases_per_day > 0 else None
    if demo is None:
        engine.dispose()
    else:
        threading.Thread(target=demo.run, name="case-demo", daemon=True).start()
    client = connect(url)
    sim = Simulator(
        client,
        EventFactory(devices, seed=settings.demo_seed),
        settings.ingest_stream,
        rate=settings.sim_rate if rate is None else rate,
        maxlen=settings.stream_maxlen,
    )

    def stop() -> None:
        sim.stop()
        if demo is not None:
            demo.stop()

    _on_signals(stop)
    log.info("simulating %.0f events/s from %d devices", sim.rate, len(devices))
    sim.run(limit=count)
    client.close()
    return 0


class _Child:
    """A child process that is restarted if it dies, until we stop."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env)  # noqa: S603 - our own interpreter and script

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def _supervised(children: list[_Child]) -> Iterator[list[Callable[[], None]]]:
    """Run the children, restarting any that dies, until the block ends or is interrupted.

    Yields a list of clean-ups to run after the children stopped. The children stop in their
    order (put web processes first: they stop taking requests before the workers drain).
    """
    stopping = threading.Event()
    closing: list[Callable[[], None]] = []

    def supervise() -> None:
        while not stopping.wait(1.0):
            for child in children:
                if not child.alive():
                    log.warning("restarting %s", " ".join(child.argv[2:]))
                    child.start()
                    time.sleep(1.0)

    for child in children:
        child.start()
    threading.Thread(target=supervise, name="supervisor", daemon=True).start()
    try:
        yield closing
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stopping.set()
        for child in children:
            child.stop()
        for close in closing:
            close()


def _web(settings: Settings, create_app: Callable[[Settings], Any]) -> int:
    from runtime.web_server import serve_with_gunicorn

    if not settings.redis_url:
        raise SystemExit("`web` needs GRIDWATCH_REDIS_URL (a Redis shared by every process); `prod` sets it")
    serve_with_gunicorn(settings, create_app)
    return 0


def _prod(settings: Settings, web: int, workers: int) -> int:
    """Run web processes and workers on this machine, restarting any that dies, until stopped."""
    if web < 1 or workers < 1:
        raise SystemExit("--web and --workers must be at least 1")
    _interrupt_on_signals()
    _init(settings)
    if not settings.database_url:
        log.warning("no GRIDWATCH_DATABASE_URL: SQLite at %s (use PostgreSQL in production)", settings.sqlite_path)
    if not settings.redis_url:
        log.warning("no GRIDWATCH_REDIS_URL: an embedded Redis (AOF everysec) in %s", settings.data_dir / "redis")
    with _redis_for(settings) as s:
        env = dict(
            os.environ,
            GRIDWATCH_REDIS_URL=s.redis_url or "",
            GRIDWATCH_DATA_DIR=str(s.data_dir),
            GRIDWATCH_SOCKETIO_QUEUE="1",
        )
        webs = [
            _Child([sys.executable, str(APP_PY), "web"], dict(env, GRIDWATCH_PORT=str(s.port + i))) for i in range(web)
        ]
        host = socket.gethostname()
        consumers = [
            _Child([sys.executable, str(APP_PY), "worker", "--name", f"{host}-prod-{i + 1}"], env)
            for i in range(workers)
        ]
        ports = ", ".join(str(s.port + i) for i in range(web))
        with _supervised([*webs, *consumers]):
            print(f"Gridwatch production layout: {web} web processes on {s.host} ports {ports}; {workers} workers")
            sys.stdout.flush()
            threading.Event().wait()
    print("Gridwatch stopped.", flush=True)
    return 0


def _run_all(settings: Settings, rate: float | None, create_app: Callable[[Settings], Any]) -> int:
    _interrupt_on_signals()
    _init(settings)
    _demo_history(settings)
    with _redis_for(settings) as s:
        env = dict(os.environ, GRIDWATCH_REDIS_URL=s.redis_url or "", GRIDWATCH_DATA_DIR=str(s.data_dir))
        children = [
            _Child([sys.executable, str(APP_PY), "worker", "--name", "run-worker-1"], env),
            _Child([sys.executable, str(APP_PY), "simulate", "--cases", "--rate", str(rate or s.sim_rate)], env),
        ]
        with _supervised(children) as closing:
            app = create_app(s)
            closing.append(app.close)
            if s.demo_users:
                logins = account_commands.ensure_demo_users(app.ctx.accounts, app.ctx.hierarchy, s.data_dir)
                if logins:
                    print(f"Demo logins (also in {logins}):\n{logins.read_text(encoding='utf-8')}", flush=True)
            app.serve()
    print("Gridwatch stopped.", flush=True)
    return 0
