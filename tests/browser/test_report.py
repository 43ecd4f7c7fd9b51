"""The phone page in a phone-sized headless Chromium: a grid worker files a case with a photo and checks in.

The real app (``serve``) on the small city; the case is then read back through the REST API as
the city operator would. Headless Chromium has no geolocation, so the location comes from a tap
on the map of the worker's grid (the page accepts it; the audit records the source).
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from domain.patrol import distance_m
from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from layouts import ids
from runtime.embedded_redis import EmbeddedRedis
from security.accounts import AccountService
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from storage.audit_repository import AuditRepository
from storage.database import make_engine
from storage.patrol_repository import PatrolRepository
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from tests import databases
from tests.auth import PASSWORD, get_json, http_session, make_user
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import assert_clean, js, poll, sign_in
from tests.processes import ROOT, free_port, small_city_env, start, stop, wait_http

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs"
PHONE = (412, 915)  # CSS pixels of a common Android phone


@dataclass
class ReportApp:
    url: str
    city: Hierarchy
    grid: str
    points: list[tuple[int, float, float]]  # (id, lon, lat) of the worker's patrol points


@pytest.fixture(scope="module")
def report_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportApp]:
    """The small city served by a real `serve` process, with a grid worker and the city operator."""
    tmp = tmp_path_factory.mktemp("report")
    with EmbeddedRedis(tmp / "redis") as server:
        port = free_port()
        env = small_city_env(tmp / "var", GRIDWATCH_REDIS_URL=server.url, GRIDWATCH_PORT=str(port))
        init = [sys.executable, str(ROOT / "app.py"), "init"]
        subprocess.run(init, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
        engine = make_engine(databases.app_db_url(tmp / "var"))
        city = Hierarchy(GeoRepository(engine).load_units())
        grid = city.grids_under(city.at_level(Level.DISTRICT)[0].code)[0]
        client = redis.Redis.from_url(server.url)
        accounts = AccountService(
            UserRepository(engine), AuditRepository(engine), SessionStore(client), city, PasswordHashing()
        )
        make_user(accounts, "worker", Role.GRID_WORKER, grid, display_name="网格员小李")
        make_user(accounts, "op", Role.CITY_OPERATOR, city.city.code, display_name="市级值守员")
        points = [(p.id, p.lon, p.lat) for p in PatrolRepository(engine).points([grid])]
        engine.dispose()
        client.close()
        web = start(["serve"], env, tmp / "app.log")
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield ReportApp(f"http://127.0.0.1:{port}", city, grid, points)
        finally:
            stop(web)


def tap_map(browser: webdriver.Chrome, lon: float, lat: float) -> None:
    """Tap the report map at a lon/lat, as a finger would (a real click at that pixel)."""
    poll(browser, "return gw.report && gw.report.map !== null")
    x, y = js(
        browser,
        "const p = gw.report.map.latLngToContainerPoint([arguments[1], arguments[0]]); return [p.x, p.y]",
        lon,
        lat,
    )
    element = browser.find_element(By.ID, ids.REPORT_MAP)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    w, h = element.size["width"], element.size["height"]
    assert 0 < x < w and 0 < y < h, (x, y, w, h)
    ActionChains(browser).move_to_element_with_offset(element, int(x - w / 2), int(y - h / 2)).click().perform()


def field_error(browser: webdriver.Chrome, field: str) -> str:
    return str(
        js(
            browser,
            "const e = document.getElementById(arguments[0]); return e ? e.textContent : ''",
            '{"field":"' + field + '","type":"' + ids.REPORT_ERROR + '"}',
        )
    )


def test_a_grid_worker_files_a_case_with_a_photo_and_checks_in(
    report_app: ReportApp, browser: webdriver.Chrome, browsers: Callable[..., webdriver.Chrome], tmp_path: Path
) -> None:
    browser.set_window_size(*PHONE)
    sign_in(browser, report_app.url, "worker", then="/report")
    poll(browser, "return document.getElementById(arguments[0]) !== null", ids.REPORT_SUBMIT)
    poll(browser, "return gw.report && gw.report.map !== null")

    # Submitting an empty form says what is missing, field by field; nothing is filed.
    browser.find_element(By.ID, ids.REPORT_SUBMIT).click()
    poll(browser, "return document.getElementById(arguments[0]).textContent.length > 0", ids.REPORT_RESULT)
    errors = {f: field_error(browser, f) for f in ("category", "description", "location", "photos")}
    assert errors == {
        "category": "请选择类别",
        "description": "请填写问题描述",
        "location": "请使用定位或在地图上点选位置",
        "photos": "",
    }

    # Category: open the dropdown and pick 环境卫生 by touch.
    browser.find_element(By.ID, ids.REPORT_CATEGORY).click()
    option = poll(
        browser,
        "return Array.from(document.querySelectorAll('[role=option], .dash-dropdown-option, .Select-option'))"
        ".find(o => o.textContent.trim() === '环境卫生') || null",
    )
    option.click()
    poll(browser, "return document.getElementById(arguments[0]).textContent.includes('环境卫生')", ids.REPORT_CATEGORY)
    browser.find_element(By.ID, ids.REPORT_DESCRIPTION).send_keys("小区东门垃圾桶满溢，周边有散落垃圾")

    # Location: a tap on the map inside the grid.
    point = report_app.city.get(report_app.grid).geometry.representative_point()
    tap_map(browser, point.x, point.y)
    where = poll(
        browser,
        "const t = document.getElementById(arguments[0]).textContent; return t.includes('地图点选') && t",
        ids.REPORT_LOCATION_TEXT,
    )
    assert f"{point.x:.3f}"[:-1] in where
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "report-located.png"))  # the pin where the map was tapped

    # A photo through the upload's file input.
    photo = tmp_path / "现场.png"
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 80, 40)).save(buf, format="PNG")
    photo.write_bytes(buf.getvalue())
    browser.find_element(By.CSS_SELECTOR, f"#{ids.REPORT_UPLOAD} input[type=file]").send_keys(str(photo))
    poll(
        browser, "return document.getElementById(arguments[0]).textContent.includes('现场.png')", ids.REPORT_UPLOAD_LIST
    )

    browser.find_element(By.ID, ids.REPORT_SUBMIT).click()
    done = poll(
        browser,
        "const s = document.querySelector('#' + arguments[0] + ' [data-case-id]');"
        "return s && [s.dataset.caseId, s.textContent]",
        ids.REPORT_RESULT,
    )
    case_id, text = int(done[0]), done[1]
    assert f"案件编号 {case_id}" in text and "前受理" in text
    assert all(field_error(browser, f) == "" for f in ("category", "description", "location", "photos"))
    recent = poll(
        browser,
        "const li = document.querySelector('#' + arguments[0] + ' [data-case-id=\"' + arguments[1] + '\"]');"
        "return li && li.textContent",
        ids.REPORT_RECENT,
        str(case_id),
    )
    assert "环境卫生" in recent and "已上报待受理" in recent
    # The form is cleared for the next report.
    poll(browser, "return document.getElementById(arguments[0]).value === ''", ids.REPORT_DESCRIPTION)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(ARTIFACTS / "report-filed.png"))

    # Patrol: tap the first point on the map, then check in there.
    point_id, plon, plat = report_app.points[0]
    tap_map(browser, plon, plat)
    poll(
        browser,
        "return document.getElementById(arguments[0]).textContent.includes('地图点选')",
        ids.REPORT_LOCATION_TEXT,
    )
    button = browser.find_element(By.CSS_SELECTOR, f"li[data-point-id='{point_id}'] button")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    said = poll(
        browser,
        "const m = document.getElementById(arguments[0]).textContent; return m.includes('打卡') && m",
        ids.REPORT_PATROL_MESSAGE,
    )
    assert "已在" in said, said
    poll(
        browser,
        'const s = document.querySelector("li[data-point-id=\'" + arguments[0] + "\'] .gw-patrol-state");'
        "return s.classList.contains('gw-patrol-checked')",
        str(point_id),
    )
    # Another point is far from where the phone now is: refused with the distance.
    other_id, olon, olat = max(report_app.points[1:], key=lambda p: distance_m(plon, plat, p[1], p[2]))
    assert distance_m(plon, plat, olon, olat) > 150  # the demo points of a grid are hundreds of metres apart
    far_button = browser.find_element(By.CSS_SELECTOR, f"li[data-point-id='{other_id}'] button")
    far_button.click()
    refused = poll(
        browser,
        "const m = document.getElementById(arguments[0]).textContent; return m.includes('米以内') && m",
        ids.REPORT_PATROL_MESSAGE,
    )
    assert "须在 150 米以内" in refused
    browser.save_screenshot(str(ARTIFACTS / "report-patrol.png"))
    browser.save_screenshot(str(DOCS / "report.png"))  # the README's picture: the case filed, the patrol

    # The city operator sees the case through the REST API, collected, with the photo.
    op = http_session(report_app.url, "op", PASSWORD)
    listed = get_json(op, f"{report_app.url}/api/v1/cases?state=collected")
    mine = next(c for c in listed["cases"] if c["id"] == case_id)
    assert mine["source"] == "grid_report" and mine["unit_code"] == report_app.grid
    assert mine["service_code"] == "sanitation" and "垃圾桶满溢" in mine["description"]
    full = get_json(op, f"{report_app.url}/api/v1/cases/{case_id}")
    assert [p["mime"] for p in full["photos"]] == ["image/png"]
    with op.open(f"{report_app.url}{full['photos'][0]['url']}", timeout=10) as resp:
        assert resp.headers["Content-Type"] == "image/png" and resp.read() == photo.read_bytes()
    patrol = get_json(op, f"{report_app.url}/api/v1/patrols?unit={report_app.grid}")
    assert {p["id"]: p["status"] for p in patrol["points"]}[point_id] == "checked"

    browser.execute_script("window.scrollTo(0, 0)")
    browser.get(f"{report_app.url}/report")
    poll(browser, "return document.querySelector('#' + arguments[0] + ' [data-case-id]') !== null", ids.REPORT_RECENT)
    poll(browser, "return gw.report && gw.report.map !== null")
    browser.save_screenshot(str(ARTIFACTS / "report.png"))
    assert_clean(browser, report_app.url)

    # And the city operator, on the cases page, sees it on the dispatch list, ready to accept.
    desk = browsers()
    sign_in(desk, report_app.url, "op", then="/cases")
    row = poll(
        desk,
        "const r = document.querySelector('#' + arguments[0] + ' tr[data-case-id=\"' + arguments[1] + '\"]');"
        "return r && r.textContent",
        ids.CASES_LIST,
        str(case_id),
        timeout=30,
    )
    assert "待受理" in row, row
    desk.find_element(By.CSS_SELECTOR, f'#{ids.CASES_LIST} tr[data-case-id="{case_id}"]').click()
    poll(desk, "return document.getElementById(arguments[0]) !== null", ids.case_action("accept"), timeout=20)
    assert_clean(desk, report_app.url)
