"""Workers SIGKILLed mid-stream at a steady load: the survivor reclaims their pending entries; 0 lost, 0 counted twice.

tests/integration/test_worker_crash.py kills one worker draining a pre-filled stream (with hostile
entries and retries); here the load keeps coming while two workers share the group, each dies in
turn holding entries it read but did not acknowledge, and alerts are counted in SQL too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import pytest
import redis

from tests.faults.conftest import Site
from tests.faults.load import SteadyProducer
from tests.integration.stream_state import minute_now, wait_until

pytestmark = pytest.mark.faults

RATE = 1_500
LOAD_BETWEEN_S = 3.0


def pending_of(site: Site, consumer: str) -> int:
    """Entries the group delivered to this consumer and nobody acknowledged yet."""
    summary: Any = site.client.xpending(site.keys.ingest_stream, site.keys.worker_group)
    return sum(int(c["pending"]) for c in summary["consumers"] if c["name"] == consumer.encode())


def consumers(site: Site) -> set[str]:
    """The consumers the group knows (a worker appears once it has read)."""
    try:
        rows: Any = site.client.xinfo_consumers(site.keys.ingest_stream, site.keys.worker_group)
    except redis.ResponseError:  # no group yet
        return set()
    return {row["name"].decode() for row in rows}


def kill_holding(site: Site, proc: subprocess.Popen[bytes], consumer: str) -> int:
    """SIGKILL a worker at a moment it holds entries read but not acknowledged; return how many."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        os.kill(proc.pid, signal.SIGSTOP)  # frozen, what the group says it holds is what it dies with
        held = pending_of(site, consumer)
        if held:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return held
        os.kill(proc.pid, signal.SIGCONT)
        time.sleep(0.003)
    raise AssertionError(f"{consumer} never held a pending entry")


def test_workers_killed_under_load_lose_nothing_and_count_nothing_twice(site: Site) -> None:
    since = minute_now()
    workers = {name: site.run("worker", "--name", name, log=f"{name}.log") for name in ("fault-a", "fault-b")}
    producer = SteadyProducer(site.server.url, site.keys, site.points, rate=RATE).start()
    wait_until(lambda: consumers(site) >= set(workers), 120, lambda: site.log_tail("fault-a.log"))
    held: list[int] = []
    reclaimed_s: list[float] = []
    try:
        # a dies, b takes its entries; a comes back under its own name; then b dies and a takes over.
        for victim in ("fault-a", "fault-b"):
            producer.load_for(LOAD_BETWEEN_S)
            held.append(kill_holding(site, workers[victim], victim))
            killed_at = time.monotonic()
            wait_until(lambda v=victim: pending_of(site, v) == 0, 60, lambda: site.log_tail("fault-b.log"))
            reclaimed_s.append(time.monotonic() - killed_at)
            if victim == "fault-a":
                site.procs.remove(workers[victim])
                workers[victim] = site.run("worker", "--name", victim, log=f"{victim}.log")
        producer.load_for(LOAD_BETWEEN_S)
    finally:
        producer.stop()
    ledger = site.settle(producer, since, "fault-a.log")
    ledger.extra |= {
        "kills": len(held),
        "held_pending_at_kill": "/".join(map(str, held)),
        "reclaimed_after_s": "/".join(f"{s:.2f}" for s in reclaimed_s),
        "claim_idle_ms": site.env["GRIDWATCH_WORKER_CLAIM_IDLE_MS"],
    }
    ledger.print("worker SIGKILL")
    assert all(h > 0 for h in held)
    assert ledger.acknowledged == ledger.sent
    assert ledger.lost == 0
    assert ledger.double_counted == 0
    assert ledger.alarms_lost == 0 and ledger.duplicated_alerts == 0
    assert ledger.alarms_acknowledged > 0
