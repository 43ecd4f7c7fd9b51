"""The leader's view in headless Chromium on the full demo city: drill down by clicks, back by the breadcrumb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from figures.leader_charts import CHARTS
from geo.hierarchy import Level
from layouts import ids
from storage.database import make_engine
from storage.device_repository import DeviceRepository
from tests import databases
from tests.browser.conftest import ARTIFACTS
from tests.browser.full_city import RunningApp
from tests.browser.helpers import assert_clean, js, poll, sign_in
from tests.integration.events import inside
from tests.processes import ROOT

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
TITLE = f"(document.getElementById('{ids.UNIT_TITLE}') || {{}}).textContent || ''"


def click_at(browser: webdriver.Chrome, lon: float, lat: float) -> None:
    """Click the map where a point is drawn, as a person would."""
    poll(browser, "return gw.fitted !== undefined && Date.now() - gw.fitted > 500")
    x, y = js(
        browser,
        "const p = gw.leaflet.latLngToContainerPoint([arguments[1], arguments[0]]); return [p.x, p.y]",
        lon,
        lat,
    )
    map_el = browser.find_element(By.ID, ids.MAP)
    size = map_el.size
    ActionChains(browser).move_to_element_with_offset(
        map_el, round(x - size["width"] / 2), round(y - size["height"] / 2)
    ).click().perform()


def title_is(browser: webdriver.Chrome, name: str) -> str:
    """Wait until the panel is about the named unit."""
    return str(poll(browser, f"const t = {TITLE}; return t.endsWith(arguments[0]) && t", name, timeout=30))


def test_leader_drills_from_district_to_grid_and_back(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    city = running_app.city
    district = city.at_level(Level.DISTRICT)[1]  # the leader's own district (see full_city)
    grid = city.get(city.grids_under(district.code)[7])
    community, street = (city.get(c) for c in city.ancestors(grid.code)[:2])
    worker = "wang_grid"
    subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "users", "create", worker, "--role", "grid_worker", "--unit", grid.code,
         "--name", "王网格员", "--password-stdin"],
        env=running_app.env, cwd=ROOT, check=True, capture_output=True, input=b"one-time initial password\n",
        timeout=120,
    )  # fmt: skip
    engine = make_engine(databases.app_db_url(Path(running_app.env["GRIDWATCH_DATA_DIR"])))
    devices = len(DeviceRepository(engine).in_grid(grid.code))
    engine.dispose()

    sign_in(browser, running_app.url, "leader", then="/leader")
    title_is(browser, district.name)
    # The ten charts drew for the district, and its figures are there.
    poll(
        browser,
        "return document.querySelectorAll('#gw-leader-panel .js-plotly-plot .main-svg').length >= arguments[0]",
        len(CHARTS),
        timeout=40,
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, f"#{ids.KPIS} .gw-kpi")) == 7
    poll(
        browser,
        "return Object.values(gw.layers).filter(l => l._map && l.feature.properties.level === 4).length"
        " === arguments[0]",
        len(city.grids_under(district.code)),
        timeout=40,
    )
    lon, lat = inside(grid)
    # Each click steps one level down towards the clicked grid; the map outlines the selection.
    for unit in (street, community, grid):
        click_at(browser, lon, lat)
        title_is(browser, unit.name)
        poll(browser, "return gw.focusLayer && gw.focusLayer.feature.properties.code === arguments[0]", unit.code)
    crumbs = browser.find_element(By.ID, ids.BREADCRUMB).text
    assert all(u.name in crumbs for u in (district, street, community, grid)), crumbs
    detail = poll(browser, f"return document.getElementById('{ids.UNIT_DETAIL}').textContent", timeout=20)
    assert "王网格员" in detail and f"/ {devices}）" in detail, detail
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "leader-grid.png"))
    # Back up by the breadcrumb: the street's link.
    browser.find_element(By.LINK_TEXT, street.name).click()
    title_is(browser, street.name)
    assert js(browser, f"return document.getElementById('{ids.UNIT_DETAIL}').textContent") == ""
    browser.save_screenshot(str(DOCS / "leader.png"))
    assert_clean(browser, running_app.url)


def test_another_districts_unit_is_refused_by_address(running_app: RunningApp, browser: webdriver.Chrome) -> None:
    city = running_app.city
    mine, other = city.at_level(Level.DISTRICT)[1], city.at_level(Level.DISTRICT)[0]
    foreign_grid = city.grids_under(other.code)[0]
    sign_in(browser, running_app.url, "leader", then=f"/leader?unit={foreign_grid}")
    title_is(browser, mine.name)  # the page stays on the leader's own district
    assert other.name not in browser.find_element(By.ID, ids.LEADER_PANEL).text
    status = js(
        browser,
        "return fetch('/api/v1/units/' + arguments[0] + '/charts/case_volume.json').then(r => r.status)",
        other.code,
    )
    assert status == 403
