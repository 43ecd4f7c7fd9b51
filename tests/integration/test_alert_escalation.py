"""Escalation on a real database and Redis with a frozen clock: timing, acknowledgement, races, the push."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from alembic import command
from sqlalchemy import Engine, text

from domain.alerts import AlertState, Severity
from domain.escalation import EscalationPolicy
from geo.hierarchy import Hierarchy, Level
from runtime.escalator import ACTOR, Escalator
from storage.alert_repository import AlertRepository, Occurrence
from storage.audit_repository import AuditQuery, AuditRepository
from storage.database import make_engine
from storage.migrate import alembic_config, upgrade_to_head
from streams.aggregates import decode_push
from streams.keys import RedisKeys
from tests import databases

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
POLICY = EscalationPolicy(
    ack_s={Severity.CRITICAL: 120, Severity.WARNING: 900}, step_s={Severity.CRITICAL: 60, Severity.WARNING: 600}
)


class FrozenClock:
    """A clock that moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


def fire(repo: AlertRepository, grid: str, key: str, severity: Severity = Severity.CRITICAL) -> int:
    occ = Occurrence(str(uuid.uuid4()), "smoke_alarm", key, severity, grid, "烟感报警", False, T0)
    return repo.record([occ])[0]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def grid(small_city: Hierarchy) -> str:
    return small_city.at_level(Level.GRID)[7].code


def escalator(
    client: redis.Redis, keys: RedisKeys, engine: Engine, city: Hierarchy, clock: FrozenClock, owner: str = "w1"
) -> Escalator:
    return Escalator(
        client,
        keys,
        AlertRepository(engine, POLICY),
        AuditRepository(engine),
        city,
        POLICY,
        owner=owner,
        clock=clock,
    )


def test_an_unacknowledged_alert_climbs_every_level_on_time(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, small_city: Hierarchy, grid: str, clock: FrozenClock
) -> None:
    repo = AlertRepository(engine, POLICY)
    aid = fire(repo, grid, "smoke_alarm:D1")
    first = repo.get(aid)
    assert (first.level_code, first.escalation_step, first.escalates_at) == (grid, 0, T0 + timedelta(seconds=120))
    esc = escalator(redis_client, keys, engine, small_city, clock)
    ladder = [grid, *small_city.ancestors(grid)]  # grid, community, street, district, city
    assert [small_city.get(c).level for c in ladder] == list(reversed(Level))
    # Due at 120 s, then every 60 s: nothing a moment before each deadline, one step at it.
    for step, at in enumerate((120, 180, 240, 300), start=1):
        clock.at(at - 0.001)
        assert esc.tick() == []
        clock.at(at)
        moved = esc.tick()
        assert moved is not None and [a.id for a in moved] == [aid]
        now = repo.get(aid)
        assert (now.level_code, now.escalation_step) == (ladder[step], step)
        assert now.escalates_at == (None if step == 4 else clock.now + timedelta(seconds=60))
        assert now.state is AlertState.NEW and now.unit_code == grid
    clock.at(10_000)
    assert esc.tick() == []  # at the city: nowhere further to go
    steps = repo.steps(aid)
    assert [s[0] for s in steps] == [ACTOR] * 4 and all(s[1:3] == ("new", "new") for s in steps)
    audited = AuditRepository(engine).search(AuditQuery(action="alert.escalate", target=f"alert:{aid}"))
    assert sorted(e.detail["to"] for e in audited) == sorted(ladder[1:])
    assert {e.actor for e in audited} == {ACTOR}
    wire = repo.get(aid).to_wire(lambda code: small_city.get(code).name)
    assert (wire["level_code"], wire["level_name"], wire["escalation_step"], wire["escalates_at"]) == (
        small_city.city.code,
        small_city.city.name,
        4,
        None,
    )


def test_an_acknowledged_alert_never_escalates_and_acknowledging_stops_the_clock(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, small_city: Hierarchy, grid: str, clock: FrozenClock
) -> None:
    repo = AlertRepository(engine, POLICY)
    early, late = fire(repo, grid, "smoke_alarm:A"), fire(repo, grid, "smoke_alarm:B")
    esc = escalator(redis_client, keys, engine, small_city, clock)
    assert repo.acknowledge(early, "zhang", now=clock.at(60)).won
    assert repo.get(early).escalates_at is None
    moved = esc.tick() or []
    assert moved == []
    clock.at(130)
    assert [a.id for a in esc.tick() or []] == [late]  # only the one nobody took
    assert repo.acknowledge(late, "li", now=clock.at(150)).won
    after = repo.get(late)
    assert (after.escalates_at, after.escalation_step, after.level_code) == (None, 1, small_city.ancestors(grid)[0])
    clock.at(100_000)
    assert esc.tick() == []
    assert repo.get(early).escalation_step == 0 and repo.get(late).escalation_step == 1


def test_repeats_do_not_reset_the_deadline(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, small_city: Hierarchy, grid: str, clock: FrozenClock
) -> None:
    repo = AlertRepository(engine, POLICY)
    aid = fire(repo, grid, "smoke_alarm:R")
    later = Occurrence(str(uuid.uuid4()), "smoke_alarm", "smoke_alarm:R", Severity.CRITICAL, grid, "t", False, T0)
    repo.record([later])
    assert repo.get(aid).count == 2 and repo.get(aid).escalates_at == T0 + timedelta(seconds=120)
    clock.at(120)
    assert [a.id for a in escalator(redis_client, keys, engine, small_city, clock).tick() or []] == [aid]


