"""The admin in a real browser: a community worker's day and a county official's view.

Runs headless Chromium against the live server (see conftest.py) and leaves
screenshots in ``artifacts/screenshots/``.
"""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from communities import enums
from communities.models import Household
from communities.validators import check_digit
from tests.browser import conftest as browser_conftest
from tests.browser.conftest import login, shot

# A full ID number / mobile not next to another digit or a mask star.
ID_RE = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
MOBILE_RE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
SITE_HEADER = "易地扶贫搬迁后续扶持社区管理系统"

# Latin words in the text a user can see (usernames are data, not interface).
VISIBLE_LATIN_WORDS_JS = """() => {
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, select, .visually-hidden, #user-tools strong')) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;  // visually hidden
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    for (const match of node.textContent.matchAll(/[A-Za-z]{2,}/g)) words.push(match[0]);
  }
  return words;
}"""


def url(live_server, path):
    return f"{live_server.url}{path}"


def household_change(live_server, household):
    return url(live_server, f"/admin/communities/household/{household.pk}/change/")


def assert_styled(page):
    """The admin's and the project's style sheets loaded and apply."""
    sheets = dict(
        page.evaluate(
            "() => [...document.styleSheets].filter(s => s.href)"
            ".map(s => [new URL(s.href).pathname, s.cssRules.length])"
        )
    )
    assert sheets.get("/static/admin/css/base.css", 0) > 0, sheets
    assert sheets.get("/static/relocation/admin.css", 0) > 0, sheets
    header = page.evaluate("getComputedStyle(document.getElementById('header')).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")
    assert "WenQuanYi Micro Hei" in page.evaluate("getComputedStyle(document.body).fontFamily")


def assert_chinese_only(page):
    assert page.evaluate(VISIBLE_LATIN_WORDS_JS) == []


def assert_no_personal_numbers(page):
    """No full ID number or mobile, neither in the visible text nor in the HTML."""
    for text in (page.locator("body").inner_text(), page.content()):
        assert ID_RE.findall(text) == []
        assert MOBILE_RE.findall(text) == []


def masked_id(id_number):
    return id_number[:6] + "********" + id_number[-4:]


def resident_id(birth_date, order, *, wrong_check_digit=False):
    """A 兴义市 ID number; an odd ``order`` is a man, an even one a woman."""
    first17 = f"522301{birth_date:%Y%m%d}{order:03d}"
    digit = check_digit(first17)
    if wrong_check_digit:
        digit = "0" if digit != "0" else "1"
    return first17 + digit


def select2_choose(page, field_id, term, choice):
    """Pick ``choice`` in the admin's autocomplete widget for ``field_id``."""
    page.locator(f".select2-selection:has(#select2-{field_id}-container)").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(term)
    page.locator(".select2-results__option", has_text=choice).click()
    expect(page.locator(f"#select2-{field_id}-container")).to_contain_text(choice)


# --- community worker (阳光新区 only) -------------------------------------------


def test_worker_logs_in_through_chinese_login_page(transactional_db, live_server, world, page):
    # The pages name their icon (a static file): the browser does not ask Django for
    # /favicon.ico, whose 404 ran beside the next request and, on SQLite, shared its
    # connection (a lost savepoint turned a form's error into a server error).
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(url(live_server, "/admin/login/"))
    expect(page.locator("#site-name")).to_have_text(SITE_HEADER)
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_label("密码")).to_be_visible()
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    assert_styled(page)
    assert_chinese_only(page)

    login(page, live_server, world.worker)

    expect(page.locator("#site-name")).to_have_text(SITE_HEADER)
    expect(page).to_have_title(re.compile("搬迁社区管理"))
    expect(page.locator("#content h1")).to_have_text("工作台")
    expect(page.get_by_role("link", name="搬迁户", exact=True).first).to_be_visible()
    assert_styled(page)
    assert_chinese_only(page)
    shot(page, "01-index")
    page.wait_for_timeout(300)
    assert not [u for u in asked if u.endswith("/favicon.ico")], asked
    icons = [u for u in asked if u.endswith("/relocation/favicon.svg")]
    assert icons and page.request.get(icons[0]).status == 200


def test_worker_household_list_is_scoped_and_masked(transactional_db, live_server, world, page):
    login(page, live_server, world.worker)
    page.goto(url(live_server, "/admin/communities/household/"))

    results = page.locator("#result_list")
    expect(results).to_contain_text("522301000001")
    expect(results).to_contain_text("户主A")
    # The worker may see personal data: the phone to call is in clear (read-audited);
    # no ID number is.  Officials see it masked (test_county_official_…).
    expect(results.locator("td.field-phone")).to_have_text("13800000001")
    body = page.locator("body").inner_text()
    assert "522301000002" not in body
    assert "520201000001" not in body
    assert "000000000009" not in body
    assert ID_RE.findall(page.content()) == []

    sidebar = page.locator("#changelist-filter")
    expect(sidebar).to_contain_text("搬迁年度")
    expect(sidebar).not_to_contain_text("栗坪安置点")
    expect(sidebar).not_to_contain_text("德坞新区")
    # With a single settlement in scope the admin may leave the filter out;
    # when it is there, it offers that settlement only.
    settlement_filter = sidebar.locator('details[data-filter-title="安置点"]')
    if settlement_filter.count():
        expect(settlement_filter.locator("li")).to_have_text(["全部", "阳光新区"])
    assert_styled(page)
    assert_chinese_only(page)
    shot(page, "02-household-list")


