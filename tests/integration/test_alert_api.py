"""The alert API on the real app: one owner per alert, jurisdiction everywhere, CAP out."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import xmlschema

from app import create_app
from domain.alerts import Severity
from domain.cap import read_cap
from domain.permissions import Role
from geo.hierarchy import Level
from runtime.bootstrap import ensure_demo_city, open_database
from storage.alert_repository import AlertRepository, Occurrence
from storage.audit_repository import AuditQuery
from tests.auth import login, make_user
from tests.conftest import small_city_settings
from tests.shared_data import shared_data


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("alerts") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    for name in ("duty1", "duty2"):
        make_user(app.ctx.accounts, name, Role.DUTY_STAFF, city.city.code)
    make_user(app.ctx.accounts, "desk2", Role.DUTY_STAFF, d2)
    make_user(app.ctx.accounts, "boss1", Role.DISTRICT_LEADER, d1)
    app.d1 = d1
    try:
        yield app
    finally:
        app.close()


def new_alert(gw: Any, key: str) -> int:
    grid = gw.ctx.hierarchy.grids_under(gw.d1)[0]
    occ = Occurrence(
        str(uuid.uuid4()), "smoke_alarm", key, Severity.CRITICAL, grid, "烟感报警", False, datetime.now(UTC)
    )
    return AlertRepository(gw.ctx.engine).record([occ])[0]


def as_user(gw: Any, name: str) -> Any:
    c = gw.server.test_client()
    login(c, name)
    return c


def test_alerts_are_listed_only_inside_the_jurisdiction(gw: Any) -> None:
    aid = new_alert(gw, "list:1")
    assert aid in [a["id"] for a in as_user(gw, "duty1").get("/api/v1/alerts").get_json()["alerts"]]
    assert aid not in [a["id"] for a in as_user(gw, "desk2").get("/api/v1/alerts").get_json()["alerts"]]


def test_out_of_scope_and_unpermitted_actions_are_refused_and_audited(gw: Any) -> None:
    aid = new_alert(gw, "scope:1")
    assert as_user(gw, "desk2").post(f"/api/v1/alerts/{aid}/ack", json={}).status_code == 403  # another district
    assert as_user(gw, "boss1").post(f"/api/v1/alerts/{aid}/ack", json={}).status_code == 403  # leaders don't ack
    assert as_user(gw, "duty1").post("/api/v1/alerts/999999/ack", json={}).status_code == 403  # no id probing
    denied = gw.ctx.audit.search(AuditQuery(action="access.denied", limit=5))
    assert {e.actor for e in denied} >= {"desk2", "boss1", "duty1"}


def test_racing_acknowledgements_over_http_give_one_owner(gw: Any) -> None:
    clients = {name: as_user(gw, name) for name in ("duty1", "duty2")}
    for round_ in range(30):
        aid = new_alert(gw, f"race:{round_}")
        barrier = threading.Barrier(2)
        answers: dict[str, Any] = {}

        def press(
            name: str, aid: int = aid, barrier: threading.Barrier = barrier, answers: dict[str, Any] = answers
        ) -> None:
            barrier.wait()
            answers[name] = clients[name].post(f"/api/v1/alerts/{aid}/ack", json={"comment": "mine"})

        threads = [threading.Thread(target=press, args=(n,)) for n in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in answers.values())
        assert codes == [200, 409], round_
        winner = next(n for n, r in answers.items() if r.status_code == 200)
        loser = next(r for r in answers.values() if r.status_code == 409).get_json()
        assert loser["owner"] == winner and loser["alert"]["owner"] == winner


def test_the_whole_flow_is_audited(gw: Any) -> None:
    aid = new_alert(gw, "flow:1")
    c = as_user(gw, "duty1")
    assert c.post(f"/api/v1/alerts/{aid}/resolve", json={"note": "?"}).status_code == 409  # not acknowledged yet
    assert c.post(f"/api/v1/alerts/{aid}/ack", json={}).status_code == 200
    assert c.post(f"/api/v1/alerts/{aid}/dispatch", json={}).status_code == 400  # to whom?
    assert c.post(f"/api/v1/alerts/{aid}/dispatch", json={"to": "网格员王五"}).status_code == 200
    assert c.post(f"/api/v1/alerts/{aid}/resolve", json={"note": "已处置"}).status_code == 200
    assert c.post(f"/api/v1/alerts/{aid}/close", json={}).status_code == 409  # the smoke has not cleared
    actions = [e.action for e in reversed(gw.ctx.audit.search(AuditQuery(target=f"alert:{aid}", limit=20)))]
    assert actions == ["alert.resolved", "alert.ack", "alert.dispatched", "alert.resolved", "alert.closed"]


def test_cap_export_validates_and_stays_in_scope(gw: Any) -> None:
    aid = new_alert(gw, "cap:1")
    resp = as_user(gw, "duty1").get(f"/api/v1/alerts/{aid}.cap.xml")
    assert resp.status_code == 200 and resp.mimetype == "application/cap+xml"
    xmlschema.XMLSchema(str(shared_data("standards", "cap", "CAP-v1.2.xsd"))).validate(resp.get_data(as_text=True))
    cap = read_cap(resp.data)
    assert cap.infos[0].severity == "Extreme" and cap.infos[0].areas[0].geocodes[0][1].startswith(gw.d1)
    assert as_user(gw, "desk2").get(f"/api/v1/alerts/{aid}.cap.xml").status_code == 403
    assert gw.ctx.audit.search(AuditQuery(action="alert.export_cap", limit=1))[0].actor == "duty1"


def test_screens_hear_of_an_acknowledgement_only_in_their_jurisdiction(gw: Any) -> None:
    gw.start_background()
    assert gw.bridge.connected.wait(5)
    mine = gw.socketio.test_client(gw.server, flask_test_client=as_user(gw, "duty2"))
    theirs = gw.socketio.test_client(gw.server, flask_test_client=as_user(gw, "desk2"))
    aid = new_alert(gw, "push:1")
    assert as_user(gw, "duty1").post(f"/api/v1/alerts/{aid}/ack", json={}).status_code == 200
    got: list[Any] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not got:
        got = [m for m in mine.get_received() if m["name"] == "alerts"]
        time.sleep(0.02)
    assert got and got[0]["args"][0]["alerts"][0] | {"owner": "duty1", "id": aid} == got[0]["args"][0]["alerts"][0]
    # Another district hears only the sequence number (so it can tell a gap), never the alert.
    heard = [m["args"][0] for m in theirs.get_received() if m["name"] == "alerts"]
    assert heard and all(msg["alerts"] == [] and msg["seq"] >= 1 for msg in heard)
    mine.disconnect()
    theirs.disconnect()


def test_an_escalated_alert_reaches_the_higher_level_room_with_renotify(gw: Any) -> None:
    from datetime import timedelta

    from domain.escalation import EscalationPolicy
    from runtime.escalator import Escalator

    h = gw.ctx.hierarchy
    grid = h.grids_under(gw.d1)[0]
    community, street = h.ancestors(grid)[:2]
    other_street = next(s.code for s in h.at_level(Level.STREET) if h.district_of(s.code) != gw.d1)
    make_user(gw.ctx.accounts, "street1", Role.STREET_STAFF, street)
    make_user(gw.ctx.accounts, "street2", Role.STREET_STAFF, other_street)
    gw.start_background()
    assert gw.bridge.connected.wait(5)
    mine = gw.socketio.test_client(gw.server, flask_test_client=as_user(gw, "street1"))
    theirs = gw.socketio.test_client(gw.server, flask_test_client=as_user(gw, "street2"))
    policy = EscalationPolicy(ack_s={Severity.CRITICAL: 120})
    repo = AlertRepository(gw.ctx.engine, policy)
    t0 = datetime.now(UTC)
    occ = Occurrence(str(uuid.uuid4()), "smoke_alarm", "push:esc", Severity.CRITICAL, grid, "烟感报警", False, t0)
    aid = repo.record([occ])[0]
    now = [t0]
    esc = Escalator(gw.ctx.redis, gw.ctx.keys, repo, gw.ctx.audit, h, policy, owner="test-esc", clock=lambda: now[0])
    for seconds in (120, 240):  # grid → community → street
        now[0] = t0 + timedelta(seconds=seconds)
        assert [a.id for a in esc.tick() or []] == [aid]
    got: list[Any] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(got) < 2:
        got += [m["args"][0] for m in mine.get_received() if m["name"] == "alerts"]
        time.sleep(0.02)
    escalations = [m for m in got if m.get("renotify")]
    assert [m["alerts"][0]["level_code"] for m in escalations] == [community, street]
    assert escalations[-1]["alerts"][0] | {"id": aid, "escalation_step": 2} == escalations[-1]["alerts"][0]
    # Another district gets the numbers (so it can tell a missed push) but none of the alerts.
    assert all(m["args"][0]["alerts"] == [] for m in theirs.get_received() if m["name"] == "alerts")
    mine.disconnect()
    theirs.disconnect()
