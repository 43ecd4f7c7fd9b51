"""The language switch: Chinese by default, English for whoever asks, everywhere the user looks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app
from domain.catalog import t
from domain.permissions import Role
from geo.hierarchy import Level
from runtime.bootstrap import ensure_demo_city, open_database
from tests.auth import login, make_user
from tests.conftest import small_city_settings


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("lang") / "var", redis_server.url)
    engine = open_database(settings)
    city = ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    app.district = city.at_level(Level.DISTRICT)[0].code
    make_user(app.ctx.accounts, "lead_lang", Role.DISTRICT_LEADER, app.district)
    try:
        yield app
    finally:
        app.close()


def titles(client: Any) -> list[str]:
    return [c["title"] for c in client.get("/api/v1/charts").get_json()["charts"]]


def route(client: Any, path: str) -> str:
    """The page the router builds for a path, as the browser would ask for it."""
    body = {
        "output": "gw-page.children",
        "outputs": {"id": "gw-page", "property": "children"},
        "inputs": [{"id": "gw-page-location", "property": "pathname", "value": path}],
        "changedPropIds": ["gw-page-location.pathname"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=body)
    assert resp.status_code == 200, resp.status_code
    return json.dumps(resp.get_json(), ensure_ascii=False)


def test_chinese_by_default_english_after_the_switch_and_back(gw: Any) -> None:
    c = gw.server.test_client()
    login(c, "lead_lang")
    zh_title, en_title = t("chart.case_volume.title"), t("chart.case_volume.title", "en")
    assert zh_title in titles(c)
    assert t("nav.leader") in route(c, "/leader")

    resp = c.get("/lang/en?next=/leader")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/leader")
    assert "gw_lang=en" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]
    listing = titles(c)
    assert en_title in listing and zh_title not in listing
    page = route(c, "/leader")
    assert t("nav.leader", "en") in page and t("nav.leader") not in page
    figure = c.get(f"/api/v1/units/{gw.district}/charts/case_volume.json").get_json()
    assert figure["layout"]["title"]["text"] == en_title

    c.get("/lang/zh-CN")
    assert zh_title in titles(c)


def test_the_switch_refuses_unknown_languages_and_foreign_redirects(gw: Any) -> None:
    c = gw.server.test_client()
    login(c, "lead_lang")
    assert c.get("/lang/fr").status_code == 404
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        resp = c.get("/lang/en", query_string={"next": target})
        assert resp.status_code == 302 and resp.headers["Location"] in ("/", "http://localhost/"), target
    anonymous = gw.server.test_client().get("/lang/en")
    assert anonymous.status_code in (302, 401) and "gw_lang" not in anonymous.headers.get("Set-Cookie", "")
