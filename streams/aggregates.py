"""Map aggregates: per-grid event counts in a sliding window, rolled up the grid tree.

One aggregator at a time holds a lease and publishes; any worker process may run one, so
a city can run several workers and lose none of the map if one dies. Each tick it sums
the per-minute buckets the workers write, works out the colour level of every grid and
of every unit above it (mean per grid), stores the levels as the snapshot screens resync
from, and publishes only the levels that changed, with a sequence number.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis

from domain.kpis import KpiSnapshot, render_kpis
from domain.levels import classify
from geo.hierarchy import Hierarchy, Level
from streams.keys import RedisKeys
from streams.lease import Lease

__all__ = [
    "MapAggregator",
    "TickResult",
    "decode_push",
    "encode_push",
    "levels_push",
    "publish_levels",
    "read_snapshot",
]

log = logging.getLogger(__name__)

DEVICE_ONLINE_S = 600  # a device that sent nothing for 10 minutes counts as offline


def encode_push(event: str, data: object) -> str:
    """Wrap a UI message for the push channel."""
    return json.dumps({"event": event, "data": data}, separators=(",", ":"), ensure_ascii=False)


def decode_push(raw: bytes | str) -> tuple[str, object]:
    """Unwrap a UI message from the push channel."""
    msg = json.loads(raw)
    return str(msg["event"]), msg["data"]


def levels_push(seq: int, ts: float, changed: Mapping[str, int]) -> str:
    """Encode a numbered level delta for the push channel (``ts``: when it leaves the server)."""
    return encode_push("levels", {"seq": seq, "ts": ts, "levels": dict(changed)})


def publish_levels(
    client: redis.Redis, keys: RedisKeys, changed: Mapping[str, int], clock: Callable[[], float] = time.time
) -> int:
    """Store changed levels in the snapshot, number them and push them, as a tick does; return the seq.

    For tools that drive the screens' path without events (benchmarks): the message is stamped
    just before it is published, so ``ts`` is the moment the delta leaves the server.
    """
    pipe = client.pipeline(transaction=True)
    pipe.hset(keys.map_levels, mapping=dict(changed))  # type: ignore[arg-type]
    pipe.incr(keys.map_seq)
    seq = int(pipe.execute()[1])
    client.publish(keys.push_channel, levels_push(seq, clock(), changed))
    return seq


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one aggregator tick published."""

    seq: int | None
    changed: dict[str, int]
    kpis: KpiSnapshot


