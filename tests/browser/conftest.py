"""Fixtures for the browser tests: the web client in Debian's Chromium, driven by Playwright.

They reuse the e2e fixtures (users, paper accounts, the clock) and fail, never skip,
when Chromium or the Hosting emulator is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.firebase import StackMissing, emulator_hosts
from devstack.web import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.e2e.conftest import Client, clock_at_start, demo_client, new_client, start

__all__ = ["Client", "clock_at_start", "demo_client", "new_client", "start"]

PASSWORD = "password-123"  # what devstack's sign_up gives every user


@pytest.fixture(scope="session")
def app_url() -> str:
    """The web client, served from web/dist by the Hosting emulator."""
    try:
        hosts = emulator_hosts()
    except StackMissing as missing:
        pytest.fail(f"Firebase emulators missing: {missing}. Run scripts/test.", pytrace=False)
    if "hosting" not in hosts:
        pytest.fail("the Hosting emulator is not running (firebase.json emulators.hosting)")
    if not Path("web/dist/index.html").is_file():
        pytest.fail("web/dist is not built: run scripts/bootstrap", pytrace=False)
    return f"http://{hosts['hosting']}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium from Debian's package (Playwright never downloads a browser here)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/bootstrap (apt-get install chromium)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    """A fresh browser context (no signed-in user) on the app."""
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)
    context = browser.new_context(base_url=app_url, viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


# Controls with no accessible name: inputs without a label, buttons and links without text.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, a')]
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName)) return el.labels.length === 0;
    return el.textContent.trim() === '';
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def shot(page: Any, name: str) -> Path:
    """Check every control is labelled, then save a full-page screenshot under
    .tools/screenshots/ (the README copies two)."""
    unlabelled = page.evaluate(UNLABELLED)
    assert not unlabelled, f"controls without a label on {name}: {unlabelled}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, email: str) -> None:
    """Sign in through the sign-in form and wait for the app shell."""
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the form's default button: Sign in
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def nav(page: Any, name: str) -> None:
    """Go to a page through the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
