"""The duty desk's server side: the router, the action callbacks and the area filter, tried from in and out of scope.

Dash callbacks are POSTs any logged-in browser can craft, so these tests send them the way
Dash's renderer does, built from the app's own callback list.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from app import Gridwatch, create_app
from callbacks.duty import filter_units
from domain.alerts import Severity
from domain.permissions import Role
from geo.hierarchy import Level
from layouts import ids
from runtime.bootstrap import ensure_demo_city, open_database
from storage.alert_repository import AlertRepository, Occurrence
from storage.audit_repository import AuditQuery
from streams.aggregates import decode_push
from streams.alert_push import current_alert_seq, publish_alerts
from streams.keys import RedisKeys
from tests.auth import login, make_user
from tests.conftest import small_city_settings


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Gridwatch]:
    settings = small_city_settings(tmp_path_factory.mktemp("duty") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    make_user(app.ctx.accounts, "desk1", Role.DUTY_STAFF, d1, display_name="值班员一")
    make_user(app.ctx.accounts, "desk1b", Role.DUTY_STAFF, d1)
    make_user(app.ctx.accounts, "desk2", Role.DUTY_STAFF, d2)
    make_user(app.ctx.accounts, "boss1", Role.DISTRICT_LEADER, d1)
    app.d1, app.d2 = d1, d2  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        app.close()


def as_user(gw: Gridwatch, name: str) -> FlaskClient:
    c = gw.server.test_client()
    login(c, name)
    return c


def new_alert(gw: Gridwatch, district: str) -> int:
    grid = gw.ctx.hierarchy.grids_under(district)[0]
    occ = Occurrence(
        str(uuid.uuid4()),
        "alarm_button",
        str(uuid.uuid4()),
        Severity.CRITICAL,
        grid,
        "一键报警",
        False,
        datetime.now(UTC),
    )
    return AlertRepository(gw.ctx.engine).record([occ])[0]


def callback(gw: Gridwatch, trigger: str) -> dict[str, Any]:
    """The server callback (as Dash lists it) that the component id ``trigger`` fires."""
    return next(
        cb
        for cb in gw.dash._callback_list
        if not cb.get("clientside_function") and any(i["id"] == trigger for i in cb["inputs"])
    )


def fire(
    c: FlaskClient, gw: Gridwatch, trigger: str, prop: str, value: Any, states: dict[str, Any] | None = None
) -> Any:
    """Send the request Dash's renderer sends when ``trigger.prop`` changes to value."""
    cb = callback(gw, trigger)
    parts = [p for p in cb["output"].strip(".").split("...") if p]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    state = [{"id": s["id"], "property": s["property"], "value": (states or {}).get(s["id"])} for s in cb["state"]]
    return c.post(
        "/_dash-update-component",
        json={
            "output": cb["output"],
            "outputs": outputs if cb["output"].startswith("..") else outputs[0],
            "inputs": [{"id": trigger, "property": prop, "value": value}],
            "state": state,
            "changedPropIds": [f"{trigger}.{prop}"],
        },
    )


def answer(resp: Any) -> tuple[str, Any]:
    """(message text, result data) of an action callback's answer."""
    assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
    out = resp.get_json()["response"]
    message = out[ids.ALERT_MESSAGE]["children"]
    return message["props"]["children"] if message else "", out[ids.ALERT_RESULT]["data"]


def denied_since(gw: Gridwatch, seq: int) -> list[Any]:
    return [e for e in gw.ctx.audit.search(AuditQuery(limit=100)) if e.seq > seq and e.outcome == "denied"]


def head(gw: Gridwatch) -> int:
    entries = gw.ctx.audit.search(AuditQuery(limit=1))
    return entries[0].seq if entries else 0


