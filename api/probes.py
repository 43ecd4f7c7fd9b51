"""Readiness and metrics for load balancers and Prometheus: ``/readyz`` and ``/metrics``.

Both are answered by a thin WSGI layer in front of the Flask app, as prometheus_client's own
Flask recipe mounts its WSGI app. So a probe never opens a session, never passes the login gate
or the rate limiter, and costs one PING and one ``SELECT 1``. ``/healthz`` (api.routes) stays a
liveness check that touches nothing.

- ``/readyz``: 200 when Redis and the database answer, else 503; the body names each check as
  ``ok`` or ``unavailable`` and nothing else (no URL, no error text: those are logged).
- ``/metrics``: the Prometheus text format, only for peers in ``GRIDWATCH_METRICS_ALLOW``
  (default loopback). The peer is the TCP peer: behind nginx that is nginx, so nginx must
  refuse /metrics from outside (deploy/nginx/gridwatch.conf does).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from flask import Flask
from prometheus_client import make_wsgi_app
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.metrics import GridwatchCollector, build_registry
from streams.connection import connect
from streams.keys import RedisKeys

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["OpsEndpoints", "Readiness", "check_readiness", "install", "parse_networks"]

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NO_STORE = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


@dataclass(frozen=True, slots=True)
class Readiness:
    """What each dependency answered: ``ok`` or ``unavailable``."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        """Whether every dependency answered."""
        return all(v == "ok" for v in self.checks.values())


def check_readiness(client: redis.Redis, engine: Engine) -> Readiness:
    """PING Redis and run ``SELECT 1`` on the database; log (never return) why one failed."""
    checks: dict[str, str] = {}
    try:
        client.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        log.warning("readyz: redis unavailable: %s", type(exc).__name__)
        checks["redis"] = "unavailable"
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        log.warning("readyz: database unavailable: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    return Readiness(checks)


def parse_networks(value: str) -> tuple[Network, ...]:
    """Parse a comma-separated allow-list of addresses and networks (empty: nobody)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in value.split(",") if p.strip())


class OpsEndpoints:
    """Answer /readyz and /metrics; hand every other request to the app behind."""

    def __init__(
        self,
        app: WSGIApplication,
        readiness: Callable[[], Readiness],
        metrics: WSGIApplication,
        metrics_allow: Iterable[Network],
    ) -> None:
        self._app = app
        self._readiness = readiness
        self._metrics = metrics
        self._allow = tuple(metrics_allow)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path = environ.get("PATH_INFO", "")
        if path == "/readyz":
            result = self._readiness()
            status = "200 OK" if result.ready else "503 Service Unavailable"
            body = {"status": "ready" if result.ready else "unavailable", "checks": result.checks}
            return _json(start_response, status, body)
        if path == "/metrics":
            if not self._allowed(environ.get("REMOTE_ADDR", "")):
                return _json(start_response, "403 Forbidden", {"error": "metrics are not served to this address"})
            return self._metrics(environ, start_response)
        return self._app(environ, start_response)

    def _allowed(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:  # a unix socket peer has no address: not allowed unless listed
            return False
        return any(address in network for network in self._allow)


def _json(start_response: StartResponse, status: str, body: object) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *_NO_STORE])
    return [data]


def install(
    server: Flask,
    redis_url: str,
    keys: RedisKeys,
    engine: Engine,
    sockets: Callable[[], int],
    metrics_allow: str,
) -> redis.Redis:
    """Put /readyz and /metrics in front of the server's WSGI app; return the probes' Redis client.

    The probes have their own client with short timeouts and no retries: a paused Redis must make
    /readyz say so within a second or two, not after the app client's patient retries. It connects
    on first use (a process nobody probes opens nothing).
    """
    client = connect(redis_url, retries=0, timeout=2.0)
    registry = build_registry(GridwatchCollector(client, keys, engine, sockets))
    server.wsgi_app = OpsEndpoints(  # type: ignore[method-assign]
        server.wsgi_app,
        lambda: check_readiness(client, engine),
        make_wsgi_app(registry),
        parse_networks(metrics_allow),
    )
    return client
