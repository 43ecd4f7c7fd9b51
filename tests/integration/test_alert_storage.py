from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from domain.alerts import AlertState, InvalidTransition, Severity
from storage.alert_repository import AlertRepository, Occurrence

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture(params=[True, False], ids=["sqlite-driver", "core"])
def fast(request: pytest.FixtureRequest) -> bool:
    """Both ways a batch is written: SQLite's driver directly, and the portable Core statements."""
    return bool(request.param)


def occ(
    dedup: str = "smoke_alarm:D1", *, clears: bool = False, minutes: int = 0, event_id: str | None = None
) -> Occurrence:
    return Occurrence(
        event_id or str(uuid.uuid4()),
        "smoke_alarm",
        dedup,
        Severity.CRITICAL,
        "990101001001001",
        "烟感报警",
        clears,
        T0 + timedelta(minutes=minutes),
    )


def test_repeats_of_one_source_are_one_alert_with_a_count(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    ids = repo.record([occ(minutes=0), occ(minutes=1), occ(minutes=2), occ("smoke_alarm:D2")])
    alerts = {a.dedup_key: a for a in repo.open_alerts()}
    assert len(alerts) == 2 and len(set(ids)) == 2
    one = alerts["smoke_alarm:D1"]
    assert one.count == 3 and one.first_seen == T0 and one.last_seen == T0 + timedelta(minutes=2)


def test_a_redelivered_event_counts_once(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    e = occ(event_id="11111111-1111-1111-1111-111111111111")
    repo.record([e])
    assert repo.record([e]) == []
    assert repo.open_alerts()[0].count == 1


def test_clear_then_fire_again_re_arms_a_new_occurrence(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    first = repo.record([occ()])[0]
    repo.record([occ(clears=True, minutes=5)])
    assert repo.get(first).cleared_at == T0 + timedelta(minutes=5)
    second = repo.record([occ(minutes=6)])[0]
    assert second != first
    assert {a.id for a in repo.open_alerts()} == {first, second}  # the first still waits to be handled


def test_the_full_lifecycle_with_every_step_kept(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    aid = repo.record([occ()])[0]
    with pytest.raises(InvalidTransition):
        repo.transition(aid, AlertState.RESOLVED, "wang")  # not acknowledged yet
    assert repo.acknowledge(aid, "wang", "on it").won
    repo.transition(aid, AlertState.DISPATCHED, "wang", dispatched_to="网格员李四")
    repo.transition(aid, AlertState.RESOLVED, "li", "误报，已处理")
    with pytest.raises(InvalidTransition, match="not cleared"):
        repo.transition(aid, AlertState.CLOSED, "wang")  # acknowledged and handled, but still smoking
    repo.record([occ(clears=True, minutes=9)])
    closed = repo.transition(aid, AlertState.CLOSED, "wang")
    assert closed.state is AlertState.CLOSED and closed.dispatched_to == "网格员李四" and closed.version >= 5
    assert [s[1:3] for s in repo.steps(aid)] == [
        ("new", "acknowledged"),
        ("acknowledged", "dispatched"),
        ("dispatched", "resolved"),
        ("resolved", "closed"),
    ]
    assert repo.open_alerts() == []


def test_two_people_acknowledging_at_once_give_exactly_one_owner(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    for round_ in range(200):
        aid = repo.record([occ(f"race:{round_}")])[0]
        barrier = threading.Barrier(2)
        results: dict[str, bool] = {}

        def ack(
            who: str, aid: int = aid, barrier: threading.Barrier = barrier, results: dict[str, bool] = results
        ) -> None:
            barrier.wait()
            results[who] = repo.acknowledge(aid, who).won

        threads = [threading.Thread(target=ack, args=(who,)) for who in ("zhang", "li")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [False, True], round_
        owner = repo.get(aid).acked_by
        assert owner is not None and results[owner]
        assert len(repo.steps(aid)) == 1  # one step, by the winner
        loser = "li" if owner == "zhang" else "zhang"
        assert repo.acknowledge(aid, loser).alert.acked_by == owner  # the other is told who owns it


def test_concurrent_callers_share_transactions_and_dedup_stays_exact(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    keys = [f"smoke_alarm:D{i}" for i in range(20)]
    shared = [str(uuid.uuid4()) for _ in range(50)]  # every thread sends these: they must count once
    barrier = threading.Barrier(8)

    def send(n: int) -> None:
        barrier.wait()
        for i in range(150):
            repo.record([occ(keys[(n * 7 + i) % len(keys)], event_id=str(uuid.uuid4()))])
        for i, eid in enumerate(shared):
            repo.record([occ(keys[i % len(keys)], event_id=eid)])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alerts = repo.open_alerts()
    assert sorted(a.dedup_key for a in alerts) == sorted(keys)  # one open alert per key
    assert sum(a.count for a in alerts) == 8 * 150 + len(shared)
    transactions, calls = repo.group_stats
    assert calls == 8 * (150 + len(shared)) and transactions <= calls


def test_a_batch_that_fires_clears_and_fires_again_keeps_the_order(engine: Engine, fast: bool) -> None:
    repo = AlertRepository(engine, fast=fast)
    ids = repo.record([occ(minutes=0), occ(minutes=1), occ(clears=True, minutes=2), occ(minutes=3), occ("other")])
    first, second = ids[0], ids[3]
    assert ids[1] == ids[2] == first and first != second
    assert repo.get(first).count == 2 and repo.get(first).cleared_at == T0 + timedelta(minutes=2)
    assert repo.get(second).count == 1 and repo.get(second).cleared_at is None


_RECORDER = """
import sys, uuid
from datetime import UTC, datetime
from domain.alerts import Severity
from storage.alert_repository import AlertRepository, Occurrence
from storage.database import make_engine
engine = make_engine(sys.argv[1])
repo = AlertRepository(engine, fast=sys.argv[3] == "fast")
name = sys.argv[2]
t = datetime(2026, 11, 23, tzinfo=UTC)
def occ(key, eid):
    return Occurrence(eid, "smoke_alarm", key, Severity.CRITICAL, "990101001001001", "t", False, t)
for i in range(300):
    batch = [occ(f"k{(i + j) % 30}", f"{name}-{i}-{j}") for j in range(5)]
    batch.append(occ(f"k{i % 30}", f"shared-{i}"))  # both processes send this event: it counts once
    repo.record(batch)
"""


def test_two_processes_recording_the_same_keys_keep_one_alert_per_key(
    tmp_path: Path, engine: Engine, fast: bool
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RECORDER, url, name, "fast" if fast else "core"], cwd=root, stderr=subprocess.PIPE
        )
        for name in ("p1", "p2")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    alerts = AlertRepository(engine, fast=fast).open_alerts()
    assert sorted(a.dedup_key for a in alerts) == sorted(f"k{i}" for i in range(30))
    assert sum(a.count for a in alerts) == 2 * 300 * 5 + 300
