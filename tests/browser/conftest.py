"""Headless Chromium (Playwright, sync API) against pytest-django's live server.

Every test in this directory gets the ``browser`` marker.  Without
``/usr/bin/chromium`` they are deselected with a note in the summary, unless
``REQUIRE_BROWSER_TESTS=1`` (set in CI), in which case the run stops with an error.
"""

import os
import re
from pathlib import Path

import pytest

from communities.tests.conftest import world  # noqa: F401  (the shared data set)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 10_000

BROWSER_TESTS_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = BROWSER_TESTS_DIR.parents[1] / "artifacts" / "screenshots"
MISSING_MESSAGE = (
    f"浏览器测试未运行：未找到 {CHROMIUM}（apt-get install chromium fonts-wqy-microhei 后即可运行）"
)
_deselected_key = pytest.StashKey[int]()


def chromium_available(path=CHROMIUM):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def browser_tests_required(environ=os.environ):
    return environ.get("REQUIRE_BROWSER_TESTS") == "1"


def is_browser_test(item):
    return BROWSER_TESTS_DIR in Path(item.path).resolve().parents


def split_browser_items(items, *, chromium_found, required):
    """``(kept, deselected)``; raises ``pytest.UsageError`` if a browser is required but missing."""
    browser_items = [item for item in items if is_browser_test(item)]
    if chromium_found or not browser_items:
        return list(items), []
    if required:
        raise pytest.UsageError(
            f"REQUIRE_BROWSER_TESTS=1，但未找到 {CHROMIUM}，{len(browser_items)} 个浏览器测试无法运行。"
            "请先 apt-get install chromium fonts-wqy-microhei。"
        )
    return [item for item in items if item not in browser_items], browser_items


@pytest.hookimpl(tryfirst=True)  # before -m/-k selection, so that -m "not browser" works
def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_browser_test(item):
            item.add_marker(pytest.mark.browser)
    kept, deselected = split_browser_items(
        items, chromium_found=chromium_available(), required=browser_tests_required()
    )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
        config.stash[_deselected_key] = len(deselected)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left_out = config.stash.get(_deselected_key, 0)
    if left_out:
        terminalreporter.write_line(f"{MISSING_MESSAGE}；{left_out} 个测试未运行。", yellow=True)


# --- browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright_instance():
    """Playwright, for one test module at a time.

    Its sync API keeps an asyncio loop running in the test thread, and Django
    refuses ORM calls from a thread with a running loop (fixtures, database
    assertions, the flush after each test) unless DJANGO_ALLOW_ASYNC_UNSAFE is
    set.  Both live exactly as long as the module's tests: a process-wide
    variable would leak into subprocesses such as ``manage.py check --deploy``
    (tests/test_deploy_settings.py), and a loop left running would break ORM
    calls in whatever test module runs next.
    """
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance):
    if not chromium_available():
        pytest.fail(MISSING_MESSAGE, pytrace=False)
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


#: A phone's screen (CSS pixels).
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser):
    """``page`` on a phone: ``PHONE`` wide, touch, Chinese, with the same checks."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield from _watched_page(context)
    context.close()


@pytest.fixture
def page(context):
    """A fresh tab; fails the test if a static file is missing, a script throws or the CSP blocks anything."""
    yield from _watched_page(context)


def _watched_page(context):
    """A new tab of ``context``, yielded; then fails if anything went wrong in it."""
    page = context.new_page()
    problems = []
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/static/" in r.url
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    # Chromium reports every resource, script or style the CSP blocks on the console.
    page.on(
        "console",
        lambda m: (
            problems.append(f"CSP: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    yield page
    assert not problems, "page problems:\n" + "\n".join(problems)


# --- helpers for the tests ---------------------------------------------------


def login(page, live_server, user):
    """Log ``user`` in through the real login form; ends on the admin index."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(user.plain_password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    error = page.locator(".errornote")
    if error.count():
        pytest.fail(f"{user.username} 登录失败：{error.inner_text()}", pytrace=False)
    page.wait_for_url(re.compile(r"/admin/$"))


def shot(page, name):
    """Full-page screenshot to ``artifacts/screenshots/<name>.png``."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
