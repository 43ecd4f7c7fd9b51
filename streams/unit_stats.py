"""Unit aggregates: counts by kind over the last minute, hour and day, gate flows, health codes, devices online.

Workers add one to a counter *profile* per event in a per-minute hash (``keys.counts``). One
process at a time (a Redis lease) turns those into the aggregates of every grid and of every
unit above it, stores each unit's figures as JSON in ``keys.unit_stats`` (the snapshot the
API serves), and publishes the non-grid units that changed, with a sequence number.

- *hour* is the sum of the current minute and the 59 before it; *minute* is the current
  minute plus the part of the previous one that is still inside the last 60 s (the usual
  sliding-window estimate).
- *today* is the local day (``utc_offset_min``): each minute, once closed (plus a few seconds
  for late batches), is folded into its day's hash exactly once by a Lua script that keeps a
  marker, so a lease changing hands neither skips nor repeats a minute.
- *devices* online: reported within ``online_s``, from the sorted set the workers keep.
- *gate flows by hour* (the leaders' trend chart): the process that folds a minute also adds its
  gate counters (``g.<in|out>.<person>``), rolled up to every unit above the grids, into that
  hour's hash (``keys.hour_flows``, kept 49 h). A holder that dies between the two loses that
  minute's flows, never counts it twice.

Figures are kept as numpy arrays (grids x counters), so a tick costs a few array sums at
city scale; the hour's running sum subtracts the minute that leaves it, re-read from Redis.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import redis

from domain.metrics import expand
from geo.hierarchy import Hierarchy, Level
from streams.aggregates import encode_push
from streams.keys import RedisKeys
from streams.lease import Lease

__all__ = ["FLOW_HOURS_KEPT", "UnitStatsAggregator", "read_hour_flows", "read_unit_stats"]

log = logging.getLogger(__name__)

CLOSE_GRACE_S = 5.0  # a minute is folded this long after it ends: batches prepared in it are applied by then
FLOW_HOURS_KEPT = 49  # hours of gate flows kept per unit (a day and its previous day, plus the current hour)
_FLOW = re.compile(r"^g\.(in|out)\.(resident|visitor|unknown)$")
REBUILD_MINUTES = 180  # how far back a new lease holder folds minutes it finds unfolded (counts live 3 h)

_FOLD = """
local done = tonumber(redis.call('GET', KEYS[3]) or '-1')
if done >= tonumber(ARGV[1]) then
  return 0
end
local kv = redis.call('HGETALL', KEYS[1])
for i = 1, #kv, 2 do
  redis.call('HINCRBY', KEYS[2], kv[i], kv[i + 1])
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class StatsTick:
    """What one tick published."""

    seq: int | None
    changed: int


