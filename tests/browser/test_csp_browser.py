"""Every main screen under the Content Security Policy, in a real browser: zero violations.

Chromium writes each script, style, image or request the policy blocks to the
console ("Refused to … because it violates the following Content Security
Policy directive …"); these tests collect those messages screen by screen and
also use what used to be inline code (language menu, drop-down filters, print
button, chart tooltips, import progress polling) to prove it still works.
"""

import re

import pytest
from playwright.sync_api import expect

from communities.roles import Role
from relocation.dashboards import engine
from relocation.dashboards.periods import PeriodKind, period_containing
from relocation.dashboards.tests.conftest import dash  # noqa: F401  (the hand-made world)
from relocation.spreadsheets.models import ImportJob, JobState
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.django_db(transaction=True)


def watch(page):
    """The CSP messages the page logs from now on (a list that keeps filling)."""
    seen = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


def brief(seen):
    return [message[:160] for message in seen[:3]]


def visit(page, seen, url, screen):
    seen.clear()
    response = page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # late scripts (ECharts, select2) run and report
    assert response.headers.get("content-security-policy"), f"{screen}: no CSP header"
    assert seen == [], f"{screen}: {brief(seen)}"
    return response


@pytest.fixture
def figures(dash):  # noqa: F811
    previous = period_containing(PeriodKind.MONTH, dash.today).previous()
    engine.store_period(previous, previous.end)
    engine.refresh_live(full=True)
    return dash


def test_the_browser_enforces_the_policy(live_server, context):
    """The detector works: an inline script is refused and reported on the console."""
    page = context.new_page()
    seen = watch(page)
    page.goto(f"{live_server.url}/admin/login/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.inlineRan = true'; document.head.appendChild(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.inlineRan === undefined")
    assert any("script-src" in message for message in seen), seen
    page.close()


def test_admin_screens_have_no_violations(live_server, page, figures):
    seen = watch(page)
    h1, p2 = figures.h1, figures.p2
    visit(page, seen, f"{live_server.url}/admin/login/?next=/admin/", "login")
    login(page, live_server, figures.admin)
    assert seen == [], brief(seen)
    screens = {
        "admin index": "/admin/",
        "household list": "/admin/communities/household/",
        "household change": f"/admin/communities/household/{h1.pk}/change/",
        "household add": "/admin/communities/household/add/",
        "household history": f"/admin/communities/household/{h1.pk}/history/",
        "household export": "/admin/communities/household/export/",
        "person list": "/admin/communities/person/",
        "person change": f"/admin/communities/person/{p2.pk}/change/",
        "person history": f"/admin/communities/person/{p2.pk}/history/",
        "work lists": "/admin/worklists/",
        "settlement change": f"/admin/communities/settlement/{figures.s1.pk}/change/",
        "not found": "/admin/communities/household/999999999/change/",
    }
    for screen, path in screens.items():
        visit(page, seen, f"{live_server.url}{path}", screen)
        if screen == "household change":
            # Autocomplete (select2 builds its markup from HTML strings).
            page.locator(".select2-selection").first.click()
            page.wait_for_timeout(300)
            page.keyboard.press("Escape")
            assert seen == [], f"{screen} (autocomplete): {brief(seen)}"
            shot(page, "csp-household-change")

    # The drop-down filter navigates without its old onchange= attribute.
    visit(page, seen, f"{live_server.url}/admin/communities/person/", "person list")
    select = page.locator('details[data-filter-title="与户主关系"] select')
    with page.expect_navigation():
        select.select_option(label="配偶")
    assert "relationship__exact=spouse" in page.url
    expect(page.locator("#result_list")).to_contain_text("配偶一")
    expect(page.locator("#result_list")).not_to_contain_text("户主一")

    # The language menu submits itself without its old onchange= attribute.
    with page.expect_navigation():
        page.locator("#language-select").select_option("en")
    expect(page.locator("#language-select")).to_have_value("en")
    with page.expect_navigation():
        page.locator("#language-select").select_option("zh-hans")
    expect(page.locator("#language-select")).to_have_value("zh-hans")
    assert seen == [], brief(seen)