def test_worker_finds_household_by_full_id_number(transactional_db, live_server, world, page):
    login(page, live_server, world.worker)
    page.goto(url(live_server, "/admin/communities/household/"))

    page.locator("#searchbar").fill(world.heads["a"].id_number)
    page.locator("#searchbar").press("Enter")

    page.wait_for_url(re.compile(r"[?&]q="))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("522301000001")
    expect(rows.first).to_contain_text("户主A")
    assert_chinese_only(page)
    shot(page, "03-search")


def test_worker_adds_household_with_members_on_one_screen(
    transactional_db, live_server, world, page
):
    head_born, child_born = datetime.date(1978, 5, 12), datetime.date(2014, 3, 15)
    head_id = resident_id(head_born, 13)
    child_id = resident_id(child_born, 24)
    wrong_child_id = resident_id(child_born, 24, wrong_check_digit=True)

    login(page, live_server, world.worker)
    page.goto(url(live_server, "/admin/communities/household/"))
    page.get_by_role("link", name=re.compile(r"^增加\s*搬迁户$")).click()
    expect(page.locator("#content h1")).to_have_text(re.compile(r"增加\s*搬迁户"))

    page.get_by_label("户编号").fill("522301000101")
    select2_choose(page, "id_settlement", "阳光", "阳光新区")
    page.get_by_label("搬迁年度").fill("2018")

    head = {
        "name": "王大山",
        "id_number": head_id,
        "relationship": "户主",
        "ethnicity": "苗族",
        "education": "初中",
        "labour_ability": "普通劳动力",
        "phone": "13885901234",
    }
    child = {
        "name": "王小花",
        "id_number": wrong_child_id,
        "relationship": "女",
        "ethnicity": "苗族",
        "education": "小学",
        "labour_ability": "无劳动力",
        "school_stage": "小学",
    }
    for row, values in enumerate((head, child)):
        for field, value in values.items():
            widget = page.locator(f'[name="members-{row}-{field}"]')
            if field in ("name", "id_number", "phone"):
                widget.fill(value)
            else:
                widget.select_option(label=value)

    save = page.get_by_role("button", name="保存", exact=True)
    save.click()

    # The wrong check digit comes back in Chinese, next to the child's ID number.
    expect(page.locator(".errornote")).to_be_visible()
    child_error = page.locator("#members-1 .field-id_number .errorlist")
    expect(child_error).to_be_visible()
    expect(child_error).to_contain_text("身份证号有误（校验码不符），请对照身份证逐位核对")
    expect(child_error).not_to_contain_text("应为")
    expect(page.get_by_text("校验码不符")).to_be_visible()
    # Nothing typed is lost, the autocomplete choice included.
    expect(page.locator("#select2-id_settlement-container")).to_contain_text("阳光新区")
    expect(page.locator('[name="members-0-id_number"]')).to_have_value(head_id)
    assert not Household.objects.filter(number="522301000101").exists()
    assert_chinese_only(page)
    shot(page, "04-form-error")

    page.locator('[name="members-1-id_number"]').fill(child_id)
    page.get_by_role("button", name="保存", exact=True).click()

    success = page.locator(".messagelist .success")
    expect(success).to_contain_text("522301000101")
    expect(success).to_contain_text("成功添加")
    expect(page.locator("#result_list")).to_contain_text("王大山")
    assert_chinese_only(page)
    shot(page, "05-household-saved")

    household = Household.objects.get(number="522301000101")
    assert household.settlement == world.a
    assert household.relocation_year == 2018
    members = {p.name: p for p in household.members.all()}
    assert set(members) == {"王大山", "王小花"}
    father, daughter = members["王大山"], members["王小花"]
    assert (father.id_number, father.birth_date, father.sex) == (head_id, head_born, "M")
    assert father.relationship == enums.Relationship.HEAD
    assert father.ethnicity == enums.Ethnicity.MIAO
    assert (daughter.id_number, daughter.birth_date, daughter.sex) == (child_id, child_born, "F")
    assert daughter.relationship == enums.Relationship.DAUGHTER
    assert daughter.school_stage == enums.SchoolStage.PRIMARY

    # 5. The new household's change form, members included.
    success.get_by_role("link", name="522301000101").click()
    page.wait_for_url(re.compile(rf"/admin/communities/household/{household.pk}/change/$"))
    expect(page.locator("#content h1")).to_have_text(re.compile(r"修改\s*搬迁户"))
    expect(page.locator("#id_number")).to_have_value("522301000101")
    expect(page.locator('[name="members-0-name"]')).to_have_value("王大山")
    expect(page.locator('[name="members-1-name"]')).to_have_value("王小花")
    expect(page.locator('[name="members-1-school_stage"]')).to_have_value("primary")
    assert_styled(page)
    assert_chinese_only(page)
    shot(page, "06-household-form")