def test_acknowledge_on_the_desk_is_the_api_step(gw: Gridwatch) -> None:
    aid = new_alert(gw, gw.d1)  # type: ignore[attr-defined]
    seq = current_alert_seq(gw.ctx.redis, gw.ctx.keys)
    text, alert = answer(fire(as_user(gw, "desk1"), gw, ids.ALERT_ACK, "n_clicks", 1, {ids.ALERT_SELECTED: aid}))
    assert f"#{aid}" in text and "由您负责" in text
    assert alert["owner"] == "desk1" and alert["state"] == "acknowledged"
    assert current_alert_seq(gw.ctx.redis, gw.ctx.keys) == seq + 1  # announced, numbered
    assert gw.ctx.audit.search(AuditQuery(action="alert.ack", limit=1))[0].actor == "desk1"
    # The other person on duty is told who owns it, by name; the API says the same with a 409.
    text, alert = answer(fire(as_user(gw, "desk1b"), gw, ids.ALERT_ACK, "n_clicks", 1, {ids.ALERT_SELECTED: aid}))
    assert "值班员一（desk1）" in text and "已被" in text and alert["owner"] == "desk1"
    api = as_user(gw, "desk1b").post(f"/api/v1/alerts/{aid}/ack", json={})
    assert api.status_code == 409 and api.get_json()["owner"] == "desk1"


def test_dispatch_and_resolve_say_what_is_missing_or_not_possible(gw: Gridwatch) -> None:
    aid = new_alert(gw, gw.d1)  # type: ignore[attr-defined]
    c = as_user(gw, "desk1")
    text, data = answer(fire(c, gw, ids.ALERT_RESOLVE, "n_clicks", 1, {}))
    assert "请先在队列中选择" in text and data is None
    text, _ = answer(fire(c, gw, ids.ALERT_RESOLVE, "n_clicks", 1, {ids.ALERT_SELECTED: aid}))
    assert "新告警" in text and "不能执行" in text  # a new alert is acknowledged first
    answer(fire(c, gw, ids.ALERT_ACK, "n_clicks", 1, {ids.ALERT_SELECTED: aid}))
    text, _ = answer(
        fire(c, gw, ids.ALERT_DISPATCH, "n_clicks", 1, {ids.ALERT_SELECTED: aid, ids.ALERT_DISPATCH_TO: " "})
    )
    assert "请填写派发对象" in text
    states = {ids.ALERT_SELECTED: aid, ids.ALERT_DISPATCH_TO: "网格员王五", ids.ALERT_COMMENT: "请到场"}
    text, alert = answer(fire(c, gw, ids.ALERT_DISPATCH, "n_clicks", 1, states))
    assert "网格员王五" in text and alert["dispatched_to"] == "网格员王五"
    text, alert = answer(
        fire(c, gw, ids.ALERT_RESOLVE, "n_clicks", 1, {ids.ALERT_SELECTED: aid, ids.ALERT_COMMENT: "已处置"})
    )
    assert alert["state"] == "resolved"
    steps = AlertRepository(gw.ctx.engine).steps(aid)
    assert [(s[2], s[3]) for s in steps] == [("acknowledged", ""), ("dispatched", "请到场"), ("resolved", "已处置")]


@pytest.mark.parametrize("button", [ids.ALERT_ACK, ids.ALERT_DISPATCH, ids.ALERT_RESOLVE])
def test_actions_on_another_districts_alert_are_refused_and_audited(gw: Gridwatch, button: str) -> None:
    aid = new_alert(gw, gw.d1)  # type: ignore[attr-defined]
    states = {ids.ALERT_SELECTED: aid, ids.ALERT_DISPATCH_TO: "x"}
    for who, alert_id in (("desk2", aid), ("desk1", 10_000_000), ("desk1", "1 OR 1=1")):
        before = head(gw)
        resp = fire(as_user(gw, who), gw, button, "n_clicks", 1, {**states, ids.ALERT_SELECTED: alert_id})
        assert resp.status_code == 204, (who, alert_id)
        assert [e.detail["reason"] for e in denied_since(gw, before)] == ["scope"], (who, alert_id)
    assert AlertRepository(gw.ctx.engine).get(aid).acked_by is None
    # A leader may see the alert but not act on it here.
    before = head(gw)
    assert fire(as_user(gw, "boss1"), gw, ids.ALERT_ACK, "n_clicks", 1, states).status_code == 204
    assert [e.detail["reason"] for e in denied_since(gw, before)] == ["action"]


