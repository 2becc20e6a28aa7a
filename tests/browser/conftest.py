"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's live_server.

Playwright runs an event loop in the test thread, which makes Django's async-safety check
refuse ORM calls from it; the live server and the test share nothing async, so allow them.
"""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true: {message}; .ci/run installs it")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shots():
    """Save a full-page screenshot when SHUJIAO_SHOTS names a directory (development aid)."""
    directory = os.environ.get("SHUJIAO_SHOTS")

    def _shot(page, name: str) -> None:
        if directory:
            os.makedirs(directory, exist_ok=True)
            page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=True)

    return _shot
