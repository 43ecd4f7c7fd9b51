"""What a person at the duty desk does in the page: pick an alert, press a button, read the answer."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By

from layouts import ids
from tests.browser.helpers import poll

__all__ = ["ROW", "ROW_NAMES", "act", "message"]

_ROW = "document.querySelector('#gw-alert-queue li[data-alert-id=\"' + arguments[0] + '\"]')"
ROW = f"return {_ROW}"  # the alert's row (arguments[0]: its id), or null
ROW_NAMES = (
    f"const row = {_ROW}; return !!row && row.textContent.includes(arguments[1])"  # ... and it shows arguments[1]
)


def act(browser: webdriver.Chrome, alert_id: int, button: str) -> None:
    """Select an alert's row, then press an action button."""
    browser.find_element(By.ID, f"gw-alert-{alert_id}").click()
    poll(browser, "return gw.alerts.selected === arguments[0]", alert_id)
    poll(
        browser,
        "return document.getElementById(arguments[0]).textContent.includes('#' + arguments[1])",
        ids.ALERT_SELECTED_LABEL,
        alert_id,
    )
    browser.find_element(By.ID, button).click()


def message(browser: webdriver.Chrome, contains: str) -> str:
    """Wait for the action message to say something; return it."""
    return str(
        poll(
            browser,
            "const m = document.getElementById(arguments[0]).textContent; return m.includes(arguments[1]) && m",
            ids.ALERT_MESSAGE,
            contains,
        )
    )
