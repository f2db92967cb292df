"""A county official asks for a work list on a mid-month day: the page says which
period end it was counted on (issue 9 item 2: no birthday through ``on=``)."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import login, shot

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
