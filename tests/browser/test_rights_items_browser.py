"""A county official reads 权益事项落实情况 on the county dashboard (issue 11), at desktop
and phone width, and follows a figure to the households behind it."""

import re

import pytest
from playwright.sync_api import expect

from communities.roles import Role
from relocation.dashboards import engine
from services.models import RightsItem
from services.tests.test_protection_indicators import protection_world  # noqa: F401
from tests.browser.conftest import SCREENSHOT_DIR, login, shot

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def rights_world(transactional_db, protection_world):  # noqa: F811
    w = protection_world
    # Nobody has this one yet: two households of 兴义市 open, 0 %.
    RightsItem.objects.create(category=w["destination"], name="就业登记", order=2)
    engine.refresh_live(full=True)
    return w


def test_county_official_reads_rights_per_item(live_server, rights_world, make_user, page):
    w = rights_world
    official = make_user(Role.COUNTY_OFFICIAL, regions=[w["rt"].xingyi], username="county-rights")
    login(page, live_server, official)
    page.goto(f"{live_server.url}/dashboard/522301/")
    services = page.locator("section.dash-section", has=page.locator("h2", has_text="服务保障"))
    table = services.locator('[data-table="rights_items"]')
    expect(table.locator("caption")).to_have_text("权益事项落实情况")
    expect(table.locator("tr.dash-group").first).to_have_text("原籍权益（迁出地）")
    jobs = table.locator("tr", has=page.locator("th", has_text="就业登记"))
    expect(jobs.locator("td")).to_have_text(["2", "0", "2", "0.00%"])
    # Today h1's 医保转移接续 (recorded the day after D) counts: both households.
    medical = table.locator("tr", has=page.locator("th", has_text="医保转移接续"))
    expect(medical.locator("td")).to_have_text(["2", "2", "0", "100.00%"])
    forest = table.locator("tr", has=page.locator("th", has_text="林地"))
    expect(forest.locator("td")).to_have_text(["1", "1", "0", "100.00%"])  # h1: not applicable
    assert table.locator("tbody th[scope=row]").all_inner_texts() == [
        "承包地",
        "林地",
        "医保转移接续",
        "就业登记",
    ]  # the inactive item and 云南's are not listed
    # On paper too (the print layout hides the pickers, not the section's tables).
    page.emulate_media(media="print")
    expect(table.locator("table")).to_be_visible()
    expect(jobs.locator("td")).to_have_text(["2", "0", "2", "0.00%"])
    page.emulate_media(media="screen")
    table.scroll_into_view_if_needed()
    shot(page, "rights-01-county-dashboard-items")
    services.screenshot(path=str(SCREENSHOT_DIR / "rights-01-section.png"))

    page.set_viewport_size(PHONE)
    page.reload()
    table = page.locator('[data-table="rights_items"]')
    expect(table.locator("caption")).to_have_text("权益事项落实情况")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = table.locator("table").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    table.scroll_into_view_if_needed()
    shot(page, "rights-02-county-dashboard-items-phone")
    table.screenshot(path=str(SCREENSHOT_DIR / "rights-02-table-phone.png"))

    # The open households of 就业登记: h1 and h2, in the official's county.
    table.locator("tr", has=page.locator("th", has_text="就业登记")).locator(
        'td[data-key="open"] a'
    ).click()
    page.wait_for_url(re.compile(r"/admin/communities/household/\?"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text(w["h1"].number)
    expect(page.locator("#result_list")).to_contain_text(w["h2"].number)
