"""One level, one permission: every route, callback and socket event, tried from outside."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import Gridwatch, create_app
from domain.permissions import Principal, Role, allowed
from geo.hierarchy import Hierarchy, Level
from runtime.bootstrap import ensure_demo_city, open_database
from security.guards import GUARD_ATTR
from settings import Settings
from storage.audit_repository import AuditQuery
from storage.database import make_engine
from streams.aggregates import encode_push
from tests.auth import PASSWORD, login, make_user
from tests.conftest import small_city_settings
from tests.processes import ROOT, app_env

# Flask routes anyone may call: the login form, health, static files, the device API
# (which authenticates each device itself: tests/integration/test_http_ingest.py), and the
# Open311 door (which checks each api_key or session itself: tests/integration/test_open311.py).
PUBLIC = {
    "/login",
    "/healthz",
    "/api/v1/events",
    "/api/v1/openapi.json",
    "/open311/discovery.<fmt>",
    "/open311/v2/services.<fmt>",
    "/open311/v2/services/<code>.<fmt>",
    "/open311/v2/requests.<fmt>",
    "/open311/v2/requests/<request_id>.<fmt>",
    "/open311/v2/tokens/<token>.<fmt>",
    "/assets/<path:filename>",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
}


@dataclass
class World:
    gw: Gridwatch
    city: Hierarchy
    home: str  # the leader's district
    other: str  # a district that is not theirs
    settings: Settings


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[World]:
    settings = small_city_settings(
        tmp_path_factory.mktemp("sec") / "var",
        redis_server.url,
        login_window_s=8,  # long enough for the attempts themselves (argon2 is slow on purpose)
    )
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    gw = create_app(settings)
    home, other = (d.code for d in city.at_level(Level.DISTRICT)[:2])
    make_user(gw.ctx.accounts, "ops", Role.CITY_OPERATOR, city.city.code)
    make_user(gw.ctx.accounts, "leader", Role.DISTRICT_LEADER, home)
    make_user(gw.ctx.accounts, "auditor", Role.AUDITOR, city.city.code)
    try:
        yield World(gw, city, home, other, settings)
    finally:
        gw.close()


def client(world: World, username: str | None = None, ip: str = "127.0.0.1") -> FlaskClient:
    c = world.gw.server.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    if username:
        login(c, username)
    return c


def denials_since(world: World, seq: int) -> list[Any]:
    return [e for e in world.gw.ctx.audit.search(AuditQuery(limit=500)) if e.seq > seq and e.outcome == "denied"]


def head(world: World) -> int:
    entries = world.gw.ctx.audit.search(AuditQuery(limit=1))
    return entries[0].seq if entries else 0


def concrete(rule: str, world: World) -> str:
    """A URL for a rule, with a foreign unit wherever a code goes."""
    return (
        rule.replace("<level>", "grid")
        .replace("<code>", world.other)
        .replace("<path:path>", "x")
        .replace("<path:filename>", "gw.css")
        .replace("<string:package_name>", "dash")
        .replace("<path:fingerprinted_path>", "x.js")
    )


# -- every route -----------------------------------------------------------------------------------
def test_every_route_needs_a_login_except_the_public_ones(world: World) -> None:
    anonymous = client(world)
    rules = [r for r in world.gw.server.url_map.iter_rules() if r.rule not in PUBLIC and r.endpoint != "static"]
    assert len(rules) >= 10
    for rule in rules:
        url = concrete(rule.rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = anonymous.open(url, method=method, json={} if method == "POST" else None)
            body = resp.get_data(as_text=True)
            assert resp.status_code in (302, 401), (method, rule.rule, resp.status_code)
            if resp.status_code == 302:
                assert resp.headers["Location"].startswith("/login"), rule.rule
            assert world.city.get(world.other).name not in body


def test_every_guarded_view_refuses_out_of_scope_units_and_audits(world: World) -> None:
    leader = client(world, "leader")
    guarded = [
        r
        for r in world.gw.server.url_map.iter_rules()
        if getattr(world.gw.server.view_functions[r.endpoint], GUARD_ATTR, None) is not None
    ]
    scoped = [r for r in guarded if "<code>" in r.rule]
    assert scoped, "no scoped view found: the enumeration would prove nothing"
    for rule in scoped:
        before = head(world)
        resp = leader.get(concrete(rule.rule, world))
        assert resp.status_code == 403, rule.rule
        assert [e.detail["reason"] for e in denials_since(world, before)] == ["scope"], rule.rule
    # Their own district is fine.
    assert leader.get(f"/api/v1/geo/grid/{world.home}.geojson").status_code == 200


def test_unguarded_views_are_only_the_known_harmless_ones(world: World) -> None:
    unguarded = {
        r.rule
        for r in world.gw.server.url_map.iter_rules()
        if getattr(world.gw.server.view_functions[r.endpoint], GUARD_ATTR, None) is None
    }
    # Dash's own routes are behind the login gate; their data comes from guarded callbacks.
    assert unguarded <= PUBLIC | {
        "/",
        "/<path:path>",
        "/_dash-layout",
        "/_dash-dependencies",
        "/_dash-update-component",
        "/_reload-hash",
        "/_favicon.ico",
        "/logout",
        "/account/password",
        "/api/v1/geo/empty.geojson",
        "/static/<path:filename>",
        "/lang/<code>",  # behind the login gate; sets this browser's language cookie, local redirects only
    }, unguarded


def test_responses_are_cut_to_the_jurisdiction(world: World) -> None:
    r = world.gw.ctx.redis
    home_grid = world.city.grids_under(world.home)[0]
    other_grid = world.city.grids_under(world.other)[0]
    r.hset(world.gw.ctx.keys.map_levels, mapping={home_grid: 2, other_grid: 3})
    r.set(world.gw.ctx.keys.kpis, json.dumps({"events_in_window": 99}))
    try:
        leader = client(world, "leader")
        snap = leader.get("/api/v1/map/snapshot").get_json()
        assert home_grid in snap["levels"] and other_grid not in snap["levels"]
        assert snap["kpis"] == {} and snap["kpis_display"] is None  # city-wide figures are not theirs
        streets = leader.get("/api/v1/geo/street.geojson").get_json()["features"]
        assert streets and all(world.home in world.city.ancestors(f["properties"]["code"]) for f in streets)
        ops = client(world, "ops")
        assert other_grid in ops.get("/api/v1/map/snapshot").get_json()["levels"]
    finally:
        r.delete(world.gw.ctx.keys.map_levels, world.gw.ctx.keys.kpis)


# -- every callback ----------------------------------------------------------------------------------
# A hostile value for each input property a callback can take, naming the foreign unit.
HOSTILE = {
    "clickData": lambda w: {"properties": {"code": w.other}},
    "search": lambda w: f"?district={w.other}",
    "data": lambda w: {"unit": w.other, "bounds": [0, 0, 1, 1], "crumbs": ["x"]},
    "n_clicks": lambda w: 1,
    "n_intervals": lambda w: 1,
    "data-tick": lambda w: 1,  # the wall's chart refresh counter
    "pathname": lambda w: "/duty",  # a page the leader's role may not open
    "value": lambda w: w.other,  # the duty desk's area filter
    "start_date": lambda w: w.other,
    "end_date": lambda w: w.other,
}


def dash_request(cb: dict[str, Any], world: World, hostile_prop: str) -> dict[str, Any]:
    inputs = []
    for spec in cb["inputs"]:
        value = HOSTILE[spec["property"]](world) if spec["property"] == hostile_prop else None
        inputs.append({"id": spec["id"], "property": spec["property"], "value": value})
    return {
        "output": cb["output"],
        "outputs": _outputs(cb["output"]),
        "inputs": inputs,
        "state": [{"id": spec["id"], "property": spec["property"], "value": None} for spec in cb.get("state", [])],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs if i["property"] == hostile_prop],
    }


def _outputs(output: str) -> Any:
    parts = [p for p in output.strip(".").split("...") if p]
    specs = [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    return specs if output.startswith("..") else specs[0]


def test_every_server_callback_is_guarded(world: World) -> None:
    server_callbacks = {k: v for k, v in world.gw.dash.callback_map.items() if v.get("callback")}
    assert len(server_callbacks) >= 2
    for key, cb in server_callbacks.items():
        assert getattr(
            cb["callback"].__wrapped__ if hasattr(cb["callback"], "__wrapped__") else cb["callback"], GUARD_ATTR, None
        ) is not None or _guarded_deep(cb["callback"]), key


def _guarded_deep(fn: Any) -> bool:
    while fn is not None:
        if getattr(fn, GUARD_ATTR, None) is not None:
            return True
        fn = getattr(fn, "__wrapped__", None)
    return False


def _spec(fn: Any) -> Any:
    while fn is not None:
        spec = getattr(fn, GUARD_ATTR, None)
        if spec is not None:
            return spec
        fn = getattr(fn, "__wrapped__", None)
    return None


def test_every_callback_refuses_a_crafted_out_of_scope_request_and_audits(world: World) -> None:
    """A callback refuses every foreign unit its guard reads from its inputs (204, audited); inputs
    that name no unit (a filter, a page number) cannot widen the view: the answer holds nothing foreign."""
    leader = client(world, "leader")
    foreign_name = world.city.get(world.other).name
    tried = refused = 0
    for cb in world.gw.dash._callback_list:  # the wire format Dash itself sends
        if cb.get("clientside_function"):
            continue
        if any(spec["id"].startswith("{") for spec in cb["inputs"]):  # pattern-matching: row and header clicks
            assert all(spec["property"] == "n_clicks" for spec in cb["inputs"]), cb["output"]
            continue
        spec_of = _spec(world.gw.dash.callback_map[cb["output"]]["callback"])
        assert spec_of is not None, cb["output"]
        for spec in cb["inputs"]:
            # A new input kind must get a hostile recipe here, or this test fails rather than skip it.
            assert spec["property"] in HOSTILE, f"add a hostile value for {spec['property']!r} ({cb['output']})"
            if spec["property"] in ("n_clicks", "n_intervals", "data-tick"):  # counters name no unit
                continue
            before = head(world)
            req = dash_request(cb, world, spec["property"])
            values = [i["value"] for i in req["inputs"]] + [s["value"] for s in req["state"]]
            named = set(spec_of.scope(*values)) if spec_of.scope else set()
            resp = leader.post("/_dash-update-component", json=req)
            assert foreign_name not in resp.get_data(as_text=True)
            may = allowed(Principal(0, "leader", Role.DISTRICT_LEADER, world.home), spec_of.action)
            if world.other in named or spec["property"] == "pathname" or not may:
                assert resp.status_code == 204, (
                    cb["output"],
                    spec,
                    resp.status_code,
                    resp.get_data(as_text=True)[:200],
                )
                assert [e.action for e in denials_since(world, before)] == ["access.denied"], (cb["output"], spec)
                refused += 1
            else:
                assert resp.status_code == 200, (cb["output"], spec, resp.status_code)
                assert world.other not in resp.get_data(as_text=True), (cb["output"], spec)
            tried += 1
    assert tried >= 3 and refused >= 3


def test_callbacks_still_answer_in_scope_requests(world: World) -> None:
    leader = client(world, "leader")
    cb = next(c for c in world.gw.dash._callback_list if c["output"].startswith("gw-selection"))
    req = dash_request(cb, world, "search")
    search = next(i for i in req["inputs"] if i["property"] == "search")
    search["value"] = f"?district={world.home}"
    resp = leader.post("/_dash-update-component", json=req)
    assert resp.status_code == 200
    assert resp.get_json()["response"]["gw-selection"]["data"]["unit"] == world.home


# -- sockets -----------------------------------------------------------------------------------------
def test_socket_connect_needs_a_login(world: World) -> None:
    before = head(world)
    anon = world.gw.socketio.test_client(world.gw.server, flask_test_client=client(world))
    assert not anon.is_connected()
    assert [e.target for e in denials_since(world, before)] == ["socket:connect"]


def test_socket_handshake_from_a_foreign_origin_is_refused(world: World) -> None:
    c = client(world, "leader")
    foreign = c.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 400
    same = c.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_sockets_receive_only_their_jurisdiction(world: World) -> None:
    world.gw.start_background()
    assert world.gw.bridge.connected.wait(5)
    leader = world.gw.socketio.test_client(world.gw.server, flask_test_client=client(world, "leader"))
    ops = world.gw.socketio.test_client(world.gw.server, flask_test_client=client(world, "ops"))
    assert leader.is_connected() and ops.is_connected()
    home_grid = world.city.grids_under(world.home)[0]
    other_grid = world.city.grids_under(world.other)[0]
    delta = {"seq": 7, "ts": 0, "levels": {home_grid: 1, other_grid: 2, world.city.city.code: 1}}
    world.gw.ctx.redis.publish(world.gw.ctx.keys.push_channel, encode_push("levels", delta))
    world.gw.ctx.redis.publish(world.gw.ctx.keys.push_channel, encode_push("kpis", {"events_in_window": 5}))

    inbox: dict[int, list[Any]] = {id(leader): [], id(ops): []}

    def received(c: Any, name: str, timeout: float = 5) -> list[Any]:
        deadline = time.monotonic() + timeout
        got = inbox[id(c)]
        while time.monotonic() < deadline and not any(m["name"] == name for m in got):
            got += c.get_received()
            time.sleep(0.02)
        return [m["args"][0] for m in got if m["name"] == name]

    mine = received(leader, "levels")
    assert mine and mine[0]["levels"] == {home_grid: 1} and mine[0]["seq"] == 7
    assert received(ops, "levels")[0]["levels"] == delta["levels"]
    assert received(ops, "kpis")
    assert received(leader, "kpis", timeout=1) == []
    leader.disconnect()
    ops.disconnect()


def test_logout_ends_that_sessions_sockets_and_the_copied_cookie(world: World) -> None:
    http = client(world, "leader")
    sock = world.gw.socketio.test_client(world.gw.server, flask_test_client=http)
    assert sock.is_connected()
    stolen = http.get_cookie("gw_session")
    assert stolen is not None
    http.post("/logout")
    deadline = time.monotonic() + 2
    while sock.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not sock.is_connected()
    thief = client(world)
    thief.set_cookie("gw_session", stolen.value)
    assert thief.get("/api/v1/map/snapshot").status_code == 401


def test_a_role_change_applies_at_once(world: World) -> None:
    make_user(world.gw.ctx.accounts, "temp", Role.CITY_OPERATOR, world.city.city.code)
    c = client(world, "temp")
    assert c.get("/api/v1/map/snapshot").status_code == 200
    world.gw.ctx.accounts.set_role("admin", "temp", Role.DISTRICT_LEADER, world.home)
    assert c.get("/api/v1/map/snapshot").status_code == 401  # their session ended with the change
    login(c, "temp")
    assert c.get(f"/api/v1/geo/grid/{world.other}.geojson").status_code == 403


# -- cross-site requests -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/_dash-update-component", "/logout", "/login", "/account/password"])
def test_cross_site_state_changes_are_refused(world: World, path: str) -> None:
    c = client(world, "leader")
    before = head(world)
    resp = c.post(path, json={}, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403
    assert denials_since(world, before)[0].detail["reason"] == "cross_site"


def test_dash_callbacks_must_be_json(world: World) -> None:
    c = client(world, "leader")
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        assert c.post("/_dash-update-component", data="{}", headers={"Content-Type": ctype}).status_code == 415


def test_security_headers_and_cookie_flags(world: World) -> None:
    c = world.gw.server.test_client()
    resp = c.post("/login", data={"username": "leader", "password": PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = c.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/%0a/x"]
)
def test_login_never_redirects_off_site(world: World, target: str) -> None:
    c = client(world)
    resp = c.post("/login", data={"username": "ops", "password": PASSWORD, "next": target})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location.split("?")[0][:3]
    assert "\t" not in location and "\n" not in location


# -- passwords and brute force ------------------------------------------------------------------------
def test_first_login_forces_a_password_change(world: World) -> None:
    _, initial = world.gw.ctx.accounts.create("test", "newbie", Role.DUTY_STAFF, world.city.city.code)
    c = client(world)
    assert c.post("/login", data={"username": "newbie", "password": initial}).headers["Location"] == "/account/password"
    assert c.get("/api/v1/map/snapshot").status_code == 403
    weak = c.post("/account/password", data={"current": initial, "new": "short", "repeat": "short"})
    assert weak.status_code == 400 and "12" in weak.get_data(as_text=True)
    ok = c.post(
        "/account/password",
        data={"current": initial, "new": "a much better passphrase", "repeat": "a much better passphrase"},
    )
    assert ok.status_code == 302
    assert c.get("/api/v1/map/snapshot").status_code == 200
    stored = world.gw.ctx.accounts.users.by_username("newbie")
    assert stored is not None and stored.password_hash.startswith("$argon2id$")


def test_unknown_user_and_wrong_password_look_the_same(world: World) -> None:
    a = client(world, ip="10.9.9.1").post("/login", data={"username": "ghost", "password": "whatever it is"})
    b = client(world, ip="10.9.9.2").post("/login", data={"username": "ops", "password": "whatever it is"})
    assert a.status_code == b.status_code == 401
    assert a.get_data(as_text=True).replace("ghost", "") == b.get_data(as_text=True).replace("ops", "")


def test_brute_force_is_throttled_without_locking_the_user_out(world: World) -> None:
    make_user(world.gw.ctx.accounts, "target", Role.DUTY_STAFF, world.city.city.code)
    attacker = client(world, ip="10.0.0.66")
    statuses = [
        attacker.post("/login", data={"username": "target", "password": f"guess-{i}-guess"}).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    throttled = attacker.post("/login", data={"username": "target", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1  # even the right one
    # The real user, from their own address, is not locked out.
    login(client(world, ip="10.0.0.7"), "target")
    # The throttle ends by itself.
    time.sleep(world.settings.login_window_s + 0.5)
    login(attacker, "target")
    trail = world.gw.ctx.audit.search(AuditQuery(actor="target", limit=50))
    assert sum(1 for e in trail if e.action == "login" and e.outcome == "denied") >= 5
    assert any(e.action == "login.throttled" for e in trail)


# -- the audit trail as evidence ----------------------------------------------------------------------
def test_the_auditor_reads_the_trail_but_not_the_city(world: World) -> None:
    auditor = client(world, "auditor")
    assert auditor.get("/api/v1/map/snapshot").status_code == 403


def test_audit_tampering_is_detected_and_named(world: World) -> None:
    env = app_env(GRIDWATCH_DATA_DIR=str(world.settings.data_dir), GRIDWATCH_REDIS_URL=world.settings.redis_url or "")
    verify = [sys.executable, str(ROOT / "app.py"), "audit", "verify"]
    ok = subprocess.run(verify, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stdout + ok.stderr
    engine = make_engine(world.settings.effective_database_url)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as db:
        db.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 1"))
    # Someone with the database owner's rights removes the guard and edits one entry.
    on = "" if engine.dialect.name == "sqlite" else " ON audit_log"
    with engine.begin() as db:
        db.execute(text(f"DROP TRIGGER audit_log_no_update{on}"))
        forged = db.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        db.execute(text("UPDATE audit_log SET actor = actor || '-forged' WHERE seq = :seq"), {"seq": forged})
    engine.dispose()
    bad = subprocess.run(verify, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and f"entry {forged}" in bad.stdout, bad.stdout
