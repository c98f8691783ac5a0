"""Benchmark of the web client (scripts/bench-web), run under the emulators.

1. JavaScript the first screen (sign-in) loads, gzip, as Chromium requested it; and the
   whole bundle in web/dist, gzip.
2. Time from clicking "Sign in" to the drift table on screen, for the seeded demo user on
   the local stack, in Chromium (median of several runs after one warm-up).
"""

from __future__ import annotations

import gzip
import os
import statistics
import time
from pathlib import Path
from typing import Any

from devstack.broker import PaperBroker
from devstack.firebase import Stack
from devstack.seed import seed_demo
from devstack.web import CHROMIUM, CHROMIUM_ARGS, ROOT, app_url

DIST = ROOT / "web" / "dist"
RUNS = int(os.environ.get("BENCH_WEB_RUNS", "5"))
PASSWORD = "password-123"


def gzip_size(path: Path) -> int:
    """Bytes of the file compressed as a static host would serve it (gzip -9)."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def kib(size: int) -> str:
    return f"{size / 1024:.1f} KiB"


def first_screen_js(browser: Any, url: str) -> list[Path]:
    """The JavaScript files Chromium loaded to show the sign-in screen."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(url)
    page.get_by_role("heading", name="Sign in or create an account").wait_for()
    names: list[str] = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.js'))"
    )
    context.close()
    return [DIST / name.split("/", 3)[3] for name in names]


def sign_in_to_drift_table(browser: Any, url: str, email: str) -> float:
    """Seconds from the click on "Sign in" to the drift table visible."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("drift-table").wait_for(state="visible")
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} is missing: run scripts/bootstrap")
    stack = Stack.discover()
    url = app_url()
    broker = PaperBroker.start()
    try:
        demo = seed_demo(stack, broker, f"bench-web-{os.getpid()}@example.com")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            first = first_screen_js(browser, url)
            warm_up = sign_in_to_drift_table(browser, url, demo.user.email)
            runs = [sign_in_to_drift_table(browser, url, demo.user.email) for _ in range(RUNS)]
            browser.close()
    finally:
        broker.stop()

    every_js = sorted((DIST / "assets").glob("*.js"))
    every_css = sorted((DIST / "assets").glob("*.css"))
    first_gz = sum(gzip_size(p) for p in first)
    all_gz = sum(gzip_size(p) for p in every_js)
    css_gz = sum(gzip_size(p) for p in every_css)
    print("web client benchmark (web/dist, Chromium on the local stack)")
    print(f"  first screen (sign-in) JavaScript: {kib(first_gz)} gzip in {len(first)} files")
    for path in first:
        print(f"    {path.name:40} {kib(gzip_size(path)):>10}")
    print(f"  whole bundle: {kib(all_gz)} gzip JavaScript in {len(every_js)} files,", end=" ")
    print(f"CSS {kib(css_gz)}")
    shown = ", ".join(f"{r:.2f}" for r in runs)
    median = statistics.median(runs)
    print(f"  sign-in -> drift table: median {median:.2f} s of {RUNS} runs ({shown});")
    print(f"    first run after the stack started (cold functions): {warm_up:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
