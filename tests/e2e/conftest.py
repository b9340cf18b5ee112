"""Real-browser tests: Debian's Chromium driven by Playwright against a live server of
the portal (PostgreSQL in CI). Every page fails its test on a console error."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The machine has no internet: without these flags Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API keeps an event loop in this thread while the browser is open,
    and Django then refuses ORM calls (the database flush between tests included); the
    ones made here are synchronous and safe. Set for as long as the browser lives, and
    gone after: check --deploy rightly rejects the variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = (
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium): browser tests cannot run."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageFactory:
    """Opens pages on the live server and remembers every console error they log."""

    def __init__(self, browser, base_url):
        self.browser, self.base_url, self.errors, self.contexts = browser, base_url, [], []
        self.expected = []

    def expect_console_error(self, text):
        """A page a test opens on purpose may answer 404 or 410: Chromium logs that."""
        self.expected.append(text)

    def unexpected_errors(self):
        return [error for error in self.errors if not any(text in error for text in self.expected)]

    def __call__(self, viewport=DESKTOP):
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport, accept_downloads=True)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def new_page(browser, live_server, transactional_db):
    pages = PageFactory(browser, live_server.url)
    yield pages
    pages.close()
    assert pages.unexpected_errors() == [], f"The browser logged errors: {pages.unexpected_errors()}"


def sign_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
