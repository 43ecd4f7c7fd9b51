"""The ingest worker: stream entries -> validated events -> grid counters, exactly once in effect.

Heartbeats keep a device "online" but are not activity, so they do not colour the map.
At-least-once delivery comes from the consumer group; "once in effect" from one Lua script
per batch that, atomically, acknowledges the entries and applies each event's effects only
if its event_id is not in the dedup hashes of this window or the last (so a producer's
retry, or an entry reclaimed from a stalled worker and processed twice, counts once). A
crash before the script leaves the entries pending; they are re-read on restart or
reclaimed by another worker. Entries that keep failing go to the dead letters.

Each event adds one to a single counter profile (domain.metrics) of its grid for the
minute, plus the map's activity count: two increments, whatever the event counts towards.
The loop prepares the next batch (validation, placement, alert rules) while Redis applies
the last one, so Python and Redis work at the same time on a two-core machine.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import redis

from domain.event_batch import WireEvent, parse_events, to_event
from domain.events import Event, InvalidEvent, RejectReason, check_time
from domain.metrics import profile_name
from streams.ingest import DATA_FIELD
from streams.keys import RedisKeys

__all__ = ["BatchResult", "EventSink", "IngestWorker", "Placer"]

log = logging.getLogger(__name__)
_DATA = DATA_FIELD.encode()

_APPLY = """
local group = ARGV[1]
local seen_ttl, bucket_ttl, counts_ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = ARGV[5]
local ngood, nbad, dead_maxlen, nprofiles = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
local i = 10
local profiles, activity = {}, {}
for p = 1, nprofiles do
  local name = ARGV[i]
  activity[p] = string.sub(name, 1, 1) == '*'
  profiles[p] = '|' .. (activity[p] and string.sub(name, 2) or name)
  i = i + 1
end
-- One XACK for the good entries: their effects are guarded by the event_id key below, so an entry
-- that another worker reclaimed and applied a moment ago changes nothing here.
for c = 0, ngood - 1, 1000 do
  redis.call('XACK', KEYS[1], group, unpack(ARGV, i + c, i + math.min(c + 999, ngood - 1)))
end
i = i + ngood
local applied, dup = 0, 0
local devices = {}
for n = 1, ngood do
  local eid, grid, dev, p = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  -- Applied before if its id is in this dedup window or the last one: a repeat is caught for a window at least.
  if redis.call('HEXISTS', KEYS[8], eid) == 0 and redis.call('HSETNX', KEYS[7], eid, 1) == 1 then
    redis.call('HINCRBY', KEYS[6], grid .. profiles[p], 1)
    if activity[p] then
      redis.call('HINCRBY', KEYS[4], grid, 1)
    end
    devices[dev] = true
    applied = applied + 1
  else
    dup = dup + 1
  end
end
for n = 1, nbad do
  local id, reason, detail, raw = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  -- A refused entry has no trusted event_id: only the worker whose XACK removed it records it.
  if redis.call('XACK', KEYS[1], group, id) == 1 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', dead_maxlen, '*',
      'entry_id', id, 'reason', reason, 'detail', detail, 'raw', raw)
  end
