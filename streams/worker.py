"""The ingest worker: stream entries -> validated events -> grid counters, exactly once in effect.

Heartbeats keep a device "online" but are not activity, so they do not colour the map.
At-least-once delivery comes from the consumer group; "once in effect" from one Lua script
per batch that, atomically, acknowledges each entry and applies its effects only if that
acknowledgement removed it from the pending list (so a reclaimed entry processed twice
counts once) and only if its event_id was not seen before (so a producer's retry counts
once). A crash before the script leaves the entries pending; they are re-read on restart
or reclaimed by another worker. Entries that keep failing go to the dead letters.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis

from domain.events import Event, EventType, InvalidEvent, RejectReason, check_time, parse_event
from streams.ingest import DATA_FIELD
from streams.keys import RedisKeys

__all__ = ["BatchResult", "EventSink", "IngestWorker", "Placer"]

log = logging.getLogger(__name__)

_APPLY = """
local group, seen_prefix = ARGV[1], ARGV[2]
local seen_ttl, bucket_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = ARGV[5]
local ngood, nbad, dead_maxlen = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local i = 9
local applied, dup = 0, 0
for n = 1, ngood do
  local id, eid, grid, dev, counts = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  i = i + 5
  if redis.call('XACK', KEYS[1], group, id) == 1 then
    if redis.call('SET', seen_prefix .. eid, id, 'NX', 'EX', seen_ttl) then
      if counts == '1' then
        redis.call('HINCRBY', KEYS[4], grid, 1)
      end
      redis.call('ZADD', KEYS[3], now, dev)
      applied = applied + 1
    else
      dup = dup + 1
    end
  end
end
for n = 1, nbad do
  local id, reason, detail, raw = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if redis.call('XACK', KEYS[1], group, id) == 1 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', dead_maxlen, '*',
      'entry_id', id, 'reason', reason, 'detail', detail, 'raw', raw)
  end
end
if applied > 0 then
  redis.call('EXPIRE', KEYS[4], bucket_ttl)
  redis.call('INCRBY', KEYS[5], applied)
