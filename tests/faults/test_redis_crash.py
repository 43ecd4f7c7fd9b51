"""Redis SIGKILLed mid-stream at a steady load, restarted on the same AOF (everysec): nothing acknowledged is lost.

Redis writes the AOF buffer to the kernel before it replies, so a killed process (the OS still up)
loses no acknowledged write, except while a background fsync is slow: then Redis may postpone the
write up to 2 s and still reply (INFO ``aof_delayed_fsync`` counts those). The test prints that
counter with the figures. Power loss is out of its reach: there the last second can go.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import Site
from tests.faults.load import SteadyProducer
from tests.integration.stream_state import applied, minute_now, wait_until

pytestmark = pytest.mark.faults

RATE = 2_000  # events/s: what the worker keeps up with on a shared two-core box, with room to catch up
KILLS = 3
LOAD_BETWEEN_S = 2.5  # of steady load before each kill
DOWN_S = 0.5  # how long Redis stays dead before it is started again


def test_redis_killed_under_load_loses_no_acknowledged_event_and_duplicates_no_alert(site: Site) -> None:
    since = minute_now()
    site.run("worker", "--name", "fault-w1", log="worker.log")
    producer = SteadyProducer(site.server.url, site.keys, site.points, rate=RATE).start()
    delayed_fsync = 0
    restarts: list[float] = []  # kill -> the first acknowledged batch after the restart
    try:
        for _ in range(KILLS):
            producer.load_for(LOAD_BETWEEN_S)
            wait_until(lambda: applied(site.client, site.keys) > 0, 60, lambda: site.log_tail("worker.log"))
            delayed_fsync = max(delayed_fsync, int(site.client.info("persistence").get("aof_delayed_fsync", 0)))
            killed_at = time.monotonic()
            site.server.kill()  # SIGKILL
            time.sleep(DOWN_S)  # the outage itself, not a wait for something
            site.server.start()
            restarts.append(producer.through_after(killed_at + DOWN_S) - killed_at)
            delayed_fsync = max(delayed_fsync, int(site.client.info("persistence").get("aof_delayed_fsync", 0)))
    finally:
        producer.stop()
    ledger = site.settle(producer, since, "worker.log")
    ledger.extra |= {
        "kills": KILLS,
        "producer_resent_batches": producer.resends,
        "longest_unacknowledged_s": round(producer.outage_s, 2),
        "kill_to_next_ack_s": "/".join(f"{r:.2f}" for r in restarts),
        "aof_delayed_fsync": delayed_fsync,
    }
    ledger.print("redis SIGKILL (AOF everysec)")
    assert ledger.acknowledged > KILLS * RATE * LOAD_BETWEEN_S * 0.9
    assert producer.resends > 0, "no batch met the outage: the kill did not happen under load"
    assert ledger.lost == 0
    assert ledger.double_counted == 0
    assert ledger.alarms_lost == 0 and ledger.duplicated_alerts == 0
    assert ledger.alarms_acknowledged > 0
