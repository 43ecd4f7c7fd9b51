"""Demo cases: a history of weeks played through the real case service, then a live trickle.

``backfill`` files the demo city's past cases and walks each through its planned steps with
a clock set to each step's time, so every step is a real, audited step with its real
deadline, and the charts, the supervision list and the scoreboard have data at once.
``CaseDemo`` keeps the demo moving while `make run` runs: new cases arrive, open ones move on
(a hundred times faster than a city, so a visitor sees it), and one case in ten is left
alone, so there is always overdue work to supervise. Only `app.py run` and `simulate` start it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from domain.case_config import CaseConfig, Category
from domain.case_demo import DESCRIPTIONS, PlannedStep, plan_life
from domain.cases import CaseAction, CaseSource, CaseState
from domain.permissions import Principal, Role
from geo.hierarchy import Hierarchy, Level
from runtime.case_service import CaseError, CaseService, NewCaseInput, case_service_for
from settings import Settings
from storage.case_repository import CaseFilter, CaseRecord

__all__ = ["CaseDemo", "DemoClock", "backfill", "ensure_demo_history", "live_demo"]

log = logging.getLogger(__name__)
_SOURCES = (CaseSource.HOTLINE, CaseSource.GRID_REPORT, CaseSource.PLATFORM)
_SOURCE_WEIGHTS = (0.6, 0.35, 0.05)
_LEFT_ALONE = 10  # one case in ten is never moved by the live demo: overdue work to supervise
LIVE_SPEED = 100.0
HISTORY_DAYS = 14


class DemoClock:
    """A clock the demo sets to each step's time; ``None`` means the real time."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Actors:
    center: Principal

    def handler(self, case: CaseRecord) -> Principal:
        """Who handles a case in the demo: its assignee, or the grid's (simulated) worker."""
        grid = case.grid_code or case.unit_code
        return Principal(0, case.assignee or f"demo-worker-{grid[-6:]}", Role.GRID_WORKER, grid)

    def for_action(self, action: CaseAction, case: CaseRecord) -> Principal:
        return self.handler(case) if action in (CaseAction.START, CaseAction.FEEDBACK) else self.center


def _actors(hierarchy: Hierarchy) -> _Actors:
    return _Actors(Principal(0, "demo-center", Role.CITY_OPERATOR, hierarchy.city.code))


def _new_case(rng: random.Random, hierarchy: Hierarchy, grids: list[str], config: CaseConfig) -> NewCaseInput:
    """A case at a random point of a random grid, of a random category, from a random source."""
    grid = hierarchy.get(rng.choice(grids))
    point = grid.geometry.representative_point()
    category = rng.choice(list(config.categories))
    source = rng.choices(_SOURCES, weights=_SOURCE_WEIGHTS)[0]
    texts = DESCRIPTIONS.get(category.service_code, DESCRIPTIONS["other"])
    return NewCaseInput(source, category.service_code, rng.choice(texts), lon=point.x, lat=point.y)


def _take(service: CaseService, actors: _Actors, case: CaseRecord, step: PlannedStep) -> CaseRecord:
    return service.act(
        actors.for_action(step.action, case),
        case.id,
        step.action,
        "demo",
        note=step.note,
        satisfaction=step.satisfaction,
    )


