"""/tasks on a phone-sized screen: a grid worker records results, a leader sees the progress table.

The real app (a ``serve`` process) on a small city, a private Redis and a real SQLite file; the
batch is pushed over HTTP with a real API key, as the data platform would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
from storage.api_client_repository import ApiClientRepository
from storage.audit_repository import AuditRepository
from storage.database import make_engine
from storage.repositories import GeoRepository
from storage.user_repository import UserRepository
from tests import databases
from tests.auth import make_user
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import assert_clean, js, poll, sign_in
from tests.conftest import SMALL_CITY
from tests.processes import ROOT, app_env, free_port, start, stop, wait_http

pytestmark = pytest.mark.browser
PHONE = "--window-size=390,844"
ITEMS = f"return document.querySelectorAll('#{ids.TASKS_LIST} input[type=radio]').length"
MESSAGE = f"return document.getElementById('{ids.TASKS_MESSAGE}').innerText"


@dataclass
class TasksApp:
    url: str
    city: Hierarchy
    grid: str
    batch_id: int


@pytest.fixture(scope="module")
def tasks_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TasksApp]:
    """The small city served by a real `serve` process, with a worker, a leader and a pushed batch."""
    tmp = tmp_path_factory.mktemp("tasks")
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
        district = city.at_level(Level.DISTRICT)[0].code
        grid = city.grids_under(district)[0]
        client = redis.Redis.from_url(server.url)
        accounts = AccountService(
            UserRepository(engine), AuditRepository(engine), SessionStore(client), city, PasswordHashing()
        )
        make_user(accounts, "worker", Role.GRID_WORKER, grid, display_name="网格员")
        make_user(accounts, "leader", Role.DISTRICT_LEADER, district, display_name="区领导")
        _, key = ApiClientRepository(engine).create("platform", city.city.code, {"verification"})
        engine.dispose()
        log = tmp / "app.log"
        web = start(["serve"], env, log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz")
            body = {
                "external_ref": "risk-browser-1",
                "title": "返乡人员核查",
                "deadline": (datetime.now(UTC) + timedelta(hours=6)).isoformat(),
                "tasks": [
                    {"grid_code": grid, "subject": {"name": "张三", "phone": "13812345678"}, "address": "1栋101"},
                    {"grid_code": grid, "subject": {"name": "李四", "phone": "13912345678"}, "address": "1栋102"},
                ],
            }
            req = urllib.request.Request(  # noqa: S310 - our own server on the loopback
                f"{base}/api/v1/verification/batches",
                data=json.dumps(body).encode(),
                headers={"X-Api-Key": key, "Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
                batch_id = json.loads(resp.read())["batch_id"]
            yield TasksApp(base, city, grid, batch_id)
        finally:
            client.close()
            stop(web)


def test_a_grid_worker_records_results_on_a_phone_and_bad_input_is_said(
    tasks_app: TasksApp, browsers: Callable[..., webdriver.Chrome]
) -> None:
    phone = browsers(PHONE)
    sign_in(phone, tasks_app.url, "worker", then="/tasks")
    assert poll(phone, ITEMS) == 2
    text = phone.find_element(By.ID, ids.TASKS_LIST).text
    assert "张*" in text and "138****5678" in text and "张三" not in text  # masked: a worker may not unmask
    # No task chosen: said on screen.
    phone.find_element(By.ID, ids.TASKS_PASS).click()
    assert "请选择" in poll(phone, MESSAGE)
    # A fail without a note: said on screen, nothing recorded.
    phone.find_elements(By.CSS_SELECTOR, f"#{ids.TASKS_LIST} input[type=radio]")[0].click()
    phone.find_element(By.ID, ids.TASKS_FAIL).click()
    poll(phone, MESSAGE + ".includes('请填写核查情况')")
    assert js(phone, ITEMS) == 2
    # With a note it is recorded and leaves the list.
    phone.find_element(By.ID, ids.TASKS_NOTE).send_keys("本人不在，家属称已外出务工")
    phone.find_element(By.ID, ids.TASKS_FAIL).click()
    poll(phone, MESSAGE + ".includes('已记录')")
    assert poll(phone, ITEMS + " === 1 ? 1 : 0") == 1
    assert js(phone, f"return document.getElementById('{ids.TASKS_NOTE}').value") == ""
    ARTIFACTS.mkdir(exist_ok=True)
    phone.save_screenshot(str(ARTIFACTS / "tasks-phone.png"))
    assert_clean(phone, tasks_app.url)

    desk = browsers()
    sign_in(desk, tasks_app.url, "leader", then="/tasks")
    row = f"#{ids.TASKS_PROGRESS} tr.gw-tasks-batch-row[data-batch='{tasks_app.batch_id}']"
    poll(desk, f'return document.querySelector("{row}")')
    cells = [c.text for c in desk.find_elements(By.CSS_SELECTOR, f"{row} td")]
    assert cells[2:] == ["合计", "1/2", "0", "1", "0", "0"]
    assert not desk.find_element(By.ID, ids.TASKS_PASS).is_displayed()  # a leader watches; no buttons
    # The worker records the other task; the leader's refresh shows it.
    phone.find_elements(By.CSS_SELECTOR, f"#{ids.TASKS_LIST} input[type=radio]")[0].click()
    phone.find_element(By.ID, ids.TASKS_PASS).click()
    assert poll(phone, ITEMS + " === 0 ? 'empty' : ''") == "empty"
    desk.find_element(By.ID, ids.TASKS_REFRESH).click()
    poll(desk, f"return document.querySelector(\"{row} td:nth-child(4)\").innerText === '2/2'")
    desk.save_screenshot(str(ARTIFACTS / "tasks-progress.png"))
    assert_clean(desk, tasks_app.url)
