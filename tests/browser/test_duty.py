"""The duty desk in two browsers at once: an alarm blinks and rings on both, one person takes it.

The real app (``serve`` and ``worker`` processes) on a small city, a private Redis and a real
SQLite file; alarms are XADDed to the ingest stream as devices would. Each browser is its own
context (profile, cookies, login).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from selenium import webdriver
from selenium.webdriver.common.by import By

from domain.permissions import Role
from geo.hierarchy import Hierarchy, Level
from layouts import ids
from runtime.embedded_redis import EmbeddedRedis
from security.accounts import AccountService
from security.passwords import PasswordHashing
from security.sessions import SessionStore
from storage.audit_repository import AuditQuery, AuditRepository
from storage.database import make_engine
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from streams.ingest import append_events
from tests import databases
from tests.auth import make_user
from tests.browser.conftest import ARTIFACTS, AUTOPLAY
from tests.browser.duty_desk import ROW, act, message
from tests.browser.helpers import assert_clean, js, poll, sign_in
from tests.conftest import SMALL_CITY
from tests.integration.events import alarm_event, gate_event, inside, temperature_event
from tests.processes import ROOT, app_env, free_port, start, stop, wait_http

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs"
CONNECTED = "return window.gw !== undefined && gw.wasConnected === true && gw.alerts.texts !== null"


@dataclass
class DutyApp:
    url: str
    redis: redis.Redis
    city: Hierarchy
    home: str  # district of duty_a, duty_b and the leader
    other: str  # district of duty_c
    db: Path


@pytest.fixture(scope="module")
def duty_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DutyApp]:
    """The small city served by real `serve` and `worker` processes, with people on duty."""
    tmp = tmp_path_factory.mktemp("duty")
    with EmbeddedRedis(tmp / "redis") as server:
        port = free_port()
        env = app_env(
            GRIDWATCH_DATA_DIR=str(tmp / "var"),
            GRIDWATCH_REDIS_URL=server.url,
            GRIDWATCH_PORT=str(port),
            GRIDWATCH_DEMO_SEED=str(SMALL_CITY.seed),
            GRIDWATCH_DEMO_GRIDS=str(SMALL_CITY.grids),
            GRIDWATCH_DEMO_COMMUNITIES=str(SMALL_CITY.communities),
            GRIDWATCH_DEMO_STREETS=str(SMALL_CITY.streets),
            GRIDWATCH_DEMO_DISTRICTS=str(SMALL_CITY.districts),
            GRIDWATCH_DEVICES_PER_GRID="1",
        )
        init = [sys.executable, str(ROOT / "app.py"), "init"]
        subprocess.run(init, env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
        engine = make_engine(databases.app_db_url(tmp / "var"))
        city = Hierarchy(GeoRepository(engine).load_units())
        home, other = (d.code for d in city.at_level(Level.DISTRICT)[:2])
        client = redis.Redis.from_url(server.url)
        accounts = AccountService(
            UserRepository(engine), AuditRepository(engine), SessionStore(client), city, PasswordHashing()
        )
        for username, name, role, unit in (
            ("duty_a", "值班员甲", Role.DUTY_STAFF, home),
            ("duty_b", "值班员乙", Role.DUTY_STAFF, home),
            ("duty_c", "值班员丙", Role.DUTY_STAFF, other),
            ("leader", "区领导", Role.DISTRICT_LEADER, home),
        ):
            make_user(accounts, username, role, unit, display_name=name)
        engine.dispose()
        log = tmp / "app.log"
        web = start(["serve"], env, log)
        worker = start(["worker", "--name", "duty-test"], env, log)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield DutyApp(f"http://127.0.0.1:{port}", client, city, home, other, tmp / "var" / "gridwatch.db")
        finally:
            client.close()
            stop(worker)
            stop(web)


def raise_alarm(app: DutyApp, district: str, *, alarm: str = "button", index: int = 0) -> str:
    """XADD an alarm from a fresh device in a grid of the district; return that grid's code."""
    grid = app.city.grids_under(district)[index]
    lon, lat = inside(app.city.get(grid))
    append_events(app.redis, "gw:ingest", [alarm_event(lon, lat, alarm=alarm, device=f"D{uuid.uuid4().hex[:10]}")])
    return grid


