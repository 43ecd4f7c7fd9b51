"""What browser tests do in a page: run a script, poll until a deadline, sign in, check hygiene."""

from __future__ import annotations

import time
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.auth import PASSWORD


def js(browser: webdriver.Chrome, script: str, *args: Any) -> Any:
    """Run a script in the page and return its value."""
    return browser.execute_script(script, *args)


def poll(browser: webdriver.Chrome, script: str, *args: Any, timeout: float = 20) -> Any:
    """Evaluate script until it returns something truthy; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = js(browser, script, *args)
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for: {script} (last value {value!r})")


def sign_in(browser: webdriver.Chrome, base: str, username: str, then: str = "/") -> None:
    """Log in through the login form, as a person would."""
    browser.get(f"{base}/login?next={then}")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    poll(browser, "return window.gw !== undefined && location.pathname !== '/login'", timeout=30)


def assert_clean(browser: webdriver.Chrome, base: str) -> None:
    """Nothing but the app itself was fetched (no CDN, tiles, fonts), and the console has no errors."""
    origins = js(browser, "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
    assert set(origins) <= {base}, set(origins)
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def on_each_websocket(body: str) -> str:
    """A script for ``Page.addScriptToEvaluateOnNewDocument``: runs ``body`` (with ``ws`` and ``url`` in
    scope) for every WebSocket the page opens, before the page's own code sees it."""
    return f"""
const NativeWebSocket = window.WebSocket;
window.WebSocket = function (url, ...rest) {{
  const ws = new NativeWebSocket(url, ...rest);
  {body}
  return ws;
}};
window.WebSocket.prototype = NativeWebSocket.prototype;
Object.assign(window.WebSocket, {{CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3}});
"""
