"""The database unavailable for a while under a steady load: ingest buffers in the stream and catches up, nothing lost.

The worker stores alerts in SQL before it acknowledges a batch, so while the database refuses writes
its batches stay unacknowledged (held and retried), the stream grows, and afterwards the backlog
drains. SQLite here: another connection holds ``BEGIN EXCLUSIVE`` for the outage (writers wait out
their busy timeout, then fail and retry).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.faults.conftest import Site
from tests.faults.load import SteadyProducer, reckon
from tests.integration.stream_state import applied, caught_up, minute_now, wait_until

pytestmark = pytest.mark.faults

RATE = 1_500
LOAD_S = 3.0
OUTAGE_S = 15.0


@contextmanager
def database_down(site: Site) -> Iterator[str]:
    """Make the database refuse writes for the duration; yield how."""
    path = site.engine.url.database
    assert site.engine.url.get_backend_name() == "sqlite" and path
    lock = sqlite3.connect(path, timeout=30, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        yield "sqlite BEGIN EXCLUSIVE from another connection"
    finally:
        lock.execute("ROLLBACK")
        lock.close()


def test_a_database_outage_is_buffered_in_the_stream_and_caught_up(site: Site) -> None:
    since = minute_now()
    site.run("worker", "--name", "fault-db", log="worker.log")
    producer = SteadyProducer(site.server.url, site.keys, site.points, rate=RATE).start()
    backlog_peak = 0
    try:
        wait_until(lambda: applied(site.client, site.keys) > 0, 120, lambda: site.log_tail("worker.log"))
        producer.load_for(LOAD_S)
        with database_down(site) as how:
            applied_at_start = applied(site.client, site.keys)
            down_until = time.monotonic() + OUTAGE_S
            while time.monotonic() < down_until:  # the outage lasts OUTAGE_S; watch the backlog meanwhile
                backlog_peak = max(backlog_peak, len(producer.acked) - applied(site.client, site.keys))
                time.sleep(0.25)
            applied_during = applied(site.client, site.keys) - applied_at_start
        released = time.monotonic()
        owed = len(producer.acked)
        wait_until(lambda: applied(site.client, site.keys) >= owed * 0.99, 120, lambda: site.log_tail("worker.log"))
        caught_up_s = time.monotonic() - released
        producer.load_for(LOAD_S)
    finally:
        producer.stop()
    wait_until(lambda: caught_up(site.client, site.keys), 180, lambda: site.log_tail("worker.log"))
    ledger = reckon(site.client, site.keys, site.engine, producer, since)
    ledger.extra = {
        "outage": how,
        "outage_s": OUTAGE_S,
        "rate_per_s": RATE,
        "applied_during_outage": applied_during,
        "backlog_peak": backlog_peak,
        "backlog_drained_after_s": round(caught_up_s, 1),
        "dead_letters": site.client.xlen(site.keys.dead_letter_stream),
    }
    ledger.print("database unavailable")
    assert backlog_peak > RATE * OUTAGE_S * 0.5, "the outage did not hold the stream back: was it an outage?"
    assert ledger.acknowledged == ledger.sent
    assert ledger.lost == 0 and ledger.double_counted == 0
    assert ledger.alarms_lost == 0 and ledger.duplicated_alerts == 0
    assert ledger.extra["dead_letters"] == 0  # waiting for the database is not a poison message
