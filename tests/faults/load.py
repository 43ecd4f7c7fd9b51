"""A steady producer that knows which events were acknowledged, and the ledger that counts what became of them.

"Acknowledged" means Redis replied to the XADD: that is what a gateway (or the HTTP ingest API) tells a
device. A batch whose reply never came is sent again with the same event_ids, as a device retries, until
it is acknowledged; the worker's dedup by event_id makes a resent event that did land count once.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import Engine, text

from streams.keys import RedisKeys
from tests.integration.events import alarm_event, gate_event
from tests.integration.stream_state import grid_counts, wait_until

ALARM_RULE = "alarm_button"


class SteadyProducer:
    """XADD ``rate`` events/s in 20 ms slices; every ``alarm_every``-th event is an alarm of its own device."""

    def __init__(
        self,
        url: str,
        keys: RedisKeys,
        points: dict[str, tuple[float, float]],
        *,
        rate: float,
        alarm_every: int = 50,
        seed: int = 9,
    ) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1)
        self._keys = keys
        self._grids = sorted(points)
        self._points = points
        self.rate = rate
        self.alarm_every = alarm_every
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steady-producer", daemon=True)
        self.grid_of: dict[bytes, str] = {}  # every event built (16-byte id) -> its grid
        self.acked: set[bytes] = set()
        self.alarms: set[bytes] = set()  # alarm events built
        self.attempts = 0  # XADD batches tried, resends included
        self.resends = 0  # batches sent again because no reply came
        self.errors: Counter[str] = Counter()
        self.outage_s = 0.0  # longest time one batch waited for its acknowledgement
        self.acked_at: list[tuple[float, int]] = []  # (monotonic time, acked so far) per batch

    def start(self) -> SteadyProducer:
        """Start sending in a background thread."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        """Stop after the batch in hand is acknowledged (it is retried until then)."""
        self._stop.set()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the producer could not deliver its last batch"
        self._client.close()

    def load_for(self, seconds: float, timeout: float = 60) -> None:
        """Return once another ``seconds`` of load has been acknowledged."""
        target = len(self.acked) + int(self.rate * seconds)
        wait_until(lambda: len(self.acked) >= target, timeout, f"{seconds} s more of steady load")

    def through_after(self, moment: float, timeout: float = 60) -> float:
        """Return when the first batch after ``moment`` (monotonic) was acknowledged."""
        wait_until(lambda: self.acked_at[-1][0] > moment, timeout, "the producer to get through")
        return next(t for t, _ in reversed(self.acked_at) if t > moment)

    @property
    def sent(self) -> int:
        """Distinct events built and sent at least once."""
        return len(self.grid_of)

    def _event(self) -> tuple[bytes, bytes]:
        n = len(self.grid_of)
        grid = self._grids[self._rng.randrange(len(self._grids))]
        eid = uuid.uuid4()
        lon, lat = self._points[grid]
        if n % self.alarm_every == 0:
            raw = json.dumps({**json.loads(alarm_event(lon, lat, device=f"FAULT-{n}")), "event_id": str(eid)})
            self.alarms.add(eid.bytes)
        else:
            raw = gate_event(lon, lat, event_id=eid)
        self.grid_of[eid.bytes] = grid
        return eid.bytes, raw.encode()

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - start) * self.rate) - len(self.grid_of)
            if due <= 0:
                self._stop.wait(0.02)
                continue
            batch = [self._event() for _ in range(min(due, 2000))]
            self._deliver(batch)

    def _deliver(self, batch: list[tuple[bytes, bytes]]) -> None:
        first_try = time.monotonic()
        while True:
            self.attempts += 1
            try:
                pipe = self._client.pipeline(transaction=False)
                for _, raw in batch:
                    pipe.xadd(self._keys.ingest_stream, {"data": raw})
                pipe.execute()
            except redis.RedisError as exc:
                self.errors[type(exc).__name__] += 1
                self.resends += 1
                if time.monotonic() - first_try > 120:
                    raise
                time.sleep(0.05)
                continue
            self.acked.update(eid for eid, _ in batch)
            now = time.monotonic()
            self.outage_s = max(self.outage_s, now - first_try)
            self.acked_at.append((now, len(self.acked)))
            return


def applied_ids(client: redis.Redis, keys: RedisKeys) -> set[bytes]:
    """Every event_id the worker applied (the dedup hashes it writes in the same script as the counts)."""
    out: set[bytes] = set()
    for key in client.scan_iter(match=f"{keys.prefix}:seen:*", count=1000):
        out.update(client.hkeys(key))
    return out


def alarm_counts(engine: Engine) -> tuple[set[bytes], int, int]:
    """The alarm events counted into alerts, the sum of the alerts' counts, and the number of alerts."""
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT event_id FROM alert_event WHERE event_id LIKE :p"), {"p": f"%:{ALARM_RULE}"})
        counted = {uuid.UUID(row[0].split(":")[0]).bytes for row in ids}
        total, rows = conn.execute(
            text("SELECT COALESCE(SUM(count), 0), COUNT(*) FROM alert WHERE rule_key = :r"), {"r": ALARM_RULE}
        ).one()
    return counted, int(total), int(rows)


@dataclass
class Ledger:
    """What was sent and acknowledged against what the worker and the database hold."""

    sent: int
    acknowledged: int
    lost: int  # acknowledged, but never applied
    applied_unacknowledged: int  # sent in a batch whose reply was lost, and applied anyway (fine)
    double_counted: int  # grid counts above the applied events
    alarms_acknowledged: int
    alarms_lost: int  # acknowledged alarms that are in no alert
    duplicated_alerts: int  # alert counts or alert rows beyond one per alarm event
    extra: dict[str, Any] = field(default_factory=dict)

    def print(self, scenario: str) -> None:
        """Print the figures on one line, for docs/operations.md ("Faults and soak")."""
        figures = {
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "double_counted": self.double_counted,
            "applied_unacknowledged": self.applied_unacknowledged,
            "alarms_acknowledged": self.alarms_acknowledged,
            "alarms_lost": self.alarms_lost,
            "duplicated_alerts": self.duplicated_alerts,
            **self.extra,
        }
        print(f"\nFAULT {scenario}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


def reckon(client: redis.Redis, keys: RedisKeys, engine: Engine, producer: SteadyProducer, since_minute: int) -> Ledger:
    """Count lost and doubled events and alerts once the group has caught up."""
    applied = applied_ids(client, keys) & producer.grid_of.keys()
    expected: Counter[str] = Counter(producer.grid_of[eid] for eid in applied)
    counts = grid_counts(client, keys, since_minute)
    double = sum(max(0, n - expected[g]) for g, n in counts.items())
    undercount = sum(max(0, n - counts[g]) for g, n in expected.items())
    counted, alarm_total, alarm_rows = alarm_counts(engine)
    acked_alarms = producer.alarms & producer.acked
    duplicated = (alarm_total - len(counted)) + (alarm_rows - len(counted))
    return Ledger(
        sent=producer.sent,
        acknowledged=len(producer.acked),
        lost=len(producer.acked - applied) + undercount,
        applied_unacknowledged=len(applied - producer.acked),
        double_counted=double,
        alarms_acknowledged=len(acked_alarms),
        alarms_lost=len(acked_alarms - counted),
        duplicated_alerts=duplicated,
        extra={"rate_per_s": round(producer.rate)},
    )
