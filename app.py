"""Gridwatch: the app factory and the command-line entry point.

``create_app(settings)`` builds the Flask server and binds Dash and Flask-SocketIO to it;
``python app.py --help`` lists the commands (serve is the default).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # before any other import: gevent must patch the standard library first
    from runtime.gevent_patch import patch_if_gevent_web

    patch_if_gevent_web(sys.argv[1:])

import gc
import logging
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dash import Dash
from flask import Flask
from flask_socketio import SocketIO
from socketio import RedisManager  # type: ignore[import-untyped]

import api.alerts
import api.cases
import api.charts
import api.ingest
import api.locale
import api.open311
import api.patrols
import api.photos
import api.probes
import api.routes
import api.scoreboard
import api.verification
import security.sockets
import security.web
from callbacks import alert_queue, connection, duty, kpi_strip, leader, live_map, page, report, tasks, wall
from callbacks import cases as case_pages
from domain.scoreboard import load_weights
from geo.hierarchy import Hierarchy
from runtime.alert_actions import AlertActions
from runtime.alert_sink import AlertAnnouncer, AlertRaiser, load_rules
from runtime.bootstrap import open_database
from runtime.case_service import case_service_for
from runtime.concurrency import socketio_async_mode
from runtime.context import AppContext
from runtime.leader_charts import LeaderCharts
from runtime.patrol_service import PatrolService
from runtime.photo_store import CasePhotos, PhotoStore
from runtime.scoreboard_service import ScoreboardService
from runtime.unit_detail import UnitDetail
from runtime.verification_service import verification_service_for
from security.accounts import AccountService
from security.guards import Guard
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from security.sockets import SocketRooms
from settings import Settings, SettingsError
from storage.alert_repository import AlertRepository
from storage.audit_repository import AuditRepository
from storage.chart_queries import ChartQueries
from storage.device_repository import DeviceRepository
from storage.patrol_repository import PatrolRepository
from storage.repositories import GeoRepository
from storage.scoreboard_queries import ScoreboardQueries
from storage.user_repository import UserRepository
from streams.connection import connect
from streams.keys import RedisKeys
from streams.push import PushBridge

__all__ = ["Gridwatch", "create_app", "main"]

ASSETS = Path(__file__).resolve().parent / "assets"
log = logging.getLogger("gridwatch")


@dataclass
class Gridwatch:
    """One web process: the Dash app, its Flask server, Socket.IO and the push bridge."""

    dash: Dash
    server: Flask
    socketio: SocketIO
    ctx: AppContext
    bridge: PushBridge
    rooms: SocketRooms
    sweep_interval_s: float = 30.0
    _bridge_thread: Any = field(default=None, init=False)
    _sweeper: Any = field(default=None, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)

    def start_background(self) -> None:
        """Start the Redis -> Socket.IO bridge and the socket sweeper (once)."""
        if self._bridge_thread is None:
            self._bridge_thread = self.socketio.start_background_task(self.bridge.run)
            self._sweeper = self.socketio.start_background_task(self._sweep_sockets)

    def _sweep_sockets(self) -> None:
        """Drop sockets whose session ended (expired, or revoked while a notice was missed)."""
        sessions = self.ctx.accounts.sessions
        while not self._stop.wait(self.sweep_interval_s):
            try:
                self.rooms.sweep(lambda token, user_id: sessions.user_of(token) == user_id)
            except Exception:  # the sweeper must outlive a Redis hiccup
                log.warning("socket sweep failed", exc_info=True)

    def serve(self) -> None:
        """Serve until interrupted."""
        self.start_background()
        # What start-up built (the city, Dash's layouts, the libraries) lives as long as the process. Keep
        # it out of the collector's full passes: on this heap one pass stalls every thread (every push
        # in flight to every socket) for 100-300 ms, the whole latency budget of a push.
        gc.freeze()
        s = self.ctx.settings
        print(f"Gridwatch is running: http://{s.host}:{s.port}/", flush=True)
        self.socketio.run(
            self.server, host=s.host, port=s.port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False
        )

    def close(self) -> None:
        """Stop background work and release clients."""
        self.bridge.stop()
        self._stop.set()
        for thread in (self._bridge_thread, self._sweeper):
            if thread is not None:
                thread.join(timeout=5)
        self.ctx.redis.close()
        self.ctx.engine.dispose()


def _secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(settings: Settings) -> Gridwatch:
    """Build one web process from settings; the city must already be in the database."""
    if not settings.redis_url:
        raise SettingsError("create_app needs settings.redis_url; `python app.py serve` starts an embedded Redis")
    engine = open_database(settings)
    units = GeoRepository(engine).load_units()
    if not units:
        raise RuntimeError("the database holds no city yet: run `python app.py init` first")
    hierarchy = Hierarchy(units)
    client = connect(settings.redis_url)
    keys = RedisKeys(settings.ingest_stream, settings.dead_letter_stream)
    audit = AuditRepository(engine)
    accounts = AccountService(
        UserRepository(engine),
        audit,
        SessionStore(client, ttl_s=int(settings.session_hours * 3600), notify_channel=keys.push_channel),
        hierarchy,
        PasswordHashing(),
    )
    guard = Guard(hierarchy, audit)
    rules = load_rules(settings.alert_rules)
    alert_repo = AlertRepository(engine)
    announcer = AlertAnnouncer(alert_repo, hierarchy, client, keys)
    raiser = AlertRaiser(alert_repo, rules, hierarchy, announcer)
    cases = case_service_for(settings, engine, hierarchy, raiser)
    charts = LeaderCharts(
        ChartQueries(engine),
        hierarchy,
        client,
        keys,
        cases.config,
        rules,
        utc_offset_min=settings.utc_offset_min,
        subtree=cases.scope,
    )
    alerts = AlertActions(alert_repo, audit, hierarchy, client, keys, rules)
    unit_detail = UnitDetail(
        hierarchy,
        client,
        keys,
        cases,
        alerts,
        accounts.users,
        DeviceRepository(engine),
        online_s=settings.device_online_s,
    )
    ctx = AppContext(
        settings=settings,
        engine=engine,
        hierarchy=hierarchy,
        redis=client,
        keys=keys,
        audit=audit,
        accounts=accounts,
        guard=guard,
        alerts=alerts,
        cases=cases,
        charts=charts,
        units=unit_detail,
        scoreboard=ScoreboardService(
            ScoreboardQueries(engine, utc_offset_min=settings.utc_offset_min),
            hierarchy,
            load_weights(settings.case_rules),
            audit,
            per_day=cases.config.patrol.per_day,
            subtree=cases.scope,
            utc_offset_min=settings.utc_offset_min,
        ),
        verification=verification_service_for(engine, hierarchy, raiser, alert_repo),
        photos=CasePhotos(PhotoStore(settings.data_dir / "photos", settings.photo_max_bytes), cases.cases, audit),
        patrols=PatrolService(
            PatrolRepository(engine),
            audit,
            hierarchy,
            cases.config.patrol,
            cases.scope,
            utc_offset_min=settings.utc_offset_min,
        ),
    )
    server = Flask("gridwatch")
    server.config["SECRET_KEY"] = _secret_key(settings)
    app = Dash(
        "gridwatch",
        server=server,  # type: ignore[arg-type]  # Dash's annotation omits Flask
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="Gridwatch",
        update_title=None,  # type: ignore[arg-type]  # None is documented: no "Updating..." title
    )
    # Pages arrive after load (the router), so Dash checks callbacks against all of them; set before
    # the layout, or Dash would call the layout function for that outside any request.
    app.validation_layout = page.validation_layout(ctx)  # type: ignore[assignment]  # Dash annotates it None
    app.layout = page.layout_for(ctx)
    api.routes.register(server, ctx)
    api.ingest.register(server, ctx)
    api.alerts.register(server, ctx)
    api.cases.register(server, ctx)
    api.charts.register(server, ctx)
    api.open311.register(server, ctx)
    api.locale.register(server, ctx)
    api.scoreboard.register(server, ctx)
    api.verification.register(server, ctx)
    api.photos.register(server, ctx)
    api.patrols.register(server, ctx)
    for panel in (page, live_map, kpi_strip, connection, alert_queue, duty, leader, wall, case_pages, tasks, report):
        panel.register(app, ctx)
    # Same-origin only (no cors_allowed_origins). With the message queue, an emit from any process reaches
    # every process's sockets; the push bridge still sends locally (docs/operations.md says why).
    # Flask-SocketIO picks the queue by URL scheme and takes unix:// for Kombu: name the manager ourselves.
    queue = {"client_manager": RedisManager(settings.redis_url)} if settings.socketio_queue else {}
    socketio = SocketIO(server, async_mode=socketio_async_mode(), **queue)
    rooms = SocketRooms(socketio, hierarchy, guard)
    api.probes.install(server, settings.redis_url, keys, engine, lambda: len(rooms), settings.metrics_allow)
    accounts.on_revoke = lambda user_id: rooms.disconnect(user_id=user_id)
    security.web.install(
        server,
        accounts,
        lang=settings.language,
        redis_url=settings.redis_url,
        login_window_s=settings.login_window_s,
        cookie_secure=settings.cookie_secure,
        session_hours=settings.session_hours,
        csp_script_hashes=list(app.csp_hashes()),
        on_logout=lambda token: rooms.disconnect(token=token),
        guard=guard,
    )
    security.sockets.install(socketio, rooms, guard, hierarchy)
    bridge = PushBridge(ctx.redis, ctx.keys, rooms.route)
    return Gridwatch(app, server, socketio, ctx, bridge, rooms)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    from runtime.commands import run_cli

    return run_cli(argv, create_app)


if __name__ == "__main__":
    sys.exit(main())
