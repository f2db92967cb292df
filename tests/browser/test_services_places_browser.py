"""Services and culture in a real browser.

A community worker of 一号安置点 enters an activity (picking the settlement in
the autocomplete), is told off for a date in the future, fixes it and finds
the activity in the list; a 兴义市 official reads the 服务保障 and 文化 sections
of the county dashboard and follows a card to the rows behind it.
Screenshots go to ``artifacts/screenshots/``.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from communities.roles import Role
from relocation.dashboards import engine
from services.models import Activity, ActivityKind
from services.tests.places_world import places_world_fixture  # noqa: F401
from tests.browser.conftest import login, shot


def value(text):
    """A card's value followed by its unit (个, 人, 场 …)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*(\S+)?\s*$")


@pytest.fixture
def world(transactional_db, places_world):
    return places_world


def test_worker_enters_an_activity(live_server, world, make_user, page):
    worker = make_user(Role.COMMUNITY_WORKER, settlements=[world.s1], username="worker1")
    login(page, live_server, worker)
    page.goto(f"{live_server.url}/admin/services/activity/add/")
    page.locator(".field-settlement .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("一号")
    page.locator(".select2-results__option", has_text="一号安置点").click()
    page.select_option("#id_kind", label="普法教育")
    page.fill("#id_title", "宪法宣传周讲座")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.fill("#id_held_on", tomorrow.isoformat())
    page.fill("#id_organiser", "社区居委会")
    page.fill("#id_participants", "86")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errorlist")).to_contain_text("活动日期不能晚于今天")
    shot(page, "services-01-activity-future-date")
    assert not Activity.objects.filter(title="宪法宣传周讲座").exists()

    page.fill("#id_held_on", timezone.localdate().isoformat())
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/services/activity/$"))
    expect(page.locator(".messagelist")).to_contain_text("宪法宣传周讲座")
    expect(page.locator("#result_list")).to_contain_text("宪法宣传周讲座")
    # 三号安置点's 广场舞 is not the worker's.
    expect(page.locator("#result_list")).not_to_contain_text("广场舞")
    shot(page, "services-02-activity-list")
    activity = Activity.objects.get(title="宪法宣传周讲座")
    assert (activity.settlement, activity.participants) == (world.s1, 86)
    assert activity.history.get().history_user == worker


def test_county_official_reads_services_and_culture(live_server, world, make_user, page):
    today = timezone.localdate()
    Activity.objects.create(
        settlement=world.s1,
        kind=ActivityKind.objects.get(code="fire_drill"),
        title="冬季消防演练",
        held_on=today,
        participants=45,
    )
    engine.refresh_live(full=True)
    official = make_user(Role.COUNTY_OFFICIAL, regions=[world.rt.xingyi], username="county1")
    login(page, live_server, official)
    page.goto(f"{live_server.url}/dashboard/522301/")
    services = page.locator("section.dash-section", has=page.locator("h2", has_text="服务保障"))
    culture = page.locator("section.dash-section", has=page.locator("h2", has_text="文化"))
    # F1–F4 and F8 stand in 兴义市 and are in use; F5 is still being built.
    expect(services.locator('.dash-card[data-key="facilities"] .dash-card-value')).to_have_text(
        value("5")
    )
    # 一号 has all of 十个一; 二号 waits for its kindergarten.
    expect(
        services.locator('.dash-card[data-key="standard_coverage_rate"] .dash-card-value')
    ).to_have_text(value("50.0%"))
    expect(services.locator('.dash-card[data-key="teachers"] .dash-card-value')).to_have_text(
        value("5")
    )
    expect(culture.locator('.dash-card[data-key="activities"] .dash-card-value')).to_have_text(
        value("1")
    )
    expect(
        culture.locator('.dash-card[data-key="activity_participants"] .dash-card-value')
    ).to_have_text(value("45"))
    expect(culture.locator('.dash-card[data-key="fire_drills"] .dash-card-value')).to_have_text(
        value("1")
    )
    services.scroll_into_view_if_needed()
    shot(page, "services-03-county-dashboard")