def test_the_area_filter_stays_in_the_jurisdiction(gw: Gridwatch) -> None:
    c = as_user(gw, "desk1")
    h = gw.ctx.hierarchy
    street = h.children(gw.d1)[0]  # type: ignore[attr-defined]
    ok = fire(c, gw, ids.ALERT_FILTER_UNIT, "value", street.code)
    assert ok.status_code == 200
    assert ok.get_json()["response"][ids.ALERT_FILTER_GRIDS]["data"] == list(h.grids_under(street.code))
    before = head(gw)
    assert fire(c, gw, ids.ALERT_FILTER_UNIT, "value", gw.d2).status_code == 204  # type: ignore[attr-defined]
    assert [e.detail["reason"] for e in denied_since(gw, before)] == ["scope"]
    # The options offered are the user's own streets and communities, never grids, never outside.
    units = filter_units(h, gw.d1)  # type: ignore[attr-defined]
    assert units and all(gw.d1 in h.ancestors(code) for code, _ in units)  # type: ignore[attr-defined]
    assert {h.get(code).level for code, _ in units} == {Level.STREET, Level.COMMUNITY}
    assert f"{street.name} · " in next(label for code, label in units if h.get(code).parent_code == street.code)


def test_the_router_builds_only_pages_the_role_may_open(gw: Gridwatch) -> None:
    page = fire(as_user(gw, "desk1"), gw, ids.PAGE_LOCATION, "pathname", "/duty")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert ids.ALERT_QUEUE in body and ids.ALERT_ACK in body and ids.MAP not in body
    assert ids.MAP in fire(as_user(gw, "desk1"), gw, ids.PAGE_LOCATION, "pathname", "/").get_data(as_text=True)
    before = head(gw)
    assert fire(as_user(gw, "boss1"), gw, ids.PAGE_LOCATION, "pathname", "/duty").status_code == 204
    denied = denied_since(gw, before)
    assert [(e.target, e.detail["reason"]) for e in denied] == [("page:/duty", "action")]
    assert fire(as_user(gw, "boss1"), gw, ids.PAGE_LOCATION, "pathname", "/").status_code == 200
    assert fire(as_user(gw, "desk1"), gw, ids.PAGE_LOCATION, "pathname", "/nowhere").status_code == 204
    # The shell tells the browser which pages this user may open, to say so on screen.
    shell = as_user(gw, "boss1").get("/_dash-layout").get_json()
    assert '"/duty": false' in str(shell).replace("'", '"').replace("False", "false")


def test_the_alert_list_says_where_pushes_take_over(gw: Gridwatch) -> None:
    new_alert(gw, gw.d1)  # type: ignore[attr-defined]
    publish_alerts(gw.ctx.redis, gw.ctx.keys, [])
    listing = as_user(gw, "desk1").get("/api/v1/alerts").get_json()
    assert listing["seq"] == current_alert_seq(gw.ctx.redis, gw.ctx.keys) >= 1
    assert listing["alerts"] and all(gw.d1 in gw.ctx.hierarchy.ancestors(a["unit"]) for a in listing["alerts"])  # type: ignore[attr-defined]


def test_alert_pushes_are_numbered_in_publish_order(redis_client: redis.Redis) -> None:
    keys = RedisKeys()
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    pubsub.subscribe(keys.push_channel)
    try:
        assert current_alert_seq(redis_client, keys) == 0
        sent = [publish_alerts(redis_client, keys, [{"id": i, "text": "烟感报警"}]) for i in range(3)]
        assert sent == [1, 2, 3]
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 3 and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)  # None also for the (ignored) subscribe confirmation
            if message is not None:
                got.append(decode_push(message["data"]))
        assert got == [("alerts", {"seq": n, "alerts": [{"id": n - 1, "text": "烟感报警"}]}) for n in (1, 2, 3)]
        assert publish_alerts(redis_client, keys, [{"id": 9}], renotify=True) == 4
        deadline = time.monotonic() + 5
        message = None
        while message is None and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
        assert message is not None
        assert decode_push(message["data"]) == ("alerts", {"seq": 4, "alerts": [{"id": 9}], "renotify": True})
    finally:
        pubsub.close()
