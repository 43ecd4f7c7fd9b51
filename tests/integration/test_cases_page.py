"""The cases page's callbacks as a crafted browser would call them: the server decides, never the page.

Requests are the ones Dash's renderer sends (``/_dash-update-component``), from logged-in
test clients of a real app on the small city.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import Gridwatch, create_app
from domain.cases import CaseSource
from domain.permissions import Role
from geo.hierarchy import Level
from layouts import ids
from runtime.bootstrap import ensure_demo_city, open_database
from runtime.case_service import NewCaseInput
from storage.audit_repository import AuditQuery
from tests.auth import login, make_user
from tests.conftest import small_city_settings


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Gridwatch]:
    settings = small_city_settings(tmp_path_factory.mktemp("casespage") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    d1, d2 = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    g1, g2 = city.grids_under(d1)[0], city.grids_under(d2)[0]
    for name, role, unit in (
        ("op", Role.CITY_OPERATOR, city.city.code),
        ("lead2", Role.DISTRICT_LEADER, d2),
        ("w1", Role.GRID_WORKER, g1),
        ("w9", Role.GRID_WORKER, g2),
    ):
        make_user(app.ctx.accounts, name, role, unit)
    app.g1, app.g2 = g1, g2  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        app.close()


def as_user(gw: Gridwatch, username: str) -> FlaskClient:
    c = gw.server.test_client()
    login(c, username)
    return c


def new_case(gw: Gridwatch, grid: str) -> int:
    p = gw.ctx.hierarchy.get(grid).geometry.representative_point()
    return gw.ctx.cases.collect(NewCaseInput(CaseSource.HOTLINE, "noise", "噪声", lon=p.x, lat=p.y), "12345", "-").id


def fire(c: FlaskClient, gw: Gridwatch, trigger: str, value: Any, states: dict[str, Any]) -> Any:
    """Send what Dash sends when ``trigger`` changes (n_clicks, or data), with the given states."""
    cb = next(
        cb
        for cb in gw.dash._callback_list
        if not cb.get("clientside_function") and any(i["id"] == trigger for i in cb["inputs"])
    )
    parts = [p for p in cb["output"].strip(".").split("...") if p]
    outputs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    inputs = [
        {"id": i["id"], "property": i["property"], "value": value if i["id"] == trigger else None} for i in cb["inputs"]
    ]
    return c.post(
        "/_dash-update-component",
        json={
            "output": cb["output"],
            "outputs": outputs if cb["output"].startswith("..") else outputs[0],
            "inputs": inputs,
            "state": [{"id": s["id"], "property": s["property"], "value": states.get(s["id"])} for s in cb["state"]],
            "changedPropIds": [f"{trigger}.{i['property']}" for i in inputs if i["id"] == trigger],
        },
    )


def press(
    c: FlaskClient, gw: Gridwatch, action: str, case_id: int, version: int | None, **fields: Any
) -> tuple[str, Any]:
    states = {
        ids.CASE_SHOWN: {"id": case_id, "version": version},
        ids.CASE_NOTE: fields.get("note"),
        ids.CASE_GRID: fields.get("grid"),
        ids.CASE_DEPARTMENT: fields.get("department"),
        ids.CASE_ASSIGNEE: fields.get("assignee"),
        ids.CASE_SATISFACTION: fields.get("satisfaction"),
    }
    resp = fire(c, gw, ids.case_action(action), 1, states)
    if resp.status_code == 204:
        return "", None
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    out = resp.get_json()["response"]
    msg = out[ids.CASE_MESSAGE]["children"]
    return msg["props"]["children"], out[ids.CASE_RESULT]["data"]


def test_steps_from_the_page_are_the_services_steps_with_its_refusals(gw: Gridwatch) -> None:
    case_id = new_case(gw, gw.g1)  # type: ignore[attr-defined]
    op, w1 = as_user(gw, "op"), as_user(gw, "w1")
    # A grid worker's browser sends "accept" anyway (the button is hidden for them): refused, on screen.
    text, data = press(w1, gw, "accept", case_id, 1)
    assert "may not accept" in text and data is None
    # Rejecting without a reason: refused; with an old version: refused; then accepted.
    text, _ = press(op, gw, "reject", case_id, 1)
    assert "needs a reason" in text
    text, _ = press(op, gw, "accept", case_id, 99)
    assert "changed since you opened it" in text
    text, data = press(op, gw, "accept", case_id, 1)
    assert f"#{case_id}" in text and "立案完成" in text and data["state"] == "accepted"
    text, data = press(op, gw, "dispatch", case_id, data["version"], assignee="w1")
    assert data["state"] == "dispatched" and data["assignee"] == "w1"
    text, data = press(w1, gw, "start", case_id, data["version"])
    assert data["state"] == "handling"
    assert [e.actor for e in gw.ctx.audit.search(AuditQuery(action="case.accept", limit=10))][:2] == ["op", "w1"]


def test_a_case_outside_the_callers_area_is_refused_before_the_service(gw: Gridwatch) -> None:
    case_id = new_case(gw, gw.g1)  # type: ignore[attr-defined]
    lead2 = as_user(gw, "lead2")
    before = gw.ctx.audit.search(AuditQuery(limit=1))[0].seq
    text, data = press(lead2, gw, "accept", case_id, 1)
    assert (text, data) == ("", None)  # 204: no update
    denied = [e for e in gw.ctx.audit.search(AuditQuery(limit=20)) if e.seq > before]
    assert [e.action for e in denied] == ["access.denied"] and denied[0].detail["reason"] == "scope"
    assert denied[0].target == "callback:case_accept"
    assert gw.ctx.cases.cases.get(case_id).state.value == "collected"
    # The detail of a foreign case says nothing about it.
    resp = fire(as_user(gw, "w9"), gw, ids.CASE_SELECTED, case_id, {})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "噪声" not in body and f"no case {case_id}" in body
