"""Cases on a real database: routing, the whole workflow, refusals, races, deadlines and supervision."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine

from domain.case_config import load_case_config
from domain.cases import CaseAction, CaseSource, CaseState
from domain.permissions import Principal, Role
from geo.hierarchy import Hierarchy, Level, Unit
from geo.lookup import GridLocator
from runtime.alert_sink import AlertRaiser, load_rules
from runtime.case_service import CaseDenied, CaseError, CaseService, NewCaseInput, UnknownCase
from runtime.case_supervisor import CaseSupervisor, responsible_unit
from storage.alert_repository import AlertRepository
from storage.audit_repository import AuditRepository
from storage.case_repository import CaseFilter, CaseRepository
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
A = CaseAction


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def city(engine: Engine, small_city: Hierarchy, small_units: list[Unit]) -> Hierarchy:
    GeoRepository(engine).replace_all(small_units)
    return small_city


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def raiser(engine: Engine, city: Hierarchy) -> AlertRaiser:
    return AlertRaiser(AlertRepository(engine), load_rules(), city)


@pytest.fixture
def service(engine: Engine, city: Hierarchy, clock: Clock, raiser: AlertRaiser) -> CaseService:
    return CaseService(
        CaseRepository(engine),
        AuditRepository(engine),
        city,
        GridLocator.for_hierarchy(city),
        load_case_config(),
        UserRepository(engine),
        overdue=raiser,
        clock=clock,
    )


@pytest.fixture
def grid(city: Hierarchy) -> str:
    return city.at_level(Level.GRID)[0].code


@pytest.fixture
def people(engine: Engine, city: Hierarchy, grid: str) -> dict[str, Principal]:
    users = UserRepository(engine)
    out = {}
    street = city.ancestors(grid)[1] if len(city.ancestors(grid)) > 1 else city.city.code
    district = city.district_of(grid)
    assert district is not None
    other_grid = next(g.code for g in city.at_level(Level.GRID) if city.district_of(g.code) != district)
    for name, role, unit in [
        ("op", Role.CITY_OPERATOR, city.city.code),
        ("w1", Role.GRID_WORKER, grid),
        ("w2", Role.GRID_WORKER, grid),
        ("far", Role.GRID_WORKER, other_grid),
        ("lead", Role.DISTRICT_LEADER, district),
        ("aud", Role.AUDITOR, city.city.code),
        ("st", Role.STREET_STAFF, street),
    ]:
        out[name] = users.create(name, name, "x", role, unit).principal
    return out


def point_in(city: Hierarchy, code: str) -> tuple[float, float]:
    p = city.get(code).geometry.representative_point()
    return p.x, p.y


def new_case(
    city: Hierarchy, grid: str, source: CaseSource = CaseSource.HOTLINE, code: str = "road_damage"
) -> NewCaseInput:
    lon, lat = point_in(city, grid)
    return NewCaseInput(source, code, "路面塌陷一处", lon=lon, lat=lat, contact={"phone": "13800000000"})


def test_a_case_is_routed_to_the_grid_of_its_location_and_the_department_of_its_category(
    service: CaseService, city: Hierarchy, grid: str, clock: Clock
) -> None:
    case = service.collect(new_case(city, grid), "hotline", "10.0.0.1")
    assert case.state is CaseState.COLLECTED and case.grid_code == grid and case.unit_code == grid
    assert case.department == "transport"
    assert case.due_at == T0 + timedelta(hours=2)
    assert case.contact == {"phone": "13800000000"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"service_code": "nope"}, "unknown service"),
        ({"description": "  "}, "description"),
        ({"lon": 0.0, "lat": 0.0}, "outside the city"),
        ({"lon": None, "lat": None}, "lat/long or an address"),
    ],
)
def test_a_case_that_cannot_be_routed_is_refused_with_the_reason(
    service: CaseService, city: Hierarchy, grid: str, change: dict[str, object], message: str
) -> None:
    from dataclasses import replace

    with pytest.raises(CaseError, match=message):
        service.collect(replace(new_case(city, grid), **change), "hotline", "-")  # type: ignore[arg-type]
    assert service.cases.count(CaseFilter()) == 0


def test_a_case_walks_the_whole_workflow_with_every_step_stored(
    service: CaseService, city: Hierarchy, grid: str, people: dict[str, Principal], clock: Clock, engine: Engine
) -> None:
    op, w1 = people["op"], people["w1"]
    case = service.collect(new_case(city, grid), "hotline", "-")
    clock.advance(minutes=30)
    case = service.act(op, case.id, A.ACCEPT, "-")
    clock.advance(minutes=10)
    case = service.act(op, case.id, A.DISPATCH, "-")
    assert case.state is CaseState.DISPATCHED and case.assignee == "w1"  # the grid's first worker
    with pytest.raises(CaseError, match="cannot close a case that is dispatched"):
        service.act(op, case.id, A.CLOSE, "-")
    case = service.act(w1, case.id, A.START, "-")
    clock.advance(hours=5)
    case = service.act(w1, case.id, A.FEEDBACK, "-", note="已修复")
    assert case.handled_by == "w1" and case.handled_on_time is True
    case = service.act(op, case.id, A.REOPEN, "-", note="仍有积水")
    assert case.state is CaseState.HANDLING and case.reopen_count == 1
    case = service.act(w1, case.id, A.FEEDBACK, "-", note="已排水")
    case = service.act(op, case.id, A.VERIFY, "-")
    case = service.act(op, case.id, A.CLOSE, "-")
    assert case.closed_at == clock.now
    with pytest.raises(CaseError, match="satisfaction"):
        service.act(op, case.id, A.EVALUATE, "-")
    case = service.act(op, case.id, A.EVALUATE, "-", satisfaction=4)
    assert case.state is CaseState.EVALUATED and case.satisfaction == 4 and case.due_at is None
    steps = service.cases.steps([case.id])[case.id]
    assert [s.action for s in steps] == [
        "collect",
        "accept",
        "dispatch",
        "start",
        "feedback",
        "reopen",
        "feedback",
        "verify",
        "close",
        "evaluate",
    ]
    assert [s.to_state for s in steps][-1] == "evaluated"
    assert all(s.from_state == prev.to_state for prev, s in itertools.pairwise(steps))
    audit = list(AuditRepository(engine).entries())
    actions = [e.action for e in audit if e.target == f"case:{case.id}"]
    assert actions.count("case.feedback") == 2 and "case.close" in actions
    refused = [e for e in audit if e.outcome == "refused"]
    assert {e.action for e in refused} == {"case.close", "case.evaluate"}


def test_roles_and_jurisdiction_are_checked_by_the_service(
    service: CaseService, city: Hierarchy, grid: str, people: dict[str, Principal]
) -> None:
    case = service.collect(new_case(city, grid), "hotline", "-")
    with pytest.raises(CaseDenied):
        service.act(people["w1"], case.id, A.ACCEPT, "-")  # a grid worker handles; the center accepts
    with pytest.raises(UnknownCase):
        service.act(people["far"], case.id, A.START, "-")  # another district's grid: looks like no case
    with pytest.raises(UnknownCase):
        service.visible(people["aud"], case.id)  # auditors read the audit trail, not cases
    with pytest.raises(UnknownCase):
        service.visible(people["op"], 10**9)
    case = service.act(people["op"], case.id, A.ACCEPT, "-")
    case = service.act(people["op"], case.id, A.DISPATCH, "-", assignee="w2")
    with pytest.raises(CaseDenied, match="assigned to w2"):
        service.act(people["w1"], case.id, A.START, "-")
    assert service.find(people["far"], CaseFilter()) == []
    assert [c.id for c in service.find(people["lead"], CaseFilter())] == [case.id]
    assert service.count(people["w2"], CaseFilter(open_only=True)) == 1


def test_reassignment_needs_a_reason_and_another_place(
    service: CaseService, city: Hierarchy, grid: str, people: dict[str, Principal], engine: Engine
) -> None:
    op = people["op"]
    case = service.collect(new_case(city, grid), "hotline", "-")
    service.act(op, case.id, A.ACCEPT, "-")
    case = service.act(op, case.id, A.DISPATCH, "-")
    with pytest.raises(CaseError, match="needs a reason"):
        service.act(op, case.id, A.REASSIGN, "-", department="urban")
    with pytest.raises(CaseError, match="another grid or department"):
        service.act(op, case.id, A.REASSIGN, "-", note="x")
    with pytest.raises(CaseError, match="not a grid"):
        service.act(op, case.id, A.REASSIGN, "-", note="x", grid_code=city.city.code)
    other = next(g.code for g in city.at_level(Level.GRID) if g.code != grid)
    case = service.act(op, case.id, A.REASSIGN, "-", note="属于相邻网格", grid_code=other)
    assert case.unit_code == other and case.grid_code == other and case.assignee is None
    assert service.act(op, case.id, A.REASSIGN, "-", note="需城管处理", department="urban").department == "urban"


def test_two_people_pressing_at_once_move_the_case_once(
    service: CaseService, city: Hierarchy, grid: str, people: dict[str, Principal]
) -> None:
    case = service.collect(new_case(city, grid), "hotline", "-")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def press(action: A, note: str) -> None:
        barrier.wait()
        try:
            service.act(people["op"], case.id, action, "-", note=note, expected_version=case.version)
            results.append("won")
        except CaseError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=press, args=a) for a in ((A.ACCEPT, ""), (A.REJECT, "重复工单"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1, results
    steps = service.cases.steps([case.id])[case.id]
    assert len(steps) == 2  # collect + exactly one of accept / reject


def test_overdue_cases_are_raised_once_at_the_unit_that_owes_the_step_and_cleared_by_the_step(
    service: CaseService,
    city: Hierarchy,
    grid: str,
    people: dict[str, Principal],
    clock: Clock,
    engine: Engine,
    raiser: AlertRaiser,
    redis_client: redis.Redis,
) -> None:
    supervisor = CaseSupervisor(
        service.cases, raiser, city, service.config, redis_client, "gw:test:case_lease", owner="t", clock=clock
    )
    case = service.collect(new_case(city, grid), "hotline", "-")
    alerts = AlertRepository(engine)
    clock.advance(hours=1, minutes=59)
    assert supervisor.tick() == 0 and alerts.open_alerts() == []
    clock.advance(minutes=2)  # past the 2 h to accept
    assert service.wire(service.cases.get(case.id), "zh-CN")["overdue"] is True
    assert supervisor.tick() == 1
    assert supervisor.tick() == 0  # once per state
    [alert] = alerts.open_alerts()
    street = responsible_unit(service.cases.get(case.id), city)
    assert alert.unit_code == street and city.get(street).level == Level.STREET
    assert alert.rule_key == "case_overdue" and f"#{case.id}" in alert.text
    service.act(people["op"], case.id, A.ACCEPT, "-")  # the step clears it (closing stays the duty's call)
    assert alerts.get(alert.id).cleared_at == clock.now
    service.act(people["op"], case.id, A.DISPATCH, "-")
    clock.advance(hours=4, minutes=1)  # dispatched: 4 h to start, owed by the grid
    assert supervisor.tick() == 1
    [alert] = [a for a in alerts.open_alerts() if a.cleared_at is None]
    assert alert.unit_code == grid
    overdue = service.find(people["lead"], CaseFilter(overdue_at=clock.now))
    assert [c.id for c in overdue] == [case.id]


def test_deadlines_follow_the_category_and_the_step(
    service: CaseService, city: Hierarchy, grid: str, people: dict[str, Principal], clock: Clock
) -> None:
    op = people["op"]
    case = service.collect(new_case(city, grid, code="fire_hazard"), "hotline", "-")
    assert case.due_at == T0 + timedelta(hours=1)
    case = service.act(op, case.id, A.ACCEPT, "-")
    case = service.act(op, case.id, A.DISPATCH, "-")
    case = service.act(people["w1"], case.id, A.START, "-")
    assert case.due_at == T0 + timedelta(hours=12)
    clock.advance(hours=13)
    case = service.act(people["w1"], case.id, A.FEEDBACK, "-", note="late")
    assert case.handled_on_time is False
    step = service.cases.steps([case.id])[case.id][-1]
    assert step.on_time is False and step.due_at == T0 + timedelta(hours=12)
