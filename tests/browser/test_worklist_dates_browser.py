"""A county official asks for a work list on a mid-month day: the page says which
period end it was counted on (issue 9 item 2: no birthday through ``on=``)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, shot

pytestmark = pytest.mark.browser


def test_county_official_sees_the_date_used(transactional_db, live_server, world, page):
    first = (timezone.localdate().replace(day=1) - datetime.timedelta(days=40)).replace(day=1)
    chosen = first.replace(day=15)
    following = (chosen.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    used = following - datetime.timedelta(days=1)
    login(page, live_server, world.county)
    page.goto(
        f"{live_server.url}/admin/communities/person/?employment=labour&on={chosen.isoformat()}"
    )
    expect(page.locator(".messagelist")).to_contain_text(
        f"统计日期 {chosen.isoformat()} 已改为 {used.isoformat()}"
    )
    expect(page.locator("#changelist-filter")).to_contain_text(f"就业情况（{used.isoformat()}）")
    shot(page, "60-county-worklist-period-end")


def test_on_a_phone_each_list_is_one_block_inside_the_screen(live_server, world, phone_page):
    """390 px wide: no sideways scroll; a list's name and count share its first line,
    what it holds and its links follow."""
    page = phone_page
    login(page, live_server, world.county)
    page.goto(f"{live_server.url}/admin/worklists/")
    row = page.locator("#worklist-zero_employment")
    expect(row).to_contain_text("零就业家庭")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    name, count, description, actions = (
        row.locator(selector).bounding_box()
        for selector in ("th", "td.count", "td.description", "td.actions")
    )
    assert abs(name["y"] - count["y"]) < name["height"]  # one line
    assert count["x"] > name["x"]
    assert description["y"] >= name["y"] + name["height"] - 1
    assert actions["y"] >= description["y"] + description["height"] - 1
    boxes = (name, count, description, actions)
    assert max(box["x"] + box["width"] for box in boxes) <= PHONE["width"]
    shot(page, "61-worklists-phone")