end
local seen = {}
for dev in pairs(devices) do
  seen[#seen + 1] = now
  seen[#seen + 1] = dev
  if #seen >= 1000 then
    redis.call('ZADD', KEYS[3], unpack(seen))
    seen = {}
  end
end
if #seen > 0 then
  redis.call('ZADD', KEYS[3], unpack(seen))
end
if applied > 0 then
  redis.call('EXPIRE', KEYS[4], bucket_ttl)
  redis.call('EXPIRE', KEYS[6], counts_ttl)
  redis.call('EXPIRE', KEYS[7], seen_ttl)
  redis.call('INCRBY', KEYS[5], applied)
end
return {applied, dup}
"""
# Minute counts live long enough for the last hour's window and for folding into their day.
COUNTS_TTL_S = 3 * 3600


class EventSink(Protocol):
    """Effects stored in another system (alerts in SQL) before the batch is acknowledged.

    A sink may have a ``kinds`` attribute, the payload kinds it wants (None: all): the worker
    then builds event models only for those.
    """

    def on_events(self, placed: Sequence[tuple[Event, str]]) -> None:
        """Store the effects of these placed events; raise to leave the batch pending for a retry."""
        ...


class Placer(Protocol):
    """Anything that maps points to grid codes (geo.GridLocator)."""

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """Return the grid code of each point, or None where no grid contains it."""
        ...


def _id_order(entry_id: bytes) -> tuple[int, int]:
    """Order stream ids as Redis does (numerically), not as bytes ("10-0" after "9-0")."""
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


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
    event_id: bytes  # the UUID's 16 bytes: half the memory of its text in the dedup hashes
    grid: str
    device_id: str
    profile: str  # its counter profile, "*" first when it is activity on the map (domain.metrics)


@dataclass(frozen=True, slots=True)
class _Job:
    """A prepared batch: the apply script's keys and arguments."""

    keys: list[str]
    args: list[Any]
    read: int
    dead: int


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
        self._totals_lock = threading.Lock()
        self._progressed = False

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
                self._run_pipelined()
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                log.warning("redis unavailable (%s); retrying in %.1f s", exc, backoff)
            except redis.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    self._read_own_pending = True
                    continue  # the group vanished (e.g. Redis lost its data): recreate it
                log.exception("redis refused a command; retrying in %.1f s", backoff)
            except Exception:
                log.exception("unexpected error in worker loop; retrying in %.1f s", backoff)
            if self._progressed:  # it worked for a while: the next failure is a new one
                self._progressed, backoff = False, 0.1
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _run_pipelined(self) -> None:
        """Prepare the next batch in Python while Redis applies the last one, on another thread.

        The apply is mostly a wait on Redis (the GIL is released) and the prepare is mostly Python, so
        overlapping them is most of the worker's speed. At most one batch is in flight; reading our own
        pending entries waits for it, so that read never returns entries still being applied.
        """
        jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=1)
        failures: list[BaseException] = []

        def apply_loop() -> None:
            while (job := jobs.get()) is not None:
                try:
                    if not failures:  # after a failure, later batches stay pending and are re-read
                        self._execute(job)
                except BaseException as exc:  # noqa: BLE001 - handed to the reading thread below
                    failures.append(exc)
                finally:
                    jobs.task_done()
            jobs.task_done()

        applier = threading.Thread(target=apply_loop, name=f"{self.consumer}-apply", daemon=True)
        applier.start()
        try:
            while not self._stop.is_set() and not failures:
                if self._read_own_pending or self._held is not None:
                    jobs.join()
                    if failures:
                        break
                job = self._next_job()
                if job is not None:
                    jobs.put(job)
                    self._progressed = True
        finally:
            jobs.put(None)
            applier.join()
        if failures:
            self._read_own_pending = True
            raise failures[0]

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
        job = self._next_job()
        return BatchResult() if job is None else self._execute(job)

    def _next_job(self) -> _Job | None:
        """Read one batch and do all of its work but the Redis apply (the sink's effects included)."""
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
            return None
        return self._prepare(entries, poison)

    def _handle(self, entries: list[tuple[bytes, dict[bytes, bytes] | None]], poison: set[bytes]) -> BatchResult:
        """Prepare and apply one batch of entries already read."""
        return self._execute(self._prepare(entries, poison))

    def _execute(self, job: _Job) -> BatchResult:
        """Apply a prepared batch in Redis (acknowledging it) and add it to the totals."""
        applied, dup = self._apply(keys=job.keys, args=job.args)
        result = BatchResult(read=job.read, applied=int(applied), duplicates=int(dup), dead=job.dead)
        with self._totals_lock:
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
        got: list[tuple[bytes, dict[bytes, bytes] | None]] = [c for c in claimed if c and c[0] is not None]
        # An id we asked for but did not get was either claimed by another worker a moment earlier
        # (then it is theirs now) or trimmed from the stream while pending: Redis 6 still gives it to
        # us, as a nil entry with no id. The pending list tells the two apart: ours is the trimmed one.
        missing = set(ids) - {c[0] for c in got}
        if missing:
            for row in self._r.xpending_range(
                self.keys.ingest_stream,
                self.keys.worker_group,
                min=min(missing, key=_id_order),
                max=max(missing, key=_id_order),
                count=len(ids) + self.batch,
                consumername=self.consumer,
            ):
                if row["message_id"] in missing:
                    got.append((row["message_id"], None))
        if got:
            log.info("reclaimed %d stale entries (%d poison)", len(got), len(poison))
        return got, poison & {c[0] for c in got}

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

    def _prepare(self, entries: list[tuple[bytes, dict[bytes, bytes] | None]], poison: set[bytes]) -> _Job:
        bad: list[_Bad] = []
        candidates: list[tuple[bytes, bytes]] = []
        for entry_id, fields in entries:
            if not fields:  # trimmed while pending: nil when claimed, {} when re-read from our own list
                detail = "the entry was trimmed from the stream before it was processed"
                bad.append(_Bad(entry_id, RejectReason.PROCESSING_ERROR, detail, b""))
                continue
            raw = fields.get(_DATA)
            if raw is None:
                bad.append(_Bad(entry_id, RejectReason.SCHEMA, "entry has no 'data' field", b""))
            elif entry_id in poison:
                detail = f"failed {self.max_deliveries} deliveries"
                bad.append(_Bad(entry_id, RejectReason.PROCESSING_ERROR, detail, raw))
            else:
                candidates.append((entry_id, raw))
        parsed = self._parse([raw for _, raw in candidates], candidates, bad)
        good: list[_Good] = []
        placed: list[tuple[Event, str]] = []
        wanted: frozenset[str] | None = getattr(self._sink, "kinds", None) if self._sink else frozenset()
        if parsed:
            grids = self._placer.locate_many([e["lon"] for _, e, _ in parsed], [e["lat"] for _, e, _ in parsed])
            for (entry_id, event, raw), grid in zip(parsed, grids, strict=True):
                if grid is None:
                    detail = f"point ({event['lon']}, {event['lat']}) is in no grid"
                    bad.append(_Bad(entry_id, RejectReason.UNPLACEABLE, detail, raw))
                    continue
                payload = event["payload"]
                good.append(_Good(entry_id, event["event_id"].bytes, grid, event["device_id"], profile_name(payload)))
                if wanted is None or payload["kind"] in wanted:
                    placed.append((to_event(event), grid))
        if self._sink is not None and placed:
            try:
                self._sink.on_events(placed)  # stored first: the XACK below must never outrun its effects
            except Exception:
                self._held = (entries, poison)
                raise
        self._held = None
        return self._job(good, bad, read=len(entries))

    def _parse(
        self, raws: list[bytes], candidates: list[tuple[bytes, bytes]], bad: list[_Bad]
    ) -> list[tuple[bytes, WireEvent, bytes]]:
        """Validate the batch in one pass; refused entries join the dead letters with their reason."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        parsed: list[tuple[bytes, WireEvent, bytes]] = []
        try:
            results = parse_events(raws)
        except Exception as exc:  # noqa: BLE001 - one bad entry must not block the stream
            results = [InvalidEvent(RejectReason.PROCESSING_ERROR, repr(exc)[:200]) for _ in raws]
        for (entry_id, raw), result in zip(candidates, results, strict=True):
            if isinstance(result, InvalidEvent):
                bad.append(_Bad(entry_id, result.reason, result.detail, raw))
                continue
            try:
                check_time(result["ts"], now, self.max_age_s, self.max_ahead_s)
            except InvalidEvent as exc:
                bad.append(_Bad(entry_id, exc.reason, exc.detail, raw))
                continue
            parsed.append((entry_id, result, raw))
        return parsed

    def _job(self, good: list[_Good], bad: list[_Bad], read: int) -> _Job:
        now = self._clock()
        minute = math.floor(now / 60)
        window = math.floor(now / self.dedup_window_s)
        profiles: dict[str, int] = {}
        rows: list[Any] = [g.entry_id for g in good]
        for g in good:
            rows += (g.event_id, g.grid, g.device_id, profiles.setdefault(g.profile, len(profiles) + 1))
        for b in bad:
            rows += (b.entry_id, b.reason.value, b.detail, b.raw)
            log.debug("dead letter %s: %s %s", b.entry_id, b.reason.value, b.detail)
        args: list[Any] = [
            self.keys.worker_group,
            2 * self.dedup_window_s + 60,
            self.bucket_ttl_s,
            COUNTS_TTL_S,
            int(now * 1000),
            len(good),
            len(bad),
            self.dead_maxlen,
            len(profiles),
            *profiles,
            *rows,
        ]
        keys = [
            self.keys.ingest_stream,
            self.keys.dead_letter_stream,
            self.keys.devices_seen,
            self.keys.bucket(minute),
            self.keys.applied_total,
            self.keys.counts(minute),
            self.keys.seen(window),
            self.keys.seen(window - 1),
        ]
        return _Job(keys, args, read=read, dead=len(bad))
