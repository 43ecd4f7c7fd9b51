"""Verification tasks through the real app: pushed with real keys, completed by real logins, supervised."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from app import Gridwatch, create_app
from domain.case_config import load_case_config
from domain.permissions import Role
from domain.verification import TaskResult
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from runtime import verification_commands
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.case_supervisor import CaseSupervisor
from runtime.commands import _parser
from runtime.verification_service import OVERDUE_RULE, VerificationService
from storage.alert_repository import AlertRepository
from storage.api_client_repository import ApiClientRepository
from storage.audit_repository import AuditQuery, AuditRepository
from storage.case_repository import CaseRepository
from storage.user_repository import UserRepository
from storage.verification_repository import VerificationRepository
from tests.auth import login, make_user
from tests.conftest import small_city_settings

_refs = itertools.count(1)


@dataclass
class World:
    gw: Gridwatch
    city: Hierarchy
    d1: str  # the district client's unit and the leader's district
    d2: str
    g1: str  # two grids of d1, each with its worker
    g2: str
    g3: str  # a grid of d2
    city_key: str
    district_key: str
    hotline_key: str  # a key without the verification scope


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[World]:
    settings = small_city_settings(tmp_path_factory.mktemp("verification") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    gw = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    g1, g2 = city.grids_under(d1)[0], city.grids_under(d1)[-1]
    g3 = city.grids_under(d2)[0]
    clients = ApiClientRepository(gw.ctx.engine)
    _, city_key = clients.create("platform", city.city.code, {"verification"})
    _, district_key = clients.create("district-platform", d1, {"verification"})
    _, hotline_key = clients.create("hotline", city.city.code, {"open311"})
    accounts = gw.ctx.accounts
    make_user(accounts, "worker1", Role.GRID_WORKER, g1)
    make_user(accounts, "worker2", Role.GRID_WORKER, g2)
    make_user(accounts, "lead1", Role.DISTRICT_LEADER, d1)
    make_user(accounts, "lead2", Role.DISTRICT_LEADER, d2)
    make_user(accounts, "admin1", Role.CITY_ADMIN, city.city.code)
    make_user(accounts, "auditor1", Role.AUDITOR, city.city.code)
    try:
        yield World(gw, city, d1, d2, g1, g2, g3, city_key, district_key, hotline_key)
    finally:
        gw.close()


def person(i: int) -> dict[str, str]:
    return {"name": f"张{i}丰", "phone": f"1381234{i:04d}"}


def batch(w: World, tasks: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    body = {
        "external_ref": f"risk-{next(_refs)}",
        "title": "风险地区返回人员核查",
        "description": "逐一上门核查",
        "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        "tasks": tasks,
    }
    body.update(over)
    return body


def inside(w: World, grid: str) -> tuple[float, float]:
    p = w.city.get(grid).geometry.representative_point()
    return p.x, p.y


def push(w: World, body: dict[str, Any], key: str | None = None) -> Any:
    return w.gw.server.test_client().post(
        "/api/v1/verification/batches", json=body, headers={"X-Api-Key": key or w.city_key}
    )


def user(w: World, name: str) -> FlaskClient:
    c = w.gw.server.test_client()
    login(c, name)
    return c


def three_tasks(w: World) -> dict[str, Any]:
    lon, lat = inside(w, w.g2)
    return batch(
        w,
        [
            {"grid_code": w.g1, "subject": person(1), "address": "1栋101"},
            {"grid_code": w.g1, "subject": {"name": "李四", "id_number": "32010219800101123X"}, "address": "1栋102"},
            {"lon": lon, "lat": lat, "subject": person(3), "address": "2栋201"},
        ],
    )


def stored(w: World, ref: str) -> bool:
    return VerificationRepository(w.gw.ctx.engine).by_ref(ref) is not None


def test_a_batch_is_pushed_with_a_real_key_placed_by_grid_code_or_point_and_audited(world: World) -> None:
    w = world
    body = three_tasks(w)
    resp = push(w, body)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()
    assert out["tasks"] == 3 and out["grids"] == {w.g1: 2, w.g2: 1}  # the point was located in g2
    [entry] = AuditRepository(w.gw.ctx.engine).search(
        AuditQuery(action="verification.push", target=f"verification_batch:{out['batch_id']}")
    )
    assert entry.actor == "api:platform" and entry.outcome == "ok" and entry.detail["tasks"] == 3
    again = push(w, body)  # the platform retries: the same batch, not a second one
    assert again.status_code == 409 and again.get_json()["batch_id"] == out["batch_id"]


def test_keys_without_the_scope_or_pushing_outside_their_unit_are_refused(world: World) -> None:
    w = world
    body = batch(w, [{"grid_code": w.g1, "subject": person(1)}, {"grid_code": w.g3, "subject": person(2)}])
    assert push(w, body, w.hotline_key).status_code == 403
    outside = push(w, body, w.district_key)  # g3 lies in the other district
    assert outside.status_code == 403
    assert [(p["task"], p["field"]) for p in outside.get_json()["problems"]] == [(1, "grid_code")]
    assert push(w, body, "not-a-key").status_code == 401
    assert not stored(w, body["external_ref"])
    # Inside its own unit the district's key works.
    own = batch(w, [{"grid_code": w.g1, "subject": person(1)}])
    assert push(w, own, w.district_key).status_code == 201
    # A signed-in person cannot push: batches come from the platform's key.
    assert user(w, "admin1").post("/api/v1/verification/batches", json=own).status_code == 403


def test_bad_tasks_are_refused_with_a_reason_per_task_and_nothing_is_stored(world: World) -> None:
    w = world
    body = batch(
        w,
        [
            {"grid_code": w.g1, "subject": person(1)},
            {"grid_code": w.g1},  # no subject
            {"grid_code": w.g1, "subject": {"name": "王五"}},  # neither id number nor phone
            {"lon": 118.8, "subject": person(4)},  # lon without lat
            {"address": "某小区3栋", "subject": person(5)},  # an address alone cannot be placed
        ],
        deadline="2020-01-01T00:00:00+08:00",
    )
    resp = push(w, body)
    assert resp.status_code == 400
    problems = resp.get_json()["problems"]
    assert {(p["task"], p["field"]) for p in problems} == {
        (None, "deadline"),
        (1, "subject"),
        (2, "subject"),
        (3, ""),
        (4, ""),
    }
    assert all(p["message"] for p in problems)
    assert "lon and lat" in next(p["message"] for p in problems if p["task"] == 3)
    assert not stored(w, body["external_ref"])
    # Valid shapes that cannot be placed: an unknown grid, a point outside the city, a community code.
    body = batch(
        w,
        [
            {"grid_code": w.g1, "subject": person(1)},
            {"grid_code": "nope", "subject": person(2)},
            {"lon": 0.0, "lat": 0.0, "subject": person(3)},
            {"grid_code": w.city.get(w.g1).parent_code, "subject": person(4)},
        ],
    )
    resp = push(w, body)
    assert resp.status_code == 400
    assert [(p["task"], p["field"]) for p in resp.get_json()["problems"]] == [
        (1, "grid_code"),
        (2, "lon"),
        (3, "grid_code"),
    ]
    assert not stored(w, body["external_ref"])
    naive = batch(w, [{"grid_code": w.g1, "subject": person(1)}], deadline="2030-01-01T00:00:00")
    assert push(w, naive).status_code == 400  # a deadline without an offset means nothing


def test_grid_workers_complete_their_own_grids_tasks_once_and_progress_adds_up(world: World) -> None:
    w = world
    batch_id = push(w, three_tasks(w)).get_json()["batch_id"]
    worker1, worker2, lead1 = user(w, "worker1"), user(w, "worker2"), user(w, "lead1")
    mine = worker1.get(f"/api/v1/verification/tasks?batch={batch_id}").get_json()["tasks"]
    assert [t["grid_code"] for t in mine] == [w.g1, w.g1]
    assert mine[0]["subject"] == {"name": "张**", "phone": "138****0001"}  # masked: no UNMASK
    theirs = worker2.get(f"/api/v1/verification/tasks?batch={batch_id}").get_json()["tasks"]
    assert [t["grid_code"] for t in theirs] == [w.g2]
    assert worker1.get(f"/api/v1/verification/tasks?grid={w.g2}").status_code == 403

    a, b = (t["id"] for t in mine)
    c = theirs[0]["id"]
    url = "/api/v1/verification/tasks/{}/complete"
    assert worker1.post(url.format(c), json={"result": "pass"}).status_code == 404  # another grid's task
    assert lead1.post(url.format(a), json={"result": "pass"}).status_code == 403  # watches, does not visit
    assert worker1.post(url.format(a), json={"result": "fail"}).status_code == 400  # a fail needs a note
    assert worker1.post(url.format(a), json={"result": "maybe"}).status_code == 400
    done = worker1.post(url.format(a), json={"result": "pass"})
    assert done.status_code == 200 and done.get_json()["task"]["result"] == "pass"
    assert worker1.post(url.format(a), json={"result": "fail", "note": "again"}).status_code == 409
    assert worker1.post(url.format(b), json={"result": "fail", "note": "人不在家，邻居称已外出"}).status_code == 200
    assert worker1.get(f"/api/v1/verification/tasks?batch={batch_id}&state=pending").get_json()["tasks"] == []
    audit = AuditRepository(w.gw.ctx.engine)
    entries = audit.search(AuditQuery(action="verification.complete", target=f"verification_task:{a}"))
    assert sorted((e.actor, e.outcome, e.detail.get("result") or e.detail["reason"]) for e in entries) == [
        ("lead1", "refused", "not the worker of this grid"),
        ("worker1", "ok", "pass"),
        ("worker1", "refused", "done already"),
    ]
    refusals = audit.search(AuditQuery(action="verification.complete", target=f"verification_task:{c}"))
    assert [e.detail["reason"] for e in refusals] == ["jurisdiction"]

    view = lead1.get(f"/api/v1/verification/batches/{batch_id}").get_json()
    assert view["progress"] == {
        "total": 3,
        "done": 2,
        "pending": 1,
        "passed": 1,
        "failed": 1,
        "unreachable": 0,
        "overdue": 0,
    }
    grids = {g["grid_code"]: g for g in view["grids"]}
    assert (grids[w.g1]["done"], grids[w.g1]["total"], grids[w.g2]["done"], grids[w.g2]["total"]) == (2, 2, 0, 1)
    listed = {b["id"]: b for b in lead1.get("/api/v1/verification/batches").get_json()["batches"]}
    assert listed[batch_id]["progress"]["done"] == 2 and "grids" not in listed[batch_id]
    # The other district sees nothing of it; the platform's key sees it whole.
    lead2 = user(w, "lead2")
    assert batch_id not in {b["id"] for b in lead2.get("/api/v1/verification/batches").get_json()["batches"]}
    assert lead2.get(f"/api/v1/verification/batches/{batch_id}").status_code == 404
    platform = w.gw.server.test_client()
    seen = platform.get(f"/api/v1/verification/batches/{batch_id}", headers={"X-Api-Key": w.city_key})
    assert seen.status_code == 200 and seen.get_json()["progress"]["done"] == 2
    hotline = platform.get("/api/v1/verification/batches", headers={"X-Api-Key": w.hotline_key})
    assert hotline.status_code == 403
    assert user(w, "auditor1").get("/api/v1/verification/batches").status_code == 403  # no VIEW_CASES


def test_subjects_are_shown_in_clear_only_to_unmask_roles_who_ask_and_that_is_audited(world: World) -> None:
    w = world
    batch_id = push(w, three_tasks(w)).get_json()["batch_id"]
    admin = user(w, "admin1")
    masked = admin.get(f"/api/v1/verification/tasks?batch={batch_id}").get_json()["tasks"]
    assert masked[0]["subject"]["name"] == "张**"
    clear = admin.get(f"/api/v1/verification/tasks?batch={batch_id}&unmask=1").get_json()["tasks"]
    assert clear[0]["subject"] == person(1) and clear[1]["subject"]["id_number"] == "32010219800101123X"
    worker = user(w, "worker1").get(f"/api/v1/verification/tasks?batch={batch_id}&unmask=1").get_json()["tasks"]
    assert worker[0]["subject"]["name"] == "张**"
    audit = AuditRepository(w.gw.ctx.engine)
    outcomes = {e.actor: e.outcome for e in audit.search(AuditQuery(action="unmask", target="verification_tasks"))}
    assert outcomes["admin1"] == "ok" and outcomes["worker1"] == "denied"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_overdue_raises_one_alert_per_grid_on_the_supervisor_pass_and_completion_clears_it(
    world: World, redis_client: redis.Redis
) -> None:
    w = world
    engine = w.gw.ctx.engine
    clock = Clock(datetime.now(UTC))
    raiser = w.gw.ctx.cases.overdue_hook
    assert raiser is not None
    alerts = AlertRepository(engine)
    service = VerificationService(
        VerificationRepository(engine),
        AuditRepository(engine),
        w.city,
        GridLocator.for_hierarchy(w.city),
        alerts=raiser,  # type: ignore[arg-type]  # the app's AlertRaiser
        open_alert_keys=alerts.open_dedup_keys,
        clock=clock,
    )
    supervisor = CaseSupervisor(
        CaseRepository(engine),
        raiser,  # type: ignore[arg-type]
        w.city,
        load_case_config(),
        redis_client,
        "gw:test:verification_lease",
        owner="t",
        clock=clock,
        checks=(service.check_overdue,),
    )
    client = ApiClientRepository(engine).by_name("platform")
    assert client is not None
    # Isolated from the other tests' batches: a deadline before theirs, and a clock just past it.
    body = three_tasks(w)
    body["deadline"] = (clock.now + timedelta(minutes=30)).isoformat()
    pushed = service.push(client, body, "-")

    def open_grids() -> set[str]:
        return {k.split(":", 1)[1] for k in alerts.open_dedup_keys(f"{OVERDUE_RULE}:")}

    supervisor.tick()
    assert open_grids() == set()  # not due yet
    clock.now += timedelta(minutes=31)
    supervisor.tick()
    assert open_grids() == {w.g1, w.g2}
    [g1_alert] = [a for a in alerts.open_alerts() if a.dedup_key == f"{OVERDUE_RULE}:{w.g1}"]
    assert g1_alert.unit_code == w.g1 and g1_alert.count == 1 and "风险地区返回人员核查" in g1_alert.text
    supervisor.tick()  # the next pass raises nothing new
    assert alerts.get(g1_alert.id).count == 1
    progress = service.batch(client, pushed.batch.id)
    assert progress.progress.overdue == 3 and progress.grids[w.g1].overdue == 2

    worker1 = UserRepository(engine).by_username("worker1")
    assert worker1 is not None
    a, b = (t.id for t in service.repo.tasks([w.g1], batch_id=pushed.batch.id))
    service.complete(worker1.principal, a, "pass", "", "-")
    assert open_grids() == {w.g1, w.g2}  # one of g1's two is still overdue
    service.complete(worker1.principal, b, "unreachable", "电话无人接听", "-")
    assert open_grids() == {w.g2}  # g1 caught up: cleared at once
    # A result stored by another door without the clear: the next supervisor pass clears it.
    [c] = service.repo.tasks([w.g2], batch_id=pushed.batch.id)
    service.repo.complete(c.id, TaskResult.PASS, "", "x", clock.now)
    supervisor.tick()
    assert open_grids() == set()
    assert service.batch(client, pushed.batch.id).progress.overdue == 0


def test_the_cli_registers_a_client_and_pushes_a_file_through_the_same_checks(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = world
    settings = w.gw.ctx.settings

    def cli(*argv: str) -> int:
        return verification_commands.run(_parser().parse_args(["verification", *argv]), settings)

    assert cli("client", "cli-platform", "--unit", w.d1) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiClientRepository(w.gw.ctx.engine).by_key(key) is not None
    good = tmp_path / "good.json"
    good.write_text(json.dumps(batch(w, [{"grid_code": w.g1, "subject": person(7)}])), encoding="utf-8")
    assert cli("push", str(good), "--client", "cli-platform") == 0
    assert "1 tasks on 1 grids" in capsys.readouterr().out
    assert cli("push", str(good), "--client", "cli-platform") == 1  # the same ref again
    assert "pushed already" in capsys.readouterr().err
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(batch(w, [{"grid_code": w.g3, "subject": person(8)}])), encoding="utf-8")
    assert cli("push", str(outside), "--client", "cli-platform") == 1
    assert "task 0: grid_code" in capsys.readouterr().err
    assert cli("push", str(good), "--client", "nobody") == 2
    assert cli("progress") == 0
    assert json.loads(good.read_text(encoding="utf-8"))["external_ref"] in capsys.readouterr().out