def newest_alert(browser: webdriver.Chrome, grid: str, timeout: float = 15) -> int:
    """Wait for an alert of the grid to appear in the queue; return its id."""
    return int(
        poll(
            browser,
            "const a = Array.from(gw.alerts.byId.values()).filter(a => a.unit === arguments[0])"
            ".sort((x, y) => y.id - x.id)[0];"
            "return a && document.getElementById('gw-alert-' + a.id) ? a.id : null",
            grid,
            timeout=timeout,
        )
    )


def blinking(browser: webdriver.Chrome, alert_id: int) -> bool:
    """Whether the row is animated by the blink (the class, and a running CSS animation)."""
    return bool(
        js(
            browser,
            "const li = document.getElementById('gw-alert-' + arguments[0]);"
            "return !!li && li.classList.contains('gw-blink')"
            " && li.getAnimations().some(a => a.playState === 'running')",
            alert_id,
        )
    )


def playing(browser: webdriver.Chrome, severity: str) -> bool:
    """Whether the tone of a severity is playing."""
    return bool(
        js(browser, "const a = document.getElementById(arguments[0]); return !!a && !a.paused", ids.SOUNDS[severity])
    )


def test_two_desks_one_owner(duty_app: DutyApp, browsers: Callable[..., webdriver.Chrome]) -> None:
    a, b, c = browsers(AUTOPLAY), browsers(AUTOPLAY), browsers(AUTOPLAY)
    for browser, user in ((a, "duty_a"), (b, "duty_b"), (c, "duty_c")):
        sign_in(browser, duty_app.url, user, then="/duty")
    for browser in (a, b, c):
        poll(browser, CONNECTED)
        poll(browser, "return gw.alerts.resyncs > 0 && !gw.alerts.resyncing")
    js(
        b,
        "window.__ownerAt = null; new MutationObserver(() => { if (!window.__ownerAt &&"
        " document.querySelector('#gw-alert-queue .gw-alert-owner')) window.__ownerAt = Date.now(); })"
        ".observe(document.getElementById('gw-alert-queue'), {subtree: true, childList: true});",
    )

    # Quieter alerts first (a red health code, a hot sensor), then an alarm in their district: it appears
    # on both desks, blinks and rings the critical tone; not on the other district's desk.
    grids = duty_app.city.grids_under(duty_app.home)
    red, hot = (inside(duty_app.city.get(g)) for g in (grids[-1], grids[-2]))
    append_events(
        duty_app.redis,
        "gw:ingest",
        [gate_event(*red, device="GATE-R1", health_code="red"), temperature_event(*hot, 72.5, device="TMP-H1")],
    )
    poll(b, "return gw.alerts.byId.size >= 2")
    grid = raise_alarm(duty_app, duty_app.home)
    alert_id = newest_alert(a, grid)
    assert newest_alert(b, grid) == alert_id
    for browser in (a, b):
        assert blinking(browser, alert_id)
        poll(browser, "return !document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"])
    # A acknowledges; B sees A as the owner within a second, and B's row stops blinking and ringing.
    act(a, alert_id, ids.ALERT_ACK)
    pressed = time.time()
    message(a, f"#{alert_id}")
    poll(b, "return window.__ownerAt !== null", timeout=5)
    owner_after = js(b, "return window.__ownerAt") / 1000 - pressed
    row_b = poll(b, ROW, str(alert_id))
    assert "duty_a" in row_b.text
    assert not blinking(b, alert_id) and not blinking(a, alert_id)
    poll(b, "return document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"], timeout=5)
    assert owner_after < 1.0, f"B saw the owner {owner_after:.3f} s after A pressed"
    # B tries anyway: refused, and told who owns it.
    act(b, alert_id, ids.ALERT_ACK)
    refusal = message(b, "duty_a")
    assert "值班员甲" in refusal and "已被" in refusal
    assert js(
        b, "return document.getElementById(arguments[0]).querySelector('.gw-msg-error') !== null", ids.ALERT_MESSAGE
    )

    # Someone in another district never saw it, though their screen heard every push.
    assert js(c, "return gw.alerts.byId.has(arguments[0])", alert_id) is False
    assert js(c, "return gw.alerts.pushes") >= 1
    assert js(c, ROW, str(alert_id)) is None

    ARTIFACTS.mkdir(exist_ok=True)
    for browser, name in ((a, "a"), (b, "b"), (c, "c")):
        browser.save_screenshot(str(ARTIFACTS / f"duty-{name}.png"))
    b.save_screenshot(str(DOCS / "duty.png"))  # the README's picture: B told who owns the alarm
    print(f"\nB saw A as the owner {owner_after * 1000:.0f} ms after A pressed")
    for browser in (a, b, c):
        assert_clean(browser, duty_app.url)