class MapAggregator:
    """Turn the workers' minute buckets into level deltas and KPIs for the screens."""

    def __init__(
        self,
        client: redis.Redis,
        hierarchy: Hierarchy,
        keys: RedisKeys,
        *,
        owner: str,
        window_minutes: int = 10,
        interval_s: float = 0.5,
        devices_total: int | Callable[[], int] = 0,
        online_s: float = DEVICE_ONLINE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._r = client
        self._keys = keys
        self.owner = owner
        self.window_minutes = window_minutes
        self.interval_s = interval_s
        self.online_s = online_s
        # The registry can grow while we run (registrations, imports): re-count it now and then.
        self._count_devices = devices_total if callable(devices_total) else (lambda: devices_total)
        self.devices_total = self._count_devices()
        self._devices_counted = 0.0
        self._clock = clock
        self._stop = threading.Event()
        self._lease = Lease(client, keys.aggregator_lease, owner, int(max(2.0, interval_s * 6) * 1000))
        grids = [u.code for u in hierarchy.at_level(Level.GRID)]
        self._grid_count = len(grids)
        self._ancestors: dict[str, tuple[str, ...]] = {g: hierarchy.ancestors(g) for g in grids}
        self._grids_in: Counter[str] = Counter()
        for g in grids:
            self._grids_in[g] = 1
            for a in self._ancestors[g]:
                self._grids_in[a] += 1
        self._all_units = list(self._grids_in)
        self._minutes: dict[int, Counter[str]] = {}
        self._values: Counter[str] = Counter()
        self._sums: Counter[str] = Counter()
        self._levels: dict[str, int] | None = None
        self._last_applied: tuple[float, int] | None = None
        self._rate = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Tick every interval until stop(); survive Redis outages."""
        while not self._stop.is_set():
            started = self._clock()
            try:
                self.tick()
            except redis.RedisError as exc:
                log.warning("aggregator tick failed: %s", exc)
                self._forget()  # resync from Redis once it is back
            except Exception:
                log.exception("aggregator tick failed")
                self._forget()
            self._stop.wait(max(0.0, self.interval_s - (self._clock() - started)))

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()

    # -- one tick ----------------------------------------------------------------------------
    def _forget(self) -> None:
        """Drop everything cached: another aggregator may have published since we last did."""
        self._levels = None
        self._minutes.clear()
        self._values = Counter()
        self._sums = Counter()

    def tick(self) -> TickResult | None:
        """Publish what changed since the last tick; None if another process holds the lease."""
        if not self._lease.hold():
            self._forget()
            return None
        now = self._clock()
        self._refresh_minutes(now)
        values: Counter[str] = Counter()
        for bucket in self._minutes.values():
            values.update(bucket)
        changed_grids = [g for g in set(values) | set(self._values) if values[g] != self._values[g]]
        for g in changed_grids:
            delta = values[g] - self._values[g]
            for a in self._ancestors.get(g, ()):
                self._sums[a] += delta
        self._values = values
        if self._levels is None:
            self._levels = self._load_levels()
            candidates = self._all_units
        else:
            touched = set(changed_grids)
            for g in changed_grids:
                touched.update(self._ancestors.get(g, ()))
            candidates = list(touched)
        changed: dict[str, int] = {}
        for code in candidates:
            n = self._grids_in.get(code)
            if not n:
                continue
            total = self._values[code] if code in self._ancestors else self._sums[code]
            level = classify(total / n)
            if self._levels.get(code, 0) != level:
                changed[code] = level
        kpis = self._kpis(now)
        seq = self._publish(changed, kpis, now)
        self._levels.update(changed)
        return TickResult(seq, changed, kpis)

    def _refresh_minutes(self, now: float) -> None:
        current = math.floor(now / 60)
        window = range(current - self.window_minutes + 1, current + 1)
        for m in list(self._minutes):
            if m not in window:
                del self._minutes[m]
        # The current minute always, the previous one for a few seconds after it closes (late
        # batches), any other minute of the window only once.
        wanted = [m for m in window if m not in self._minutes or m == current]
        if now - current * 60 < 5:
            wanted.append(current - 1)
        pipe = self._r.pipeline(transaction=False)
        for m in wanted:
            pipe.hgetall(self._keys.bucket(m))
        for m, raw in zip(wanted, pipe.execute(), strict=True):
            self._minutes[m] = Counter({k.decode(): int(v) for k, v in raw.items()})

    def _load_levels(self) -> dict[str, int]:
        raw = self._r.hgetall(self._keys.map_levels)
        return {_text(k): int(v) for k, v in raw.items()}

    def _kpis(self, now: float) -> KpiSnapshot:
        if now - self._devices_counted > 60:
            self._devices_counted = now
            try:
                self.devices_total = self._count_devices()
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the map
                log.warning("could not count devices; keeping %d", self.devices_total)
        pipe = self._r.pipeline(transaction=False)
        pipe.zcount(self._keys.devices_seen, int((now - self.online_s) * 1000), "+inf")
        pipe.xlen(self._keys.dead_letter_stream)
        pipe.get(self._keys.applied_total)
        pipe.zremrangebyscore(self._keys.devices_seen, "-inf", int((now - 86_400) * 1000))
        online, dead, applied_raw, _ = pipe.execute()
        applied = int(applied_raw or 0)
        if self._last_applied is not None:
            then, before = self._last_applied
            if now > then:
                instant = max(0, applied - before) / (now - then)
                self._rate = instant if self._rate == 0 else 0.7 * self._rate + 0.3 * instant
        self._last_applied = (now, applied)
        return KpiSnapshot(
            events_in_window=sum(self._values.values()),
            events_per_second=round(self._rate, 1),
            active_grids=sum(1 for v in self._values.values() if v > 0),
            total_grids=self._grid_count,
            devices_online=int(online),
            devices_total=self.devices_total,
            dead_letters=int(dead),
        )

    def _publish(self, changed: dict[str, int], kpis: KpiSnapshot, now: float) -> int | None:
        pipe = self._r.pipeline(transaction=True)
        if changed:
            pipe.hset(self._keys.map_levels, mapping=changed)  # type: ignore[arg-type]
            pipe.incr(self._keys.map_seq)
        pipe.set(self._keys.kpis, json.dumps(kpis.as_dict()))
        results = pipe.execute()
        seq = int(results[1]) if changed else None
        out = self._r.pipeline(transaction=False)
        if changed:
            assert seq is not None
            out.publish(self._keys.push_channel, levels_push(seq, now, changed))
        kpi_msg = {"ts": now, **kpis.as_dict(), "display": render_kpis(kpis)}
        out.publish(self._keys.push_channel, encode_push("kpis", kpi_msg))
        out.execute()
        return seq


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_snapshot(client: redis.Redis, keys: RedisKeys) -> dict[str, object]:
    """Return the current levels and their sequence number, read atomically."""
    pipe = client.pipeline(transaction=True)
    pipe.get(keys.map_seq)
    pipe.hgetall(keys.map_levels)
    pipe.get(keys.kpis)
    seq, levels, kpis = pipe.execute()
    return {
        "seq": int(seq or 0),
        "levels": {k.decode(): int(v) for k, v in levels.items()},
        "kpis": json.loads(kpis) if kpis else KpiSnapshot().as_dict(),
    }
