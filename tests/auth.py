"""Log in for tests the way a browser does: through /login, with a real account."""

from __future__ import annotations

import http.cookiejar
import urllib.parse
import urllib.request
from typing import Any

from flask.testing import FlaskClient

from domain.permissions import Role
from security.accounts import AccountService

PASSWORD = "correct horse battery staple"


def make_user(
    accounts: AccountService, username: str, role: Role, unit: str, password: str = PASSWORD, display_name: str = ""
) -> None:
    """Create an account that does not have to change its password first."""
    accounts.create("test", username, role, unit, display_name=display_name, password=password, must_change=False)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    """Log a Flask test client in; fail loudly if the login is refused."""
    resp = client.post("/login", data={"username": username, "password": password})
    assert resp.status_code == 302, (resp.status_code, resp.get_data(as_text=True)[:300])


def http_session(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """A urllib opener logged in to a running app (cookies kept)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    with opener.open(f"{base}/login", data=data, timeout=10) as resp:  # follows the redirect to the page
        assert "/login" not in resp.url, "login refused"
    return opener


def get_json(opener: urllib.request.OpenerDirector, url: str) -> Any:
    """GET a JSON document with a logged-in opener."""
    import json

    with opener.open(url, timeout=10) as resp:
        return json.loads(resp.read())


def change_password(base: str, username: str, current: str, new: str) -> None:
    """Log in with a one-time password and go through the forced change, over HTTP."""
    opener = http_session(base, username, current)
    data = urllib.parse.urlencode({"current": current, "new": new, "repeat": new}).encode()
    with opener.open(f"{base}/account/password", data=data, timeout=10) as resp:
        assert not resp.url.endswith("/account/password"), "password change refused"
