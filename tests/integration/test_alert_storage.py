from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from domain.alerts import AlertState, InvalidTransition, Severity
from storage.alert_repository import AlertRepository, Occurrence

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


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


def test_repeats_of_one_source_are_one_alert_with_a_count(engine: Engine) -> None:
    repo = AlertRepository(engine)
    ids = repo.record([occ(minutes=0), occ(minutes=1), occ(minutes=2), occ("smoke_alarm:D2")])
    alerts = {a.dedup_key: a for a in repo.open_alerts()}
    assert len(alerts) == 2 and len(set(ids)) == 2
    one = alerts["smoke_alarm:D1"]
    assert one.count == 3 and one.first_seen == T0 and one.last_seen == T0 + timedelta(minutes=2)


def test_a_redelivered_event_counts_once(engine: Engine) -> None:
    repo = AlertRepository(engine)
    e = occ(event_id="11111111-1111-1111-1111-111111111111")
    repo.record([e])
    assert repo.record([e]) == []
    assert repo.open_alerts()[0].count == 1


def test_clear_then_fire_again_re_arms_a_new_occurrence(engine: Engine) -> None:
    repo = AlertRepository(engine)
    first = repo.record([occ()])[0]
    repo.record([occ(clears=True, minutes=5)])
    assert repo.get(first).cleared_at == T0 + timedelta(minutes=5)
    second = repo.record([occ(minutes=6)])[0]
    assert second != first
    assert {a.id for a in repo.open_alerts()} == {first, second}  # the first still waits to be handled


def test_the_full_lifecycle_with_every_step_kept(engine: Engine) -> None:
    repo = AlertRepository(engine)
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


def test_two_people_acknowledging_at_once_give_exactly_one_owner(engine: Engine) -> None:
    repo = AlertRepository(engine)
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
