"""Ending a session ends its sockets, whoever ends it and in whichever process."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app import create_app
from domain.permissions import Role
from runtime.account_commands import make_accounts
from runtime.bootstrap import ensure_demo_city, open_database
from tests.auth import login, make_user
from tests.conftest import small_city_settings


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, redis_server: Any) -> Iterator[Any]:
    settings = small_city_settings(tmp_path_factory.mktemp("revoke") / "var", redis_server.url)
    engine = open_database(settings)
    ensure_demo_city(engine, settings)
    engine.dispose()
    app = create_app(settings)
    app.settings = settings
    app.start_background()
    assert app.bridge.connected.wait(5)
    try:
        yield app
    finally:
        app.close()


def connected_socket(gw: Any, username: str) -> Any:
    http = gw.server.test_client()
    login(http, username)
    sock = gw.socketio.test_client(gw.server, flask_test_client=http)
    assert sock.is_connected()
    return sock


def wait_disconnected(sock: Any, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while sock.is_connected() and time.monotonic() < deadline:
        time.sleep(0.02)
    return not sock.is_connected()


def test_disabling_from_the_cli_process_disconnects_live_sockets(gw: Any) -> None:
    city = gw.ctx.hierarchy.city.code
    make_user(gw.ctx.accounts, "watcher", Role.DUTY_STAFF, city)
    sock = connected_socket(gw, "watcher")
    # Another process's account service, built exactly as `python app.py users …` builds it.
    engine = open_database(gw.settings)
    cli = make_accounts(engine, gw.ctx.redis, gw.ctx.hierarchy, gw.settings)
    cli.set_disabled("cli:test", "watcher", True)
    engine.dispose()
    assert wait_disconnected(sock)


def test_a_user_who_must_change_the_password_gets_no_socket(gw: Any) -> None:
    _, initial = gw.ctx.accounts.create("test", "fresh", Role.DUTY_STAFF, gw.ctx.hierarchy.city.code)
    http = gw.server.test_client()
    http.post("/login", data={"username": "fresh", "password": initial})
    assert not gw.socketio.test_client(gw.server, flask_test_client=http).is_connected()


def test_the_sweep_drops_sockets_of_expired_sessions(gw: Any) -> None:
    make_user(gw.ctx.accounts, "night", Role.DUTY_STAFF, gw.ctx.hierarchy.city.code)
    sock = connected_socket(gw, "night")
    for key in gw.ctx.redis.scan_iter("gw:session:*"):  # every session expires (its 12 h are up)
        gw.ctx.redis.delete(key)
    dropped = gw.rooms.sweep(lambda token, user_id: gw.ctx.accounts.sessions.user_of(token) == user_id)
    assert dropped >= 1
    assert wait_disconnected(sock)


def test_the_sweep_asks_once_per_session_and_drops_every_tab_of_an_ended_one(gw: Any) -> None:
    make_user(gw.ctx.accounts, "tabs", Role.DUTY_STAFF, gw.ctx.hierarchy.city.code)
    make_user(gw.ctx.accounts, "other", Role.DUTY_STAFF, gw.ctx.hierarchy.city.code)
    http = gw.server.test_client()
    login(http, "tabs")
    tabs = [gw.socketio.test_client(gw.server, flask_test_client=http) for _ in range(3)]  # one browser, 3 tabs
    other = connected_socket(gw, "other")
    assert all(t.is_connected() for t in tabs)
    record = gw.ctx.accounts.users.by_username("tabs")
    assert record is not None
    sessions = gw.ctx.accounts.sessions
    asked: list[tuple[str, int]] = []

    def still_valid(token: str, user_id: int) -> bool:  # the tabs' session has ended
        asked.append((token, user_id))
        return user_id != record.id and sessions.user_of(token) == user_id

    dropped = gw.rooms.sweep(still_valid)
    assert dropped == 3
    assert [uid for _, uid in asked].count(record.id) == 1  # three sockets, one question
    assert len(asked) == len(set(asked))  # and never twice about one session
    assert all(wait_disconnected(t) for t in tabs)
    assert other.is_connected()
    other.disconnect()
