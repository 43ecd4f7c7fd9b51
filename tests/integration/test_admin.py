"""Admin pages: only admins manage users, only auditors read the trail, and both leave traces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from domain.permissions import Role
from geo.hierarchy import Level
from runtime.bootstrap import ensure_demo_city, open_database
from storage.audit_repository import AuditQuery
from tests.auth import login, make_user
from tests.conftest import small_city_settings


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("admin") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    make_user(app.ctx.accounts, "boss", Role.CITY_ADMIN, city.city.code)
    make_user(app.ctx.accounts, "eyes", Role.AUDITOR, city.city.code)
    make_user(app.ctx.accounts, "lead", Role.DISTRICT_LEADER, city.at_level(Level.DISTRICT)[0].code)
    try:
        yield app
    finally:
        app.close()


def as_user(gw: Any, username: str) -> FlaskClient:
    c: FlaskClient = gw.server.test_client()
    login(c, username)
    return c


def test_only_admins_manage_users(gw: Any) -> None:
    for who in ("lead", "eyes"):
        c = as_user(gw, who)
        assert c.get("/admin/users").status_code == 403
        assert c.post("/admin/users", data={"username": "x1", "role": "grid_worker", "unit": "9901"}).status_code == 403
    denied = gw.ctx.audit.search(AuditQuery(action="access.denied", limit=10))
    assert {e.actor for e in denied} >= {"lead", "eyes"}


def test_an_admin_creates_a_user_who_must_change_the_one_time_password(gw: Any) -> None:
    admin = as_user(gw, "boss")
    district = gw.ctx.hierarchy.at_level(Level.DISTRICT)[1].code
    page = admin.post(
        "/admin/users",
        data={"username": "zhao", "name": "<script>alert(1)</script>", "role": "district_leader", "unit": district},
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = re.search(r'id="gw-one-time">([^<]+)<', html)
    assert secret is not None
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # names are escaped
    newcomer = gw.server.test_client()
    first = newcomer.post("/login", data={"username": "zhao", "password": secret.group(1)})
    assert first.headers["Location"] == "/account/password"
    assert gw.ctx.audit.search(AuditQuery(action="user.create", target="zhao", limit=1))[0].actor == "boss"


def test_a_wrong_unit_for_the_role_is_refused_with_a_message(gw: Any) -> None:
    admin = as_user(gw, "boss")
    page = admin.post("/admin/users", data={"username": "qian", "role": "district_leader", "unit": "9901"})
    assert page.status_code == 400 and "district_leader" in page.get_data(as_text=True)


def test_reset_and_disable_end_the_users_sessions(gw: Any) -> None:
    make_user(gw.ctx.accounts, "sun", Role.DUTY_STAFF, gw.ctx.hierarchy.city.code)
    victim = as_user(gw, "sun")
    assert victim.get("/api/v1/map/snapshot").status_code == 200
    admin = as_user(gw, "boss")
    assert admin.post("/admin/users/sun/reset").status_code == 200
    assert victim.get("/api/v1/map/snapshot").status_code == 401
    assert admin.post("/admin/users/sun/disable").status_code == 200
    assert gw.server.test_client().post("/login", data={"username": "sun", "password": "x" * 20}).status_code == 401


def test_admin_forms_refuse_cross_site_posts(gw: Any) -> None:
    admin = as_user(gw, "boss")
    resp = admin.post("/admin/users/lead/disable", headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403
    user = gw.ctx.accounts.users.by_username("lead")
    assert user is not None and not user.disabled


def test_the_auditor_searches_the_trail_and_the_search_is_recorded(gw: Any) -> None:
    auditor = as_user(gw, "eyes")
    page = auditor.get("/audit?action=login&limit=20")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="gw-chain"' in html and "gw-login-error" not in html  # the chain is intact
    assert "boss" in html  # the admin's logins are listed
    searches = gw.ctx.audit.search(AuditQuery(actor="eyes", action="audit.search", limit=1))
    assert searches and searches[0].detail == {"action": "login", "limit": "20"}
    for who in ("boss", "lead"):
        assert as_user(gw, who).get("/audit").status_code == 403