def test_members_inline_fits_a_1366px_screen(transactional_db, live_server, world, page):
    login(page, live_server, world.worker)
    page.goto(url(live_server, "/admin/communities/household/add/"))
    widths = page.evaluate(
        """() => ({
          page: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          table: document.querySelector('.inline-group .tabular table').scrollWidth,
        })"""
    )
    assert widths["page"] <= widths["viewport"], widths


# --- county official (兴义市, read-only, no personal data) -----------------------


def test_county_official_reads_households_without_personal_data(
    transactional_db, live_server, world, page
):
    login(page, live_server, world.county)
    page.goto(url(live_server, "/admin/communities/household/"))
    results = page.locator("#result_list")
    expect(results).to_contain_text("522301000001")
    expect(results).to_contain_text("522301000002")
    expect(results).not_to_contain_text("520201000001")
    expect(page.get_by_role("link", name=re.compile("增加"))).to_have_count(0)
    assert_no_personal_numbers(page)

    page.goto(household_change(live_server, world.households["a"]))
    expect(page.locator("#content h1")).to_have_text(re.compile(r"查看\s*搬迁户"))
    form = page.locator("#household_form")
    expect(form.locator("input:not([type=hidden], [type=submit]), select, textarea")).to_have_count(
        0
    )
    expect(page.get_by_role("button", name=re.compile("保存"))).to_have_count(0)
    expect(form.locator(".field-number .readonly")).to_have_text("522301000001")
    expect(form.locator(".field-phone_masked .readonly")).to_have_text("138****0001")
    expect(form).to_contain_text("户主A")
    expect(form).to_contain_text(masked_id(world.heads["a"].id_number))
    assert_no_personal_numbers(page)
    assert_styled(page)
    assert_chinese_only(page)
    shot(page, "07-county-readonly")

    # Another county's household: the same 404 as a record that does not exist.
    response = page.goto(household_change(live_server, world.households["c"]))
    assert response.status == 404
    body = page.content()
    assert "520201000001" not in body and "德坞新区" not in body
    shot(page, "07b-county-other-county-404")


def test_county_official_person_list_hides_health_and_masks_ids(
    transactional_db, live_server, world, page
):
    login(page, live_server, world.county)
    page.goto(url(live_server, "/admin/communities/person/"))

    header = page.locator("#result_list thead")
    expect(header).to_contain_text("身份证号")
    expect(header).not_to_contain_text("健康状况")
    expect(page.locator("#changelist-filter")).not_to_contain_text("健康状况")
    results = page.locator("#result_list")
    expect(results).to_contain_text("户主A")
    expect(results).to_contain_text("户主B")
    expect(results).not_to_contain_text("户主C")
    expect(results).to_contain_text(masked_id(world.heads["a"].id_number))
    expect(results).to_contain_text(masked_id(world.heads["b"].id_number))
    assert_no_personal_numbers(page)
    assert_styled(page)
    assert_chinese_only(page)
    shot(page, "08-person-list-official")


# --- the conftest's choice when Chromium is missing ----------------------------


def _items():
    here = Path(browser_conftest.__file__).parent
    return [
        SimpleNamespace(path=here / "test_admin_browser.py"),
        SimpleNamespace(path=here.parents[1] / "communities" / "tests" / "test_models.py"),
    ]


def test_missing_chromium_deselects_browser_tests_only():
    items = _items()
    kept, left_out = browser_conftest.split_browser_items(
        items, chromium_found=False, required=False
    )
    assert kept == items[1:] and left_out == items[:1]
    kept, left_out = browser_conftest.split_browser_items(items, chromium_found=True, required=True)
    assert kept == items and left_out == []


def test_missing_chromium_is_an_error_when_required():
    with pytest.raises(pytest.UsageError, match="REQUIRE_BROWSER_TESTS=1"):
        browser_conftest.split_browser_items(_items(), chromium_found=False, required=True)
    # Nothing to run in a browser: nothing to complain about.
    assert browser_conftest.split_browser_items(
        _items()[1:], chromium_found=False, required=True
    ) == (_items()[1:], [])
    assert browser_conftest.browser_tests_required({"REQUIRE_BROWSER_TESTS": "1"})
    assert not browser_conftest.browser_tests_required({})
    assert not browser_conftest.chromium_available("/nonexistent/chromium")