def test_two_escalators_racing_on_one_database_move_each_alert_once(
    redis_client: redis.Redis, keys: RedisKeys, tmp_path: Path, small_city: Hierarchy, clock: FrozenClock
) -> None:
    # Two engines on one file: two connection pools, as two worker processes would have.
    engines = [make_engine(databases.db_url(tmp_path / "race.db")) for _ in range(2)]
    upgrade_to_head(engines[0])
    grids = [g.code for g in small_city.at_level(Level.GRID)[:20]]
    repo = AlertRepository(engines[0], POLICY)
    ids = [fire(repo, g, f"race:{g}") for g in grids]
    racers = [escalator(redis_client, keys, e, small_city, clock, owner=f"w{i}") for i, e in enumerate(engines)]
    for round_ in range(10):
        clock.at(120 + 60 * round_)
        barrier = threading.Barrier(2)
        moved: list[list[int]] = [[], []]

        def run(i: int, barrier: threading.Barrier = barrier, moved: list[list[int]] = moved) -> None:
            barrier.wait()
            moved[i] = [a.id for a in racers[i].work(clock.now)]  # work() skips the lease: the race is the point

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if round_ < 4:
            assert sorted(moved[0] + moved[1]) == sorted(ids), round_  # each alert moved by exactly one of them
        assert all(repo.get(i).escalation_step == min(round_ + 1, 4) for i in ids)
    for i in ids:
        assert len(repo.steps(i)) == 4
    audited = AuditRepository(engines[0]).search(AuditQuery(action="alert.escalate", limit=1000))
    assert len(audited) == 4 * len(ids)
    for e in engines:
        e.dispose()


def test_only_the_lease_holder_escalates(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, small_city: Hierarchy, grid: str, clock: FrozenClock
) -> None:
    repo = AlertRepository(engine, POLICY)
    aid = fire(repo, grid, "smoke_alarm:L")
    first = escalator(redis_client, keys, engine, small_city, clock, owner="w1")
    second = escalator(redis_client, keys, engine, small_city, clock, owner="w2")
    clock.at(120)
    assert [a.id for a in first.tick() or []] == [aid]
    clock.at(180)
    assert second.tick() is None  # w1 holds the lease
    assert repo.get(aid).escalation_step == 1


def test_the_escalated_alert_is_pushed_again_with_renotify(
    redis_client: redis.Redis, keys: RedisKeys, engine: Engine, small_city: Hierarchy, grid: str, clock: FrozenClock
) -> None:
    repo = AlertRepository(engine, POLICY)
    aid = fire(repo, grid, "smoke_alarm:P")
    pubsub = redis_client.pubsub()
    pubsub.subscribe(keys.push_channel)
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    clock.at(120)
    escalator(redis_client, keys, engine, small_city, clock).tick()
    deadline = time.monotonic() + 5
    message = None
    while message is None and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
    assert message is not None
    event, data = decode_push(message["data"])
    assert event == "alerts" and isinstance(data, dict) and data["renotify"] is True
    (item,) = data["alerts"]
    assert (item["id"], item["level_code"], item["escalation_step"]) == (aid, small_city.ancestors(grid)[0], 1)
    assert item["level_name"] == small_city.get(small_city.ancestors(grid)[0]).name
    assert datetime.fromisoformat(item["escalates_at"]) == clock.now + timedelta(seconds=60)
    pubsub.close()


def test_the_wire_form_has_the_escalation_fields(engine: Engine, grid: str) -> None:
    repo = AlertRepository(engine, POLICY)
    wire = repo.get(fire(repo, grid, "smoke_alarm:W")).to_wire(str.upper)
    assert {k: wire[k] for k in ("level_code", "level_name", "escalation_step", "escalates_at")} == {
        "level_code": grid,
        "level_name": grid.upper(),
        "escalation_step": 0,
        "escalates_at": "2026-11-23T08:02:00+00:00",
    }
    json.dumps(wire)


@pytest.fixture
def db_at_0004(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(databases.db_url(tmp_path / "old.db"))
    command.upgrade(alembic_config(eng), "0004")
    yield eng
    eng.dispose()


def test_migration_0005_upgrades_existing_alerts(db_at_0004: Engine) -> None:
    with db_at_0004.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alert (rule_key, dedup_key, severity, state, unit_code, text, first_seen, last_seen,"
                " count, version) VALUES ('smoke_alarm', 'smoke_alarm:OLD', 4, 'new', 'G1', 't', :t, :t, 2, 1)"
            ),
            {"t": T0},
        )
    upgrade_to_head(db_at_0004)
    repo = AlertRepository(db_at_0004, POLICY)
    (old,) = repo.open_alerts()
    assert (old.level_code, old.escalation_step, old.escalates_at) == ("G1", 0, None)  # not armed retroactively
    occ = Occurrence(str(uuid.uuid4()), "smoke_alarm", "smoke_alarm:OLD", Severity.CRITICAL, "G1", "t", False, T0)
    assert repo.record([occ]) == [old.id] and repo.get(old.id).count == 3  # repeats still group into it
    with db_at_0004.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
    assert {"uq_alert_open_dedup", "ix_alert_escalation"} <= names and "ix_alert_dedup" not in names