class UnitStatsAggregator:
    """Keep every unit's windowed counts and devices online, for the snapshot API and the screens."""

    def __init__(
        self,
        client: redis.Redis,
        hierarchy: Hierarchy,
        keys: RedisKeys,
        *,
        owner: str,
        device_grids: Callable[[], Mapping[str, str]] = dict,
        online_s: float = 600,
        utc_offset_min: int = 480,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.time,
        watcher: Callable[[Mapping[str, Mapping[str, object]]], None] | None = None,
    ) -> None:
        self._r = client
        self._keys = keys
        self.owner = owner
        self.interval_s = interval_s
        self.online_s = online_s
        self.utc_offset_s = utc_offset_min * 60
        self._clock = clock
        self._device_grids = device_grids
        self._watcher = watcher  # told the figures of the units that changed (the unit_window alert rules)
        self._stop = threading.Event()
        self._fold = client.register_script(_FOLD)
        self._lease = Lease(client, keys.stats_lease, owner, int(max(5.0, interval_s * 4) * 1000))
        grids = [u.code for u in hierarchy.at_level(Level.GRID)]
        self._grid_index = {g: i for i, g in enumerate(grids)}
        self._units: list[str] = list(grids)
        parents: list[np.ndarray] = []  # per ancestor depth: for each grid, the row of that ancestor
        unit_row: dict[str, int] = {g: i for i, g in enumerate(grids)}
        depth = max((len(hierarchy.ancestors(g)) for g in grids), default=0)
        for d in range(depth):
            rows = np.empty(len(grids), dtype=np.int64)
            for i, g in enumerate(grids):
                ancestor = hierarchy.ancestors(g)[d]
                if ancestor not in unit_row:
                    unit_row[ancestor] = len(self._units)
                    self._units.append(ancestor)
                rows[i] = unit_row[ancestor]
            parents.append(rows)
        self._parents = parents
        self._n_grids = len(grids)
        self._counters: dict[str, int] = {}
        self._hour = self._zeros()
        self._today = self._zeros()
        self._last_closed: tuple[int, np.ndarray] | None = None
        self._closed_through: int | None = None  # last minute added to hour and today
        self._day: int | None = None
        self._written: dict[str, str] = {}
        self._devices: dict[str, str] = {}
        self._devices_read = -math.inf
        self._device_totals = np.zeros(self._n_grids)
        self._last_matrix: np.ndarray | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def run(self) -> None:
        """Tick every interval until stop(); survive Redis outages by starting afresh."""
        while not self._stop.is_set():
            started = self._clock()
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                log.warning("unit stats tick failed: %s", exc)
                self._forget()
            self._stop.wait(max(0.0, self.interval_s - (self._clock() - started)))

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stop.set()

    def _forget(self) -> None:
        self._closed_through = None
        self._written.clear()
        self._last_matrix = None

    # -- one tick ----------------------------------------------------------------------------
    def tick(self) -> StatsTick | None:
        """Fold closed minutes, recompute every unit, store and publish what changed; None without the lease."""
        if not self._lease.hold():
            self._forget()
            return None
        now = self._clock()
        current = math.floor(now / 60)
        closed = math.floor((now - CLOSE_GRACE_S) / 60) - 1  # the last minute that is over, grace included
        self._advance(closed, now)
        live = self._read_minute(current)
        previous = self._previous_minute(current)
        live, previous = self._pad(live), self._pad(previous)
        self._hour, self._today = self._pad(self._hour), self._pad(self._today)
        share = 1.0 - (now - current * 60) / 60.0  # how much of the previous minute is in the last 60 s
        minute = live + previous * share
        unclosed = closed < current - 1  # the previous minute is still in its grace period
        hour = self._hour + live + (previous if unclosed else 0)
        today = self._today + live + (previous if unclosed and self._same_day(current - 1) else 0)
        online, total = self._devices_online(now)
        return self._publish(minute, hour, today, online, total, now)

    def _zeros(self) -> np.ndarray:
        return np.zeros((self._n_grids, max(1, len(self._counters))), dtype=np.float64)

    def _local_day(self, minute: int) -> int:
        return math.floor((minute * 60 + self.utc_offset_s) / 86_400)

    def _same_day(self, minute: int) -> bool:
        return self._local_day(minute) == self._day

    def _advance(self, closed: int, now: float) -> None:
        """Fold and add every minute closed since the last tick; rebuild on a new lease."""
        today = self._local_day(math.floor(now / 60))
        if self._closed_through is None or self._day != today:
            self._rebuild(closed, today)
            return
        for m in range(self._closed_through + 1, closed + 1):
            self._close(m)

    def _rebuild(self, closed: int, today: int) -> None:
        self._day = today
        first_of_day = math.ceil(today * 86_400 / 60 - self.utc_offset_s / 60)
        start = max(first_of_day, closed - REBUILD_MINUTES + 1)
        for m in range(start, closed + 1):  # minutes that nobody folded yet (e.g. no lease holder ran)
            if self._fold_once(m):
                self._add_flows(m, self._to_array(self._hgetall(self._keys.counts(m))))
        self._today = self._to_array(self._hgetall(self._keys.day_counts(str(today))))
        self._hour = self._zeros()
        for m in range(closed - 58, closed + 1):
            self._hour += self._to_array(self._hgetall(self._keys.counts(m)))
        self._last_closed = (closed, self._to_array(self._hgetall(self._keys.counts(closed))))
        self._closed_through = closed

    def _close(self, m: int) -> None:
        if self._local_day(m) != self._day:
            return  # the day turned: the next tick rebuilds
        arr = self._to_array(self._hgetall(self._keys.counts(m)))
        if self._fold_once(m):
            self._today = self._pad(self._today) + arr
            self._add_flows(m, arr)
        else:  # another holder folded it: read the day as it is now
            self._today = self._to_array(self._hgetall(self._keys.day_counts(str(self._day))))
        leaving = self._to_array(self._hgetall(self._keys.counts(m - 59)))
        self._hour = self._pad(self._hour) + self._pad(arr) - leaving  # leaving may have added a counter
        self._last_closed = (m, arr)
        self._closed_through = m

    def _fold_once(self, m: int) -> bool:
        day = str(self._local_day(m))
        keys = [self._keys.counts(m), self._keys.day_counts(day), self._keys.folded_through]
        return bool(self._fold(keys=keys, args=[m, 2 * 86_400]))

    def _add_flows(self, m: int, arr: np.ndarray) -> None:
        """Add a folded minute's gate flows of the units above grids to its hour."""
        cols = [(name, i) for name, i in self._counters.items() if _FLOW.match(name) and i < arr.shape[1]]
        if not cols:
            return
        above = self._roll_up(arr[:, [i for _, i in cols]])[self._n_grids :]
        rows, which = np.nonzero(above)
        if not len(rows):
            return
        key = self._keys.hour_flows(m // 60)
        pipe = self._r.pipeline(transaction=False)
        for r, c in zip(rows.tolist(), which.tolist(), strict=True):
            pipe.hincrby(key, f"{self._units[self._n_grids + r]}|{cols[c][0]}", int(above[r, c]))
        pipe.expire(key, FLOW_HOURS_KEPT * 3600)
        pipe.execute()

    def _previous_minute(self, current: int) -> np.ndarray:
        if self._last_closed is not None and self._last_closed[0] == current - 1:
            return self._pad(self._last_closed[1])
        return self._read_minute(current - 1)

    def _read_minute(self, m: int) -> np.ndarray:
        return self._to_array(self._hgetall(self._keys.counts(m)))

    def _hgetall(self, key: str) -> dict[bytes, bytes]:
        raw: dict[bytes, bytes] = self._r.hgetall(key)  # type: ignore[assignment]
        return raw

    def _to_array(self, fields: Mapping[bytes, bytes]) -> np.ndarray:
        """Turn "<grid>|<profile>" -> n into a grids x counters array (new counters add columns)."""
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        for key, value in fields.items():
            grid, _, profile = key.decode().partition("|")
            row = self._grid_index.get(grid)
            if row is None:
                continue
            for counter in expand(profile):
                col = self._counters.setdefault(counter, len(self._counters))
                rows.append(row)
                cols.append(col)
                vals.append(int(value))
        out = self._zeros()
        if rows:
            np.add.at(out, (np.array(rows), np.array(cols)), np.array(vals, dtype=np.float64))
        return out

    def _pad(self, arr: np.ndarray) -> np.ndarray:
        """Widen an array to the current counters (a new counter appeared since it was made)."""
        missing = max(1, len(self._counters)) - arr.shape[1]
        return np.pad(arr, ((0, 0), (0, missing))) if missing > 0 else arr

    def _devices_online(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        """Return devices online and registered per grid (the registry is re-read every minute)."""
        if now - self._devices_read > 60:
            self._devices = dict(self._device_grids())
            self._devices_read = now
            self._device_totals = np.zeros(self._n_grids)
            for code in self._devices.values():
                row = self._grid_index.get(code)
                if row is not None:
                    self._device_totals[row] += 1
        online = np.zeros(self._n_grids)
        seen: list[bytes] = self._r.zrangebyscore(  # type: ignore[assignment]
            self._keys.devices_seen, int((now - self.online_s) * 1000), "+inf"
        )
        for member in seen:
            grid = self._devices.get(member.decode())
            row = self._grid_index.get(grid) if grid is not None else None
            if row is not None:
                online[row] += 1
        return online, self._device_totals

    def _roll_up(self, per_grid: np.ndarray) -> np.ndarray:
        """Return the figures of every unit: grids first, then the units above, as self._units."""
        width = per_grid.shape[1] if per_grid.ndim == 2 else 1
        flat = per_grid.reshape(self._n_grids, width)
        out = np.zeros((len(self._units), width))
        out[: self._n_grids] = flat
        for rows in self._parents:
            np.add.at(out, rows, flat)
        return out

    def _publish(
        self, minute: np.ndarray, hour: np.ndarray, today: np.ndarray, online: np.ndarray, total: np.ndarray, now: float
    ) -> StatsTick:
        names = sorted(self._counters, key=self._counters.__getitem__)
        width = len(names)
        parts = [self._roll_up(a)[:, :width] for a in (minute, hour, today)]
        matrix = np.hstack([np.round(p, 1) for p in parts] + [self._roll_up(online), self._roll_up(total)])
        if self._last_matrix is None or self._last_matrix.shape != matrix.shape or not self._written:
            rows = np.arange(len(self._units))
        else:
            rows = np.nonzero((matrix != self._last_matrix).any(axis=1))[0]
        self._last_matrix = matrix
        changed: dict[str, str] = {}
        docs: dict[str, Mapping[str, object]] = {}
        for row in rows.tolist():
            values = matrix[row]
            doc: dict[str, object] = {
                window: {n: float(v) for n, v in zip(names, values[i * width : (i + 1) * width], strict=True) if v}
                for i, window in enumerate(("minute", "hour", "today"))
            }
            doc["devices"] = {"online": int(values[3 * width]), "total": int(values[3 * width + 1])}
            code = self._units[row]
            text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
            if self._written.get(code) != text:
                changed[code] = text
                docs[code] = doc
        if docs and self._watcher is not None:
            try:
                self._watcher(docs)
            except Exception:  # the figures must go out even if an alert cannot be stored
                log.exception("window alert rules failed on this tick")
        if not changed:
            return StatsTick(None, 0)
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(self._keys.unit_stats, mapping=changed)  # type: ignore[arg-type]
        pipe.incr(self._keys.unit_stats_seq)
        seq = int(pipe.execute()[1])
        self._written.update(changed)
        above = {c: json.loads(t) for c, t in changed.items() if c not in self._grid_index}
        if above:  # grids are many and change often: screens read them from the snapshot API
            self._r.publish(self._keys.push_channel, encode_push("stats", {"seq": seq, "ts": now, "units": above}))
        return StatsTick(seq, len(changed))


def read_unit_stats(client: redis.Redis, keys: RedisKeys, codes: Sequence[str]) -> dict[str, object]:
    """Return the stored aggregates of these units (an empty dict for one with no figures yet) and the seq."""
    pipe = client.pipeline(transaction=True)
    pipe.get(keys.unit_stats_seq)
    pipe.hmget(keys.unit_stats, list(codes))
    seq, docs = pipe.execute()
    return {
        "seq": int(seq or 0),
        "units": {c: (json.loads(d) if d else {}) for c, d in zip(codes, docs, strict=True)},
    }


def read_hour_flows(
    client: redis.Redis, keys: RedisKeys, unit_code: str, hours: Sequence[int]
) -> list[tuple[int, str, str, int]]:
    """Return (UTC hour index, direction, person, people) of one unit above grids for these hours."""
    pipe = client.pipeline(transaction=False)
    fields = [f"{unit_code}|g.{d}.{p}" for d in ("in", "out") for p in ("resident", "visitor", "unknown")]
    for h in hours:
        pipe.hmget(keys.hour_flows(h), fields)
    out: list[tuple[int, str, str, int]] = []
    for h, values in zip(hours, pipe.execute(), strict=True):
        for name, value in zip(fields, values, strict=True):
            if value is not None:
                _, d, p = name.rpartition("|")[2].split(".")
                out.append((h, d, p, int(value)))
    return out
