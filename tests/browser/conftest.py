"""Headless Chromium (Debian's chromium + chromium-driver) driving the real app."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.browser.full_city import running_app  # noqa: F401 - the full-city app, one per test module

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,900",
)


# Let media play without a user gesture (the duty desk's alarm tones), as a kiosk screen is set up.
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


def chrome(profile: Path, extra: tuple[str, ...] = ()) -> webdriver.Chrome:
    """Start a headless Chromium with its own empty profile (a separate browser context)."""
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromium-driver are required: run `make test` (it installs them as root)")
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, *extra):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium with an empty profile."""
    driver = chrome(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Callable[..., webdriver.Chrome]]:
    """Open more browsers, each its own context (profile, cookies, session); all quit at the end."""
    opened: list[webdriver.Chrome] = []

    def open_one(*extra: str) -> webdriver.Chrome:
        opened.append(chrome(tmp_path / f"profile-{len(opened)}", extra))
        return opened[-1]

    try:
        yield open_one
    finally:
        for driver in opened:
            driver.quit()
