"""Prometheus metrics, read from Redis and the database at scrape time.

Nothing is counted in process memory (except this process's sockets): the workers and the web
processes are separate, and any web process scraped reports the same stream, alert and ingest
figures. The collector goes into a registry of its own (``build_registry``), never the global
one, so two apps in one process (tests) do not collide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import redis
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from domain.alerts import AlertState, Severity
from storage.alert_models import AlertRow
from streams.keys import RedisKeys

__all__ = ["GridwatchCollector", "build_registry"]

log = logging.getLogger(__name__)

_LIVE_STATES = tuple(s.value for s in AlertState if s is not AlertState.CLOSED)


class GridwatchCollector:
    """Collect the ingest, stream, dead-letter, alert and socket figures when Prometheus scrapes."""

    def __init__(self, client: redis.Redis, keys: RedisKeys, engine: Engine, sockets: Callable[[], int]) -> None:
        self._r = client
        self._keys = keys
        self._engine = engine
        self._sockets = sockets

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family; a source that cannot be read is reported as down, not raised."""
        redis_up = GaugeMetricFamily("gridwatch_redis_up", "Whether Redis answered this scrape (1) or not (0).")
        try:
            families = list(self._stream_metrics())
        except redis.RedisError as exc:
            log.warning("metrics: redis unavailable (%s)", type(exc).__name__)
            families = []
        redis_up.add_metric([], 1.0 if families else 0.0)
        yield redis_up
        yield from families
        yield from self._alert_metrics()
        yield GaugeMetricFamily(
            "gridwatch_sockets_connected", "Socket.IO connections to this web process.", value=self._sockets()
        )

    def _stream_metrics(self) -> Iterator[Metric]:
        k = self._keys
        pipe = self._r.pipeline(transaction=False)
        pipe.get(k.applied_total)
        pipe.xinfo_stream(k.ingest_stream)
        pipe.xinfo_groups(k.ingest_stream)
        pipe.xinfo_stream(k.dead_letter_stream)
        applied, ingest, groups, dead = pipe.execute(raise_on_error=False)
        for result in (applied, ingest, groups, dead):
            if isinstance(result, redis.ConnectionError | redis.TimeoutError):
                raise result
        # A stream nobody wrote to yet does not exist: XINFO answers an error, which means empty.
        ingest = ingest if isinstance(ingest, Mapping) else {}
        dead = dead if isinstance(dead, Mapping) else {}
        groups = groups if isinstance(groups, list) else []

        yield CounterMetricFamily(
            "gridwatch_events_applied",
            "Events whose effects the workers applied (each event_id once); rate() of it is the ingest rate.",
            value=int(applied or 0),
        )
        yield GaugeMetricFamily(
            "gridwatch_ingest_stream_length",
            "Entries kept in the ingest stream (capped by MAXLEN ~).",
            value=_int(ingest, "length"),
        )
        yield GaugeMetricFamily(
            "gridwatch_dead_letters", "Refused events kept in the dead-letter stream.", value=_int(dead, "length")
        )
        added = CounterMetricFamily(
            "gridwatch_stream_entries_added",
            "Entries ever added to a stream (Redis >= 7 reports it; absent on 6.2).",
            labels=["stream"],
        )
        for name, info in ((k.ingest_stream, ingest), (k.dead_letter_stream, dead)):
            if "entries-added" in info:
                added.add_metric([name], _int(info, "entries-added"))
        yield added

        pending = GaugeMetricFamily(
            "gridwatch_stream_pending",
            "Entries delivered to a consumer group but not yet acknowledged.",
            labels=["group"],
        )
        consumers = GaugeMetricFamily("gridwatch_stream_consumers", "Consumers in a consumer group.", labels=["group"])
        lag = GaugeMetricFamily(
            "gridwatch_stream_lag",
            "Entries not yet delivered to a consumer group (Redis >= 7 reports it; absent on 6.2).",
            labels=["group"],
        )
        lag_s = GaugeMetricFamily(
            "gridwatch_stream_lag_seconds",
            "Stream time between the newest entry and the last one delivered to a consumer group (0: caught up).",
            labels=["group"],
        )
        newest_ms = _id_ms(ingest.get("last-generated-id"))
        first = ingest.get("first-entry")
        oldest_ms = _id_ms(first[0]) if first else newest_ms
        for group in groups:
            name = _text(group.get("name"))
            pending.add_metric([name], _int(group, "pending"))
            consumers.add_metric([name], _int(group, "consumers"))
            if group.get("lag") is not None:
                lag.add_metric([name], _int(group, "lag"))
            delivered_ms = _id_ms(group.get("last-delivered-id"))
            # Nothing delivered yet: the group is behind by everything the stream holds.
            behind_ms = newest_ms - (delivered_ms if delivered_ms else oldest_ms)
            lag_s.add_metric([name], max(0, behind_ms) / 1000)
        yield from (pending, consumers, lag, lag_s)

    def _alert_metrics(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("gridwatch_database_up", "Whether the database answered this scrape (1) or not (0).")
        stmt = (
            select(AlertRow.severity, AlertRow.state, func.count())
            .where(AlertRow.state.in_(_LIVE_STATES))
            .group_by(AlertRow.severity, AlertRow.state)
        )
        try:
            with self._engine.connect() as conn:
                counts = {(int(sev), str(state)): int(n) for sev, state, n in conn.execute(stmt)}
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        family = GaugeMetricFamily(
            "gridwatch_alerts_open", "Alerts not yet closed, by severity and state.", labels=["severity", "state"]
        )
        for severity in Severity:  # every series, zeros included, so none vanishes when its last alert closes
            for state in _LIVE_STATES:
                family.add_metric([severity.name.lower(), state], counts.get((int(severity), state), 0))
        yield family


def build_registry(collector: GridwatchCollector) -> CollectorRegistry:
    """Return a registry of its own holding the collector (never the process-global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _int(info: Mapping[str, Any], key: str) -> int:
    value = info.get(key)
    return int(value) if value is not None else 0


def _id_ms(entry_id: Any) -> int:
    """The millisecond part of a stream entry id (0 for none, or for the group's start "0-0")."""
    if not entry_id:
        return 0
    return int(_text(entry_id).split("-", 1)[0])
