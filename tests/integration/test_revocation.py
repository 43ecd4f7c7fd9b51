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
