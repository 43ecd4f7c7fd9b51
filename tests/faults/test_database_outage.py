"""The database unavailable for a while under a steady load: ingest buffers in the stream and catches up, nothing lost.

The worker stores alerts in SQL before it acknowledges a batch, so while the database refuses writes
its batches stay unacknowledged (held and retried), the stream grows, and afterwards the backlog
drains. SQLite here: another connection holds ``BEGIN EXCLUSIVE`` for the outage (writers wait out
their busy timeout, then fail and retry). PostgreSQL: a private server (runtime.embedded_postgres)
is shut down (fast mode, as ``pg_ctl stop -m fast``: open transactions roll back, clients are cut
off) and started again after the outage.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtime.embedded_postgres import EmbeddedPostgres
from tests.faults.conftest import Site, make_site
from tests.faults.load import SteadyProducer
from tests.integration.stream_state import applied, minute_now, wait_until

pytestmark = pytest.mark.faults

RATE = 1_500
LOAD_S = 3.0
OUTAGE_S = 15.0


@dataclass
class Outage:
    """A site on one database backend, and how to take that database away for a while."""

    site: Site
    down: Callable[[], AbstractContextManager[str]]


@contextmanager
def sqlite_locked(path: str) -> Iterator[str]:
    """Hold an exclusive lock on a SQLite file from another connection: every writer waits, then fails."""
    lock = sqlite3.connect(path, timeout=30, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        yield "sqlite BEGIN EXCLUSIVE from another connection"
    finally:
        lock.execute("ROLLBACK")
        lock.close()


@contextmanager
def postgres_stopped(server: EmbeddedPostgres) -> Iterator[str]:
    """Shut the PostgreSQL server down (fast) and start it again afterwards."""
    server.stop()
    try:
        yield "postgresql server shut down (fast) and restarted"
    finally:
        server.start()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    """A site on SQLite (a file) or on a private PostgreSQL server of its own."""
    if request.param == "sqlite":
        path = tmp_path / "var" / "gridwatch.db"
        for site in make_site(tmp_path, GRIDWATCH_DATABASE_URL=f"sqlite:///{path}"):
            yield Outage(site, lambda: sqlite_locked(str(path)))
        return
    base = Path(tempfile.mkdtemp(prefix="gw-fault-pg-"))
    base.chmod(0o711)  # as root the cluster belongs to the postgres user, who must reach it
    server = EmbeddedPostgres(base / "cluster")
    try:
        server.start()
        url = server.create_database("gridwatch")
        for site in make_site(tmp_path, GRIDWATCH_DATABASE_URL=url):
            yield Outage(site, lambda: postgres_stopped(server))
    finally:
        server.remove()
        shutil.rmtree(base, ignore_errors=True)


def test_a_database_outage_is_buffered_in_the_stream_and_caught_up(outage: Outage) -> None:
    site = outage.site
    since = minute_now()
    site.run("worker", "--name", "fault-db", log="worker.log")
    producer = SteadyProducer(site.server.url, site.keys, site.points, rate=RATE).start()
    backlog_peak = 0
    try:
        wait_until(lambda: applied(site.client, site.keys) > 0, 120, lambda: site.log_tail("worker.log"))
        producer.load_for(LOAD_S)
        with outage.down() as how:
            applied_at_start = applied(site.client, site.keys)
            down_until = time.monotonic() + OUTAGE_S
            while time.monotonic() < down_until:  # the outage lasts OUTAGE_S; watch the backlog meanwhile
                backlog_peak = max(backlog_peak, len(producer.acked) - applied(site.client, site.keys))
                time.sleep(0.25)
            applied_during = applied(site.client, site.keys) - applied_at_start
        released = time.monotonic()
        site.engine.dispose()  # the test's own pooled connections died with a restarted server
        owed = len(producer.acked)
        wait_until(lambda: applied(site.client, site.keys) >= owed * 0.99, 120, lambda: site.log_tail("worker.log"))
        caught_up_s = time.monotonic() - released
        producer.load_for(LOAD_S)
    finally:
        producer.stop()
    ledger = site.settle(producer, since, "worker.log")
    ledger.extra |= {
        "outage": how,
        "outage_s": OUTAGE_S,
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
