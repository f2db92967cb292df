"""A county official's view of a person: the birth year only, and list URLs that guess
at hidden values answer an empty list with a Chinese message (issue 9, items 1 and 2)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_county_official_sees_birth_year_and_guessing_urls_are_refused(
    transactional_db, live_server, world, page
):
    head = world.heads["a"]
    born = head.birth_date
    login(page, live_server, world.county)

    page.goto(f"{live_server.url}/admin/communities/person/{head.pk}/change/")
    content = page.locator("#content")
    expect(content).to_contain_text("出生年份")
    expect(content).to_contain_text(f"{born.year}年")
    expect(content).not_to_contain_text("出生日期")
    expect(content).not_to_contain_text(f"{born.year}年{born.month}月{born.day}日")
    shot(page, "20-county-person-birth-year")

    page.goto(
        f"{live_server.url}/admin/communities/person/"
        f"?id__exact={head.pk}&id_number__startswith={head.id_number[:7]}"
    )
    expect(page.locator(".messagelist")).to_contain_text("不支持的筛选条件")
    expect(page.locator("#result_list")).to_have_count(0)
    shot(page, "21-county-person-list-guess-refused")

    page.goto(f"{live_server.url}/admin/communities/household/?settlement=99999999999999999999")
    expect(page.locator(".messagelist")).to_contain_text("无效的编号")
    shot(page, "22-county-household-list-overflow")
    # The person page's 就业台账 has its own columns only (no empty masked ones).
    page.goto(f"{live_server.url}/admin/communities/person/{head.pk}/change/")
    jobs_header = page.locator("#jobs-group thead, .inline-group thead").first
    expect(jobs_header).to_contain_text("就业类型")
    for column in ("出生年份", "健康状况", "楼栋长电话"):
        expect(jobs_header).not_to_contain_text(column)
