"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def assert_accessible(page: Page) -> None:
    """Zero axe-core violations on the page as it stands."""
    results = Axe().run(page)
    violations = results.response["violations"]
    details = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )
    assert not violations, f"axe found {len(violations)} violation(s) on {page.url}:\n{details}"


def enter_totp(page: Page) -> None:
    """Type the current authenticator code; if the 30-second window turned over meanwhile, once more."""
    import time

    from conftest import totp_code

    for _ in range(2):
        page.get_by_label("Code").fill(totp_code())
        page.locator("main").get_by_role("button", name="Sign In").click()
        page.wait_for_load_state()
        if "/accounts/2fa/authenticate" not in page.url:
            return
        time.sleep(31 - time.time() % 30)  # wait for the next code
    raise AssertionError("The authenticator code was refused twice.")


def signed_in(
    browser: Browser, base_url: str, email: str, with_totp: bool = False, timeout: int = 10_000
) -> Page:
    """A fresh browser context signed in as `email` (staff: with the current two-factor code)."""
    import re

    from playwright.sync_api import expect

    from conftest import PASSWORD

    page = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(timeout)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign In").click()
    if with_totp:
        enter_totp(page)
    expect(page).not_to_have_url(re.compile(r"/accounts/(login|2fa)/"))
    return page
