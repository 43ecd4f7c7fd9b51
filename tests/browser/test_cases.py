"""The cases page in real browsers: an operator takes a new case through two steps; a grid worker sees their grid.

The real app (a ``serve`` process) on the small city and a real SQLite file; cases are filed by
the test process through a CaseService on the same database (as the hotline door would). The
list is queried again every 5 s, so a case filed after the page opened appears without a reload.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import redis
from selenium import webdriver
from selenium.webdriver.common.by import By

from domain.case_config import load_case_config
from domain.cases import CaseAction, CaseSource
from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from geo.lookup import GridLocator
from layouts import ids
from runtime.case_service import CaseService, NewCaseInput
from runtime.embedded_redis import EmbeddedRedis
from security.accounts import AccountService
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from storage.audit_repository import AuditRepository
from storage.case_repository import CaseRepository
from storage.database import make_engine
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from tests import databases
from tests.auth import make_user
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import assert_clean, js, poll, sign_in
from tests.processes import ROOT, free_port, small_city_env, start, stop, wait_http

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs"
ROW = "return document.querySelector('#gw-cases-list tr[data-case-id=\"' + arguments[0] + '\"]')"
DETAIL_STATE = (
    "const d = document.querySelector('#gw-case-detail article[data-case-id=\"' + arguments[0] + '\"]');"
    "return d && d.getAttribute('data-state')"
)


class Clock:
    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@dataclass
class CasesApp:
    url: str
    city: Hierarchy
    grid: str  # the grid worker's grid
    other_grid: str  # a grid of another district
    cases: CaseService
    clock: Clock
    users: UserRepository


@pytest.fixture(scope="module")
def cases_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CasesApp]:
    """The small city served by a real `serve` process, with an operator, a leader and a grid worker."""
    tmp = tmp_path_factory.mktemp("cases")
    with EmbeddedRedis(tmp / "redis") as server:
        port = free_port()
        env = small_city_env(tmp / "var", GRIDWATCH_REDIS_URL=server.url, GRIDWATCH_PORT=str(port))
        init = [sys.executable, str(ROOT / "app.py"), "init"]
        subprocess.run(init, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
        engine = make_engine(databases.app_db_url(tmp / "var"))
        city = Hierarchy(GeoRepository(engine).load_units())
        home, other = (d.code for d in city.at_level(Level.DISTRICT)[:2])
        grid, other_grid = city.grids_under(home)[0], city.grids_under(other)[0]
        client = redis.Redis.from_url(server.url)
        users = UserRepository(engine)
        accounts = AccountService(users, AuditRepository(engine), SessionStore(client), city, PasswordHashing())
        for username, name, role, unit in (
            ("op", "值守员", Role.CITY_OPERATOR, city.city.code),
            ("leader", "区领导", Role.DISTRICT_LEADER, home),
            ("gw1", "网格员甲", Role.GRID_WORKER, grid),
        ):
            make_user(accounts, username, role, unit, display_name=name)
        clock = Clock()
        service = CaseService(
            CaseRepository(engine),
            AuditRepository(engine),
            city,
            GridLocator.for_hierarchy(city),
            load_case_config(),
            users,
            clock=clock,
        )
        log = tmp / "app.log"
        web = start(["serve"], env, log)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield CasesApp(f"http://127.0.0.1:{port}", city, grid, other_grid, service, clock, users)
        finally:
            client.close()
            stop(web)
            engine.dispose()


def file_case(app: CasesApp, grid: str, code: str = "road_damage", text: str = "路面塌陷一处") -> int:
    """File a hotline case at a point of the grid, as the 12345 door would."""
    p = app.city.get(grid).geometry.representative_point()
    new = NewCaseInput(CaseSource.HOTLINE, code, text, lon=p.x, lat=p.y, address="中山路 1 号")
    return app.cases.collect(new, "12345", "127.0.0.1").id


def press(browser: webdriver.Chrome, case_id: int, action: str, then: str) -> None:
    """Press an action button for the case on screen; wait until the detail shows the state it leads to."""
    button = browser.find_element(By.ID, ids.case_action(action))
    poll(browser, "return document.getElementById(arguments[0]).offsetParent !== null", ids.case_action(action))
    button.click()
    poll(browser, DETAIL_STATE, str(case_id))
    poll(browser, DETAIL_STATE + " === arguments[1]", str(case_id), then)
    poll(
        browser,
        "return document.getElementById(arguments[0]).textContent.includes('#' + arguments[1])",
        ids.CASE_MESSAGE,
        case_id,
    )


def visible_actions(browser: webdriver.Chrome) -> list[str]:
    return list(
        js(
            browser,
            "return Array.from(document.querySelectorAll('.gw-case-action'))"
            ".filter(b => b.offsetParent !== null).map(b => b.id.replace('gw-case-action-', ''))",
        )
    )


def test_an_operator_takes_a_new_case_through_accept_and_dispatch(
    cases_app: CasesApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    op = browsers()
    sign_in(op, cases_app.url, "op", then="/cases")
    poll(op, "return document.getElementById(arguments[0]) !== null", ids.CASES_LIST)
    # A case filed after the page opened appears on the next re-query, with its deadline counting down.
    case_id = file_case(cases_app, cases_app.grid)
    row = poll(op, ROW, str(case_id), timeout=15)
    assert "道路破损" in row.text and "待受理" in row.text
    countdown = poll(op, ROW + ".querySelector('[data-due]')", str(case_id))
    first = countdown.text
    assert re.fullmatch(r"剩余 01:5\d", first), first  # 2 h to accept
    # The browser redraws it each second from data-due: move the deadline and watch the text follow.
    js(op, "arguments[0].setAttribute('data-due', new Date(Date.now() + 10 * 60000 + 30000).toISOString())", countdown)
    poll(op, "return arguments[0].textContent === '剩余 00:10'", countdown, timeout=3)
    js(op, "arguments[0].setAttribute('data-due', new Date(Date.now() - 61 * 60000).toISOString())", countdown)
    poll(
        op,
        "return arguments[0].textContent === '超期 01:01' && arguments[0].classList.contains('gw-overdue')",
        countdown,
        timeout=3,
    )

    row.click()
    poll(op, DETAIL_STATE, str(case_id))
    assert js(op, "return document.getElementById(arguments[0]).className", ids.CASES_BODY).endswith("gw-tab-detail")
    assert sorted(visible_actions(op)) == ["accept", "reject"]
    detail = op.find_element(By.ID, ids.CASE_DETAIL).text
    assert "路面塌陷一处" in detail and "中山路 1 号" in detail and "上报" in detail

    # Rejecting needs a reason: refused on screen, nothing changes.
    op.find_element(By.ID, ids.case_action("reject")).click()
    poll(
        op,
        "const m = document.getElementById(arguments[0]); return m.querySelector('.gw-msg-error') && m.textContent",
        ids.CASE_MESSAGE,
    )
    assert js(op, DETAIL_STATE, str(case_id)) == "collected"

    press(op, case_id, "accept", "accepted")
    assert sorted(visible_actions(op)) == ["dispatch"]
    press(op, case_id, "dispatch", "dispatched")  # to the grid of its location, to its grid worker
    detail = op.find_element(By.ID, ids.CASE_DETAIL).text
    assert "gw1" in detail and "立案" in detail and "派遣" in detail
    assert sorted(visible_actions(op)) == ["reassign", "start"]
    # The list shows the new state without a reload.
    poll(op, ROW + ".getAttribute('data-state') === 'dispatched'", str(case_id))
    ARTIFACTS.mkdir(exist_ok=True)
    op.save_screenshot(str(ARTIFACTS / "cases-detail.png"))

    # Supervision: a case left uncollected for 5 h (2 h allowed) is 3 h overdue, in red, most overdue first.
    cases_app.clock.shift = timedelta(hours=-5)
    late = file_case(cases_app, cases_app.grid, "noise", "夜间施工噪声")
    cases_app.clock.shift = timedelta(hours=-3)
    less_late = file_case(cases_app, cases_app.grid, "sanitation", "垃圾堆积")
    cases_app.clock.shift = timedelta(0)
    op.find_element(By.ID, f"{ids.CASES_TABS}-supervision").click()
    order = poll(
        op,
        "const rows = Array.from(document.querySelectorAll('#gw-cases-overdue tr[data-case-id]'));"
        "return rows.length >= 2 && rows.map(r => r.getAttribute('data-case-id'))",
        timeout=15,
    )
    assert order[:2] == [str(late), str(less_late)]
    overdue = op.find_element(By.CSS_SELECTOR, f'#gw-cases-overdue tr[data-case-id="{late}"] [data-due]')
    assert re.fullmatch(r"超期 0[23]:\d\d", overdue.text), overdue.text
    assert "gw-overdue" in (overdue.get_attribute("class") or "")
    assert poll(op, "return getComputedStyle(arguments[0]).color", overdue) == "rgb(198, 40, 40)"
    op.save_screenshot(str(ARTIFACTS / "cases-supervision.png"))

    # Scoreboard: the operator may look but not export.
    op.find_element(By.ID, f"{ids.CASES_TABS}-scoreboard").click()
    poll(op, "return document.querySelector('#gw-scoreboard table') !== null")
    assert js(op, "return document.getElementById(arguments[0]).hidden", ids.SCOREBOARD_EXPORT) is True
    assert_clean(op, cases_app.url)


def test_a_grid_worker_sees_only_their_grid_and_a_leader_exports_the_scoreboard(
    cases_app: CasesApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    mine = file_case(cases_app, cases_app.grid, "street_light", "路灯不亮")
    op = cases_app.users.by_username("op")
    assert op is not None
    for action in (CaseAction.ACCEPT, CaseAction.DISPATCH):
        cases_app.cases.act(op.principal, mine, action, "127.0.0.1")
    elsewhere = file_case(cases_app, cases_app.other_grid, "street_light", "别区路灯")
    worker = browsers()
    sign_in(worker, cases_app.url, "gw1", then="/cases")
    poll(worker, ROW, str(mine), timeout=15)
    shown = js(worker, "return Array.from(document.querySelectorAll('#gw-cases-list tr[data-case-id]')).length")
    assert shown >= 1 and js(worker, ROW, str(elsewhere)) is None
    units = set(
        js(
            worker,
            "return Array.from(document.querySelectorAll('#gw-cases-list tr td:nth-child(3)')).map(td => td.title)",
        )
    )
    assert units == {cases_app.grid}
    worker.find_element(By.CSS_SELECTOR, f'#gw-cases-list tr[data-case-id="{mine}"]').click()
    poll(worker, DETAIL_STATE, str(mine))
    assert visible_actions(worker) == ["start"]  # a reassignment is the command center's step
    press(worker, mine, "start", "handling")
    assert visible_actions(worker) == ["feedback"]
    worker.save_screenshot(str(ARTIFACTS / "cases-grid-worker.png"))
    assert_clean(worker, cases_app.url)

    leader = browsers()
    sign_in(leader, cases_app.url, "leader", then="/cases")
    poll(leader, "return document.getElementById(arguments[0] + '-scoreboard') !== null", ids.CASES_TABS)
    leader.find_element(By.ID, f"{ids.CASES_TABS}-scoreboard").click()
    poll(leader, "return document.querySelector('#gw-scoreboard tr[data-row=\"gw1\"]') !== null")
    href = js(leader, "return document.getElementById(arguments[0]).href", ids.SCOREBOARD_EXPORT)
    assert "/api/v1/scoreboard.csv?" in href and "by=worker" in href
    assert js(leader, "return document.getElementById(arguments[0]).hidden", ids.SCOREBOARD_EXPORT) is False
    # Sort by name: a click on the header, then again for the other way.
    leader.find_element(By.CSS_SELECTOR, '#gw-scoreboard th[data-key="name"] button').click()
    poll(leader, "return document.querySelector('#gw-scoreboard th[data-key=\"name\"]').textContent.includes('▲')")
    body = js(
        leader,
        "return fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => Array.from(new Uint8Array(b).slice(0, 3)))",
        href,
    )
    assert body == [0xEF, 0xBB, 0xBF]  # the BOM: Excel opens the Chinese as UTF-8
    leader.save_screenshot(str(ARTIFACTS / "cases-scoreboard.png"))
    assert_clean(leader, cases_app.url)
    shutil.copyfile(ARTIFACTS / "cases-detail.png", DOCS / "cases.png")