def test_pressing_at_the_same_moment_gives_one_owner_on_both_screens(
    duty_app: DutyApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    a, b = browsers(AUTOPLAY), browsers(AUTOPLAY)
    sign_in(a, duty_app.url, "duty_a", then="/duty")
    sign_in(b, duty_app.url, "duty_b", then="/duty")
    for browser in (a, b):
        poll(browser, CONNECTED)
    grid = raise_alarm(duty_app, duty_app.home, index=1)
    alert_id = newest_alert(a, grid)
    assert newest_alert(b, grid) == alert_id
    for browser in (a, b):
        browser.find_element(By.ID, f"gw-alert-{alert_id}").click()
        poll(browser, "return gw.alerts.selected === arguments[0]", alert_id)
    buttons = [browser.find_element(By.ID, ids.ALERT_ACK) for browser in (a, b)]
    barrier = threading.Barrier(2)

    def press(button: Any) -> None:
        barrier.wait()
        button.click()

    threads = [threading.Thread(target=press, args=(btn,)) for btn in buttons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    said = {
        name: poll(
            browser,
            "const m = document.getElementById(arguments[0]); return m.textContent.includes('#' + arguments[1])"
            " && [m.textContent, m.querySelector('.gw-msg-ok') !== null]",
            ids.ALERT_MESSAGE,
            alert_id,
        )
        for name, browser in (("duty_a", a), ("duty_b", b))
    }
    winners = [name for name, (_, ok) in said.items() if ok]
    assert len(winners) == 1, said
    loser = next(name for name in said if name not in winners)
    assert winners[0] in said[loser][0]
    for browser in (a, b):
        poll(
            browser,
            "const li = document.getElementById('gw-alert-' + arguments[0]);"
            "return li && li.dataset.state === 'acknowledged' && li.textContent.includes(arguments[1])",
            alert_id,
            winners[0],
            timeout=2,
        )


def test_actions_filters_countdown_and_the_resync(duty_app: DutyApp, browsers: Callable[..., webdriver.Chrome]) -> None:
    a = browsers(AUTOPLAY)
    sign_in(a, duty_app.url, "duty_a", then="/duty")
    poll(a, CONNECTED)
    grid = raise_alarm(duty_app, duty_app.home, alarm="smoke", index=2)
    alert_id = newest_alert(a, grid)
    # Bad input is said on screen: dispatch needs to say to whom; resolving a new alert is not a step.
    act(a, alert_id, ids.ALERT_RESOLVE)
    message(a, "不能执行此操作")
    act(a, alert_id, ids.ALERT_ACK)
    message(a, "由您负责")
    a.find_element(By.ID, ids.ALERT_DISPATCH).click()
    message(a, "请填写派发对象")
    a.find_element(By.ID, ids.ALERT_DISPATCH_TO).send_keys("网格员王五")
    a.find_element(By.ID, ids.ALERT_COMMENT).send_keys("请立即到场")
    a.find_element(By.ID, ids.ALERT_DISPATCH).click()
    message(a, "已派发给 网格员王五")
    poll(a, "return document.getElementById('gw-alert-' + arguments[0]).dataset.state === 'dispatched'", alert_id)
    a.find_element(By.ID, ids.ALERT_RESOLVE).click()
    message(a, "已记录处置结果")

    # Filters: by severity, by state, by area (the server says which grids are in it).
    poll(a, ROW, str(alert_id))
    a.find_element(By.CSS_SELECTOR, f"#{ids.ALERT_FILTER_STATE} input[value=resolved]").click()
    poll(a, "return !(" + ROW[len("return ") :] + ")", str(alert_id))
    a.find_element(By.CSS_SELECTOR, f"#{ids.ALERT_FILTER_STATE} input[value=resolved]").click()
    poll(a, ROW, str(alert_id))
    a.find_element(By.CSS_SELECTOR, f"#{ids.ALERT_FILTER_SEVERITY} input[value=critical]").click()
    poll(a, "return !(" + ROW[len("return ") :] + ")", str(alert_id))
    a.find_element(By.CSS_SELECTOR, f"#{ids.ALERT_FILTER_SEVERITY} input[value=critical]").click()
    poll(a, ROW, str(alert_id))
    street = duty_app.city.get(grid)
    while street.level is not Level.STREET:
        assert street.parent_code is not None
        street = duty_app.city.get(street.parent_code)
    others = [s for s in duty_app.city.children(duty_app.home) if s.code != street.code]
    js(a, "gw.alerts.filter.grids = null")
    a.execute_script(
        "window.dash_clientside.set_props(arguments[0], {value: arguments[1]})", ids.ALERT_FILTER_UNIT, others[0].code
    )
    poll(a, "return gw.alerts.filter.grids !== null && !(" + ROW[len("return ") :] + ")", str(alert_id))
    a.execute_script(
        "window.dash_clientside.set_props(arguments[0], {value: arguments[1]})", ids.ALERT_FILTER_UNIT, street.code
    )
    poll(
        a,
        "return gw.alerts.filter.grids !== null && gw.alerts.filter.grids.has(arguments[1]) && " + ROW[7:],
        str(alert_id),
        grid,
    )

    # Countdown to the next escalation, from the wire field escalates_at (pushed here as the escalation
    # engine will push it); an alert without the field shows none.
    due = (datetime.now(UTC) + timedelta(seconds=95)).isoformat()
    fake = {
        "id": 900001,
        "rule": "alarm_button",
        "severity": "critical",
        "state": "new",
        "unit": grid,
        "unit_name": duty_app.city.get(grid).name,
        "text": "一键报警",
        "count": 1,
        "first_seen": datetime.now(UTC).isoformat(),
        "last_seen": datetime.now(UTC).isoformat(),
        "cleared": False,
        "owner": None,
        "dispatched_to": None,
        "version": 1,
        "level_code": "community",
        "level_name": "社区级",
        "escalation_step": 0,
        "escalates_at": due,
    }
    js(a, "window.dash_clientside.gw_alerts.onPush({alerts: [arguments[0]]})", fake)
    first = poll(a, "const c = document.querySelector('#gw-alert-900001 .gw-countdown'); return c && c.textContent")
    assert "后升级" in first and first.startswith(("1:3", "1:2"))
    later = poll(
        a,
        "const c = document.querySelector('#gw-alert-900001 .gw-countdown');"
        "return c.textContent !== arguments[0] && c.textContent",
        first,
        timeout=5,
    )
    assert later < first  # it counts down: "1:33 后升级" < "1:34 后升级"
    assert "社区级" in poll(a, ROW, "900001").text
    assert js(a, "return document.querySelector('#gw-alert-' + arguments[0] + ' .gw-countdown')", alert_id) is None

    # A gap in the sequence (a missed push) resyncs from the API: the fake alert is gone, the real one stays.
    before = js(a, "return gw.alerts.resyncs")
    js(a, "window.dash_clientside.gw_alerts.onPush({seq: gw.alerts.seq + 3, alerts: []})")
    poll(a, "return gw.alerts.resyncs > arguments[0] && !gw.alerts.resyncing", before)
    poll(a, "return !document.getElementById('gw-alert-900001')")
    assert js(a, "return gw.alerts.byId.has(arguments[0])", alert_id)
    assert_clean(a, duty_app.url)


def test_sound_waits_for_a_gesture_when_the_browser_blocks_it(
    duty_app: DutyApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    c = browsers()  # Chromium's default policy: no sound before the user has touched the page
    sign_in(c, duty_app.url, "duty_c", then="/duty")
    # The login click would count as touching the page; a screen opened straight at its address has not.
    c.get(f"{duty_app.url}/duty")
    poll(c, CONNECTED)
    assert js(c, "return navigator.userActivation.hasBeenActive") is False
    grid = raise_alarm(duty_app, duty_app.other, index=0)
    alert_id = newest_alert(c, grid)
    toggle = poll(
        c,
        "const t = document.getElementById(arguments[0]);"
        "return t.classList.contains('gw-sound-blocked') && t.textContent",
        ids.SOUND_TOGGLE,
    )
    assert "浏览器阻止" in toggle and not playing(c, "critical")
    c.find_element(By.ID, ids.SOUND_TOGGLE).click()
    poll(c, "return !document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"])
    assert "关闭声音" in c.find_element(By.ID, ids.SOUND_TOGGLE).text
    # Muting stops it; an escalation (pushed with renotify) rings again; acknowledging stops it for good.
    c.find_element(By.ID, ids.SOUND_TOGGLE).click()
    poll(c, "return document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"])
    js(
        c,
        "const a = Object.assign({}, gw.alerts.byId.get(arguments[0]), {escalation_step: 1});"
        "window.dash_clientside.gw_alerts.onPush({alerts: [a], renotify: true})",
        alert_id,
    )
    poll(c, "return !document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"])
    act(c, alert_id, ids.ALERT_ACK)
    poll(c, "return document.getElementById(arguments[0]).paused", ids.SOUNDS["critical"])
    # Console: Chromium logs nothing for a refused play(); the page must not either.
    assert_clean(c, duty_app.url)