def test_dashboards_at_every_level_have_no_violations(live_server, page, figures):
    seen = watch(page)
    official = figures.make_user(
        Role.PREFECTURE_OFFICIAL, regions=[figures.regions.guizhou], username="province"
    )
    login(page, live_server, official)
    levels = {
        "province": "/dashboard/520000/",
        "prefecture": "/dashboard/522300/",
        "county": "/dashboard/522301/",
        "township": "/dashboard/522301001/",
        "settlement": f"/dashboard/settlement/{figures.s1.pk}/",
        "county, quarter": "/dashboard/522301/?kind=quarter",
    }
    for screen, path in levels.items():
        visit(page, seen, f"{live_server.url}{path}", screen)
        expect(page.locator(".dash-chart canvas").first).to_be_visible()
        # Chart tooltips are drawn on the canvas, not as HTML with style attributes.
        for canvas in page.locator(".dash-chart canvas").all():
            canvas.hover()
            page.wait_for_timeout(80)
        if screen == "county":
            page.locator('.dash-chart[data-chart="childRates"] canvas').hover()
            page.wait_for_timeout(150)
            shot(page, "csp-dashboard-tooltip")
        assert seen == [], f"{screen} (tooltips): {brief(seen)}"

    # The period picker and the print button work without inline code.
    page.goto(f"{live_server.url}/dashboard/522301/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.locator("button[data-print]").click()
    assert page.evaluate("window.printed") == 1
    page.locator("#dash-kind").select_option("year")
    with page.expect_navigation():
        page.get_by_role("button", name="查看").click()
    assert "kind=year" in page.url
    shot(page, "csp-dashboard-county")
    assert seen == [], brief(seen)


def test_import_screens_have_no_violations(live_server, page, figures, tmp_path):
    seen = watch(page)
    manager = figures.make_user(
        Role.ADMINISTRATOR, regions=[figures.regions.xingyi], username="manager"
    )
    login(page, live_server, manager)
    visit(page, seen, f"{live_server.url}/admin/imports/", "import index")

    # Upload: a file without the kind's columns is previewed with its errors.
    bad = tmp_path / "安置点.csv"
    bad.write_text("名称,备注\n甲,乙\n", encoding="utf-8")
    page.get_by_label("文件类型").select_option("settlement")
    page.get_by_label("文件", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#job-state")).to_have_text("有错误，未导入")
    assert seen == [], f"import preview: {brief(seen)}"

    # Progress: the page polls the job (fetch, connect-src) and reloads when it is done.
    job = ImportJob.objects.create(
        kind="settlement",
        user=manager,
        file_name="安置点-大文件.xlsx",
        file_sha256="0" * 64,
        file_size=300_000,
        file_format="xlsx",
        background=True,
        state=JobState.VALIDATING,
        progress=40,
        phase="检查第 2000 行",
    )
    visit(page, seen, f"{live_server.url}/admin/imports/{job.pk}/", "import progress")
    expect(page.locator("#job-progress")).to_be_visible()
    with page.expect_response(re.compile(rf"/admin/imports/{job.pk}/progress/$")):
        pass
    ImportJob.objects.filter(pk=job.pk).update(
        state=JobState.READY, progress=100, total_rows=2000, new_rows=2000
    )
    expect(page.locator("#job-state")).to_have_text("检查通过，待确认", timeout=10_000)
    expect(page.locator("#count-new")).to_have_text("2000")
    shot(page, "csp-import-ready")
    assert seen == [], f"import progress: {brief(seen)}"


def test_every_admin_list_and_form_and_their_widgets(live_server, page, figures):
    """Every registered model's list and add form as a superuser, and the admin's own
    widgets (calendar, two-box selector, add-a-row, related-object pop-up)."""
    from django.contrib import admin

    seen = watch(page)
    login(page, live_server, figures.admin)
    models = sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name))
    assert len(models) >= 15
    for model in models:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        visit(page, seen, f"{live_server.url}{base}", f"{base} list")
        visit(page, seen, f"{live_server.url}{base}add/", f"{base} add")

    # The calendar of a date field, and a new row in a members table.
    visit(page, seen, f"{live_server.url}/admin/communities/household/add/", "household add")
    page.locator("#id_moved_in_date + .datetimeshortcuts a").last.click()
    expect(page.locator(".calendarbox").first).to_be_visible()
    page.locator(".calendarbox .calendarnav-next").first.click()
    page.keyboard.press("Escape")
    rows = page.locator("#members-group tbody tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator("#members-group .add-row a").click()
    expect(rows).to_have_count(before + 1)
    assert seen == [], f"calendar / add row: {brief(seen)}"

    # The two-box group and permission selector of the user form.
    visit(page, seen, f"{live_server.url}/admin/auth/user/{figures.admin.pk}/change/", "user")
    expect(page.locator(".selector").first).to_be_visible()
    page.locator("#id_user_permissions_input").fill("户")
    page.wait_for_timeout(100)
    assert seen == [], f"user form: {brief(seen)}"

    # A related-object pop-up (the "+" next to a foreign key); messages of every tab.
    popup_seen = []
    page.context.on(
        "console",
        lambda m: popup_seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    visit(page, seen, f"{live_server.url}/admin/communities/building/add/", "building add")
    with page.expect_popup() as info:
        page.locator("#add_id_settlement").click()
    popup = info.value
    popup.wait_for_load_state("load")
    expect(popup.locator("#settlement_form")).to_be_visible()
    popup.wait_for_timeout(150)
    assert "_popup=1" in popup.url
    assert popup_seen == [], f"pop-up: {brief(popup_seen)}"
    assert seen == [], brief(seen)


def test_an_expired_form_answers_a_chinese_page_without_violations(live_server, page, context):
    seen = watch(page)
    page.goto(f"{live_server.url}/admin/login/")
    context.clear_cookies()  # as after a long pause: the form's CSRF cookie is gone
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("nothing-at-all")
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("请求未被接受")
    assert page.evaluate("getComputedStyle(document.body).marginTop") != "8px"  # error.css
    shot(page, "csp-csrf-failure")
    assert seen == [], brief(seen)
