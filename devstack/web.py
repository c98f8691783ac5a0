"""The web client in a browser: where Chromium is and how it starts (tests and bench-web)."""

from __future__ import annotations

from pathlib import Path

from devstack.firebase import emulator_hosts

ROOT = Path(__file__).resolve().parents[1]
# Debian's package (scripts/bootstrap installs it); Playwright cannot download browsers here.
CHROMIUM = "/usr/bin/chromium"
# Headless, and none of Chromium's own network traffic (this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / ".tools" / "screenshots"


def app_url() -> str:
    """The web client's URL: the Hosting emulator, which serves web/dist."""
    hosting = emulator_hosts().get("hosting")
    return f"http://{hosting}/" if hosting else "(the Hosting emulator is not running)"