end
return {applied, dup}
"""


class EventSink(Protocol):
    """Effects stored in another system (alerts in SQL) before the batch is acknowledged."""

    def on_events(self, placed: Sequence[tuple[Event, str]]) -> None:
        """Store the effects of these placed events; raise to leave the batch pending for a retry."""
        ...


class Placer(Protocol):
    """Anything that maps points to grid codes (geo.GridLocator)."""

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """Return the grid code of each point, or None where no grid contains it."""
        ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch did."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    dead: int = 0


@dataclass(frozen=True, slots=True)
class _Good:
    entry_id: bytes
    event_id: str
    grid: str
    device_id: str
    counts: bool  # does it count as activity on the map (heartbeats do not)


@dataclass(frozen=True, slots=True)
class _Bad:
    entry_id: bytes
    reason: RejectReason
    detail: str
    raw: bytes


class IngestWorker:
    """One consumer of the ingest stream's consumer group."""

    def __init__(
        self,
        client: redis.Redis,
        placer: Placer,
        keys: RedisKeys,
        *,
        consumer: str,
        batch: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        max_deliveries: int = 5,
        dedup_window_s: int = 900,
        window_minutes: int = 10,
        dead_maxlen: int = 1_000_000,
        max_age_s: float = 7 * 86_400,
        max_ahead_s: float = 300,
        clock: Callable[[], float] = time.time,
        sink: EventSink | None = None,
    ) -> None:
        self._r = client
        self._sink = sink
        self._placer = placer
        self.keys = keys
        self.consumer = consumer
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.max_deliveries = max_deliveries
        self.dedup_window_s = dedup_window_s
        self.bucket_ttl_s = (window_minutes + 5) * 60
        self.dead_maxlen = dead_maxlen
        self.max_age_s = max_age_s
        self.max_ahead_s = max_ahead_s
        self._clock = clock
        self._apply = client.register_script(_APPLY)
        self._stop = threading.Event()
        self._read_own_pending = True
        self._held: tuple[list[tuple[bytes, dict[bytes, bytes] | None]], set[bytes]] | None = None
        self._next_claim = 0.0
        self.totals = BatchResult()

    # -- lifecycle -------------------------------------------------------------------------
    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) if missing, starting from the beginning."""
        try:
            self._r.xgroup_create(self.keys.ingest_stream, self.keys.worker_group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def run(self) -> None:
        """Process batches until stop() is called; never let one failure end the loop."""
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self.ensure_group()
                while not self._stop.is_set():
                    self.process_once()
                    backoff = 0.1
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                log.warning("redis unavailable (%s); retrying in %.1f s", exc, backoff)
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    self._read_own_pending = True
                    continue  # the group vanished (e.g. Redis lost its data): recreate it
                log.exception("redis refused a command; retrying in %.1f s", backoff)
            except Exception:
                log.exception("unexpected error in worker loop; retrying in %.1f s", backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        """Ask the loop to end after the current batch."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stop.is_set()

    # -- one batch ---------------------------------------------------------------------------
    def process_once(self) -> BatchResult:
        """Read one batch (own pending first, then stale ones of others, then new) and apply it."""
        entries: list[tuple[bytes, dict[bytes, bytes] | None]] = []
        poison: set[bytes] = set()
        if self._held is not None:
            # The last batch's effects could not be stored (e.g. the database is down): retry the same
            # entries from memory, without reading them again (which would count as redeliveries).
            entries, poison = self._held
        elif self._read_own_pending:
            entries = self._read("0", block=None)
            if entries:
                poison = self._worn_out([e[0] for e in entries], consumer=self.consumer)
            else:
                self._read_own_pending = False
        if not entries and self._clock() >= self._next_claim:
            self._next_claim = self._clock() + self.claim_idle_ms / 2000.0
            entries, poison = self._claim_stale()
        if not entries:
            entries = self._read(">", block=self.block_ms)
        if not entries:
            return BatchResult()
        result = self._handle(entries, poison)
        self.totals = BatchResult(
            self.totals.read + result.read,
            self.totals.applied + result.applied,
            self.totals.duplicates + result.duplicates,
            self.totals.dead + result.dead,
        )
        return result

    def _read(self, start: str, block: int | None) -> list[tuple[bytes, dict[bytes, bytes] | None]]:
        resp: Any = self._r.xreadgroup(
            self.keys.worker_group,
            self.consumer,
            {self.keys.ingest_stream: start},
            count=self.batch,
            block=block,
        )
        if not resp:
            return []
        return list(resp[0][1])

    def _claim_stale(self) -> tuple[list[tuple[bytes, dict[bytes, bytes] | None]], set[bytes]]:
        pending = self._r.xpending_range(
            self.keys.ingest_stream,
            self.keys.worker_group,
            min="-",
            max="+",
            count=self.batch,
            idle=self.claim_idle_ms,
        )
        if not pending:
            return [], set()
        rows: list[dict[str, Any]] = list(pending)  # redis-py's row type is looser than its values
        ids: list[bytes] = [row["message_id"] for row in rows]
        poison = {row["message_id"] for row in rows if row["times_delivered"] >= self.max_deliveries}
        claimed: Any = self._r.xclaim(
            self.keys.ingest_stream,
            self.keys.worker_group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            message_ids=list[int | bytes | str | memoryview](ids),
        )
        # An id we asked for but did not get was claimed by another worker a moment earlier: it is
        # theirs now. (Entries trimmed while pending come back with no fields and are dead-lettered.)
        if claimed:
            log.info("reclaimed %d stale entries (%d poison)", len(claimed), len(poison))
        return list(claimed), poison & {c[0] for c in claimed}

    def _worn_out(self, ids: list[bytes], consumer: str) -> set[bytes]:
        """The ids among ours that were delivered max_deliveries times already (e.g. they crash us)."""
        rows: list[dict[str, Any]] = list(
            self._r.xpending_range(
                self.keys.ingest_stream,
                self.keys.worker_group,
                min=ids[0],
                max=ids[-1],
                count=len(ids),
                consumername=consumer,
            )
        )
        return {row["message_id"] for row in rows if row["times_delivered"] >= self.max_deliveries}

    def _handle(self, entries: list[tuple[bytes, dict[bytes, bytes] | None]], poison: set[bytes]) -> BatchResult:
        parsed: list[tuple[bytes, Any, bytes]] = []
        bad: list[_Bad] = []
        now = datetime.fromtimestamp(self._clock(), UTC)
        for entry_id, fields in entries:
            if fields is None:
                detail = "the entry was trimmed from the stream before it was processed"
                bad.append(_Bad(entry_id, RejectReason.PROCESSING_ERROR, detail, b""))
                continue
            raw = fields.get(DATA_FIELD.encode())
            if raw is None:
                bad.append(_Bad(entry_id, RejectReason.SCHEMA, "entry has no 'data' field", b""))
                continue
            if entry_id in poison:
                detail = f"failed {self.max_deliveries} deliveries"
                bad.append(_Bad(entry_id, RejectReason.PROCESSING_ERROR, detail, raw))
                continue
            try:
                event = parse_event(raw)
                check_time(event, now, self.max_age_s, self.max_ahead_s)
                parsed.append((entry_id, event, raw))
            except InvalidEvent as exc:
                bad.append(_Bad(entry_id, exc.reason, exc.detail, raw))
            except Exception as exc:  # noqa: BLE001 - one bad entry must not block the stream
                bad.append(_Bad(entry_id, RejectReason.PROCESSING_ERROR, repr(exc)[:200], raw))
        good: list[_Good] = []
        placed: list[tuple[Event, str]] = []
        if parsed:
            grids = self._placer.locate_many([e.lon for _, e, _ in parsed], [e.lat for _, e, _ in parsed])
            for (entry_id, event, raw), grid in zip(parsed, grids, strict=True):
                if grid is None:
                    detail = f"point ({event.lon}, {event.lat}) is in no grid"
                    bad.append(_Bad(entry_id, RejectReason.UNPLACEABLE, detail, raw))
                else:
                    counts = event.type is not EventType.HEARTBEAT
                    good.append(_Good(entry_id, event.event_id.hex, grid, event.device_id, counts))
                    placed.append((event, grid))
        if self._sink is not None and placed:
            try:
                self._sink.on_events(placed)  # stored first: the XACK below must never outrun its effects
            except Exception:
                self._held = (entries, poison)
                raise
        self._held = None
        applied, dup = self._apply_effects(good, bad)
        return BatchResult(read=len(entries), applied=applied, duplicates=dup, dead=len(bad))

    def _apply_effects(self, good: list[_Good], bad: list[_Bad]) -> tuple[int, int]:
        now = self._clock()
        minute = math.floor(now / 60)
        args: list[Any] = [
            self.keys.worker_group,
            self.keys.seen_prefix,
            self.dedup_window_s,
            self.bucket_ttl_s,
            int(now * 1000),
            len(good),
            len(bad),
            self.dead_maxlen,
        ]
        for g in good:
            args += [g.entry_id, g.event_id, g.grid, g.device_id, "1" if g.counts else "0"]
        for b in bad:
            args += [b.entry_id, b.reason.value, b.detail, b.raw]
            log.debug("dead letter %s: %s %s", b.entry_id, b.reason.value, b.detail)
        keys = [
            self.keys.ingest_stream,
            self.keys.dead_letter_stream,
            self.keys.devices_seen,
            self.keys.bucket(minute),
            self.keys.applied_total,
        ]
        applied, dup = self._apply(keys=keys, args=args)
        return int(applied), int(dup)