def backfill(
    service: CaseService,
    clock: DemoClock,
    hierarchy: Hierarchy,
    *,
    days: int,
    per_day: int,
    seed: int,
    now: datetime | None = None,
) -> int:
    """File ``days`` of past demo cases (``per_day`` each) and play their steps up to now."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = now or datetime.now(UTC)
    grids = [u.code for u in hierarchy.at_level(Level.GRID)]
    actors = _actors(hierarchy)
    filed = 0
    start = now - timedelta(days=days)
    try:
        for _ in range(days * per_day):
            created = start + timedelta(seconds=rng.uniform(0, days * 86400))
            new = _new_case(rng, hierarchy, grids, service.config)
            clock.at = created
            case = service.collect(new, "demo-hotline" if new.source is CaseSource.HOTLINE else "demo", "demo")
            filed += 1
            for step in plan_life(rng, service.category(new.service_code), new.source, created):
                if step.at > now:
                    break
                clock.at = step.at
                case = _take(service, actors, case, step)
    finally:
        clock.at = None
    return filed


class CaseDemo:
    """Keep demo cases coming and moving while the demo runs."""

    def __init__(
        self,
        service: CaseService,
        hierarchy: Hierarchy,
        *,
        per_hour: float,
        seed: int,
        tick_s: float = 10.0,
        speed: float = LIVE_SPEED,
    ) -> None:
        self._service = service
        self._h = hierarchy
        self._grids = [u.code for u in hierarchy.at_level(Level.GRID)]
        self._rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self._actors = _actors(hierarchy)
        self._per_tick = per_hour * tick_s / 3600.0
        self._tick_s = tick_s
        self._speed = speed
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self, should_stop: Callable[[], bool] | None = None) -> None:
        """Tick until stopped; a failed tick is logged and the next one tried."""
        while not self._stop.wait(self._tick_s) and not (should_stop and should_stop()):
            try:
                self.tick()
            except Exception:
                log.warning("demo case tick failed", exc_info=True)

    def tick(self) -> None:
        """File this tick's share of new cases, and move open cases whose wait is over."""
        due = self._per_tick + self._rng.random()
        for _ in range(int(due)):
            new = _new_case(self._rng, self._h, self._grids, self._service.config)
            self._service.collect(new, "demo-hotline" if new.source is CaseSource.HOTLINE else "demo", "demo")
        now = self._service.now()
        for case in self._service.cases.find(CaseFilter(open_only=True, limit=500)):
            if case.id % _LEFT_ALONE == 0:
                continue
            category = self._service.category(case.service_code)
            if self._moves_now(category, case.state, now - case.state_since):
                self._advance(case, category)

    def _moves_now(self, category: Category, state: CaseState, waited: timedelta) -> bool:
        """Whether a case that has waited this long in a state moves on this tick."""
        limit = category.limit(state) or timedelta(hours=24)
        mean = limit * 0.45 / self._speed
        if waited < mean * 0.2:
            return False
        return self._rng.random() < min(1.0, self._tick_s / max(mean.total_seconds(), 1.0))

    def _advance(self, case: CaseRecord, category: Category) -> None:
        steps = plan_life(self._rng, category, case.source, case.state_since, speed=self._speed)
        # the next planned step from where the case is; the live demo never re-opens a case
        step = next((s for s in steps if s.from_state is case.state and s.action is not CaseAction.REOPEN), None)
        if step is None:
            return
        try:
            _take(self._service, self._actors, case, step)
        except CaseError as exc:  # someone moved it by hand in the meantime: fine
            log.debug("demo step on case %d refused: %s", case.id, exc)


def ensure_demo_history(settings: Settings, engine: Engine, hierarchy: Hierarchy) -> int:
    """File the demo history once, on an installation that has no case yet; the number filed."""
    service = case_service_for(settings, engine, hierarchy, None, clock=(clock := DemoClock()))
    if settings.demo_cases_per_day <= 0 or service.cases.count(CaseFilter(limit=1)):
        return 0
    return backfill(
        service, clock, hierarchy, days=HISTORY_DAYS, per_day=settings.demo_cases_per_day, seed=settings.demo_seed
    )


def live_demo(settings: Settings, engine: Engine, hierarchy: Hierarchy) -> CaseDemo:
    """The live demo of a `make run`: four times the daily rate per hour, moving at LIVE_SPEED."""
    service = case_service_for(settings, engine, hierarchy, None)
    return CaseDemo(service, hierarchy, per_hour=settings.demo_cases_per_day * 4.0, seed=settings.demo_seed)
