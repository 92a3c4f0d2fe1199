"""Headless Debian Chromium for the browser tests and benchmarks (Playwright drives it)."""

import contextlib
import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# measure(stream), window.heard and window.maxLevel: when a page hears the remote voice
# (add it with add_init_script(path=HEARD_SCRIPT) before the page loads).
HEARD_SCRIPT = Path(__file__).with_name("heard.js")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def _patient_expectations():
    # Voice turns take seconds (end of speech, recognition, an answer): wait for them.
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)


@contextlib.contextmanager
def playwright_session():
    """Playwright's sync API, for launching one or more browsers in this thread."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse the (really synchronous) ORM calls the tests make; the check does not apply here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _patient_expectations()
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def launch(playwright, *extra_args, exclude=()):
    """Launch headless Debian Chromium (no browser download); `exclude` drops default flags
    (e.g. the fake microphone consent)."""
    args = [*(a for a in CHROMIUM_ARGS if a not in exclude), *extra_args]
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


@contextlib.contextmanager
def chromium(*extra_args, exclude=()):
    """One headless Chromium, with Playwright around it."""
    with playwright_session() as playwright:
        browser = launch(playwright, *extra_args, exclude=exclude)
        yield browser
        browser.close()


def log_in(page, server_url: str, username: str, password: str = "pw-12345!") -> None:
    """Log a browser page in through the login form."""
    page.goto(f"{server_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=button-login]")
    page.wait_for_url(f"{server_url}/editor/")


def close_settled(context, timeout_ms: int = 15_000) -> None:
    """End any voice call in the context's pages, wait until their transcript outboxes are
    empty (the server has stored everything), then close the context. A test's database is
    flushed right after it ends: a server still writing the log would deadlock with that
    flush on PostgreSQL."""
    from playwright.sync_api import Error

    for page in context.pages:
        try:
            page.evaluate("() => window.mrblueVoice && window.mrblueVoice.end()")
            page.wait_for_function(
                "() => !Object.keys(localStorage).some((k) => k.startsWith('mrblue-outbox-'))",
                timeout=timeout_ms,
            )
        except Error:
            pass  # a page whose server is gone, or that never logged: nothing to wait for
    context.close()