def test_the_wall_shows_a_ticker_and_the_desk_is_only_for_those_who_act(
    duty_app: DutyApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    wall, leader = browsers(), browsers()
    sign_in(wall, duty_app.url, "duty_a", then="/")
    poll(wall, CONNECTED)
    poll(wall, "return document.getElementById('gw-map') && document.getElementById('gw-kpis')")
    grid = raise_alarm(duty_app, duty_app.home, alarm="gas", index=3)
    alert_id = newest_alert(wall, grid)
    assert blinking(wall, alert_id)
    assert js(wall, "return document.querySelectorAll('audio').length") == 0  # the wall shows, the desk rings
    assert "值班台" in wall.find_element(By.ID, ids.NAV).text
    wall.save_screenshot(str(ARTIFACTS / "wall-ticker.png"))

    # A district leader may see the city but not act on alerts: the desk is refused, on screen and on the server.
    sign_in(leader, duty_app.url, "leader", then="/duty")
    notice = poll(
        leader,
        "const n = document.getElementById(arguments[0]); return n && !n.hidden && n.textContent",
        ids.PAGE_REFUSED,
    )
    assert "区领导" in notice and "无权" in notice
    # The server refused to build the page (audited); only then is its emptiness proof of anything.
    engine = make_engine(databases.db_url(duty_app.db))
    try:
        audit = AuditRepository(engine)
        deadline = time.monotonic() + 10
        while not [
            e
            for e in audit.search(AuditQuery(actor="leader", action="access.denied", limit=20))
            if e.target == "page:/duty"
        ]:
            assert time.monotonic() < deadline, "the server never refused the leader's /duty"
            time.sleep(0.05)
    finally:
        engine.dispose()
    assert js(leader, "return document.getElementById(arguments[0]).children.length", ids.PAGE) == 0
    assert js(leader, "return document.getElementById(arguments[0])", ids.ALERT_QUEUE) is None
    leader.get(f"{duty_app.url}/")
    poll(leader, "return document.getElementById('gw-map') !== null")
    assert "值班台" not in leader.find_element(By.ID, ids.NAV).text
    leader.get(f"{duty_app.url}/no-such-page")
    poll(leader, "const n = document.getElementById(arguments[0]); return n && !n.hidden", ids.PAGE_MISSING)
    assert_clean(wall, duty_app.url)
