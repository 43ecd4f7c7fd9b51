"""Demo cases: a history played through the real service, and the live trickle moving it on."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from domain.case_config import load_case_config
from domain.case_demo import plan_life
from domain.cases import CaseAction, CaseSource, CaseState
from geo.hierarchy import Hierarchy, Unit
from runtime.case_demo import CaseDemo, DemoClock, backfill
from runtime.case_service import CaseService, case_service_for
from settings import Settings
from storage.case_models import CaseStepRow
from storage.case_repository import CaseFilter
from storage.models import AuditRow
from storage.repositories import GeoRepository

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def _service(engine: Engine, units: list[Unit], city: Hierarchy, settings: Settings, clock: DemoClock) -> CaseService:
    GeoRepository(engine).replace_all(units)
    return case_service_for(settings, engine, city, None, clock=clock)


def test_a_planned_life_is_a_legal_walk_that_ends_evaluated_or_rejected() -> None:
    config = load_case_config()
    rng = random.Random(1)
    ends = set()
    for _ in range(300):
        category = rng.choice(config.categories)
        steps = plan_life(rng, category, CaseSource.HOTLINE, NOW)
        assert all(a.at < b.at for a, b in itertools.pairwise(steps))
        ends.add(steps[-1].action)
        if steps[-1].action is CaseAction.EVALUATE:
            assert steps[-1].satisfaction in range(1, 6)
    assert ends == {CaseAction.EVALUATE, CaseAction.REJECT}


def test_backfill_plays_real_steps_up_to_now_with_late_and_reopened_ones(
    engine: Engine, small_units: list[Unit], small_city: Hierarchy, small_settings: Settings
) -> None:
    clock = DemoClock()
    service = _service(engine, small_units, small_city, small_settings, clock)
    filed = backfill(service, clock, small_city, days=7, per_day=20, seed=3, now=NOW)
    assert filed == 140
    cases = service.cases.find(CaseFilter(limit=1000))
    states = {c.state for c in cases}
    assert CaseState.EVALUATED in states and states & {CaseState.COLLECTED, CaseState.ACCEPTED, CaseState.HANDLING}
    assert all(c.created_at <= NOW and c.updated_at <= NOW for c in cases)
    with engine.connect() as conn:
        on_time = dict(conn.execute(select(CaseStepRow.on_time, func.count()).group_by(CaseStepRow.on_time)).all())
        reopens = conn.scalar(select(func.count()).where(CaseStepRow.action == "reopen"))
        audited = conn.scalar(select(func.count()).where(AuditRow.action.like("case.%")))
        steps = conn.scalar(select(func.count()).select_from(CaseStepRow))
    assert on_time[True] > on_time[False] > 0  # mostly in time, some late
    assert reopens and reopens > 0
    assert audited == steps  # every step is audited, the collection (a step of its own) too
    assert sum(1 for c in cases if c.satisfaction is not None) > 0


def test_the_live_demo_files_and_moves_cases_but_leaves_some_alone(
    engine: Engine, small_units: list[Unit], small_city: Hierarchy, small_settings: Settings
) -> None:
    clock = DemoClock()
    clock.at = NOW
    service = _service(engine, small_units, small_city, small_settings, clock)
    demo = CaseDemo(service, small_city, per_hour=3600, seed=5, tick_s=10.0, speed=100.0)
    demo.tick()
    first = service.cases.find(CaseFilter(limit=100))
    assert 10 <= len(first) <= 11  # 3600/h for 10 s
    for _ in range(60):  # ten minutes of demo time at 100x: hours of a city's time
        clock.at += timedelta(seconds=10)
        demo.tick()
    moved = [service.cases.get(c.id) for c in first]
    assert any(c.state is not CaseState.COLLECTED for c in moved)
    assert all(c.state is CaseState.COLLECTED for c in moved if c.id % 10 == 0)
