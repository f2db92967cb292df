"""Governance in a real browser: a grid worker records a visit; the petition list
shows an overdue petition highlighted (issue 12)."""

import datetime

import pytest
from playwright.sync_api import expect

from communities.roles import Role
from communities.tests.dates import today
from communities.tests.factories import (
    GridUnitFactory,
    GridWorkerFactory,
    HouseholdFactory,
    SettlementFactory,
)
from governance.models.organisation import Petition, PetitionCategory, Visit
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def gov_world(transactional_db, region_tree, make_user):
    settlement = SettlementFactory(name="幸福安置点", county=region_tree.xingyi)
    household = HouseholdFactory(settlement=settlement, number="XF000101")
    user = make_user(role=Role.COMMUNITY_WORKER, settlements=[settlement])
    worker = GridWorkerFactory(
        grid=GridUnitFactory(settlement=settlement), name="周网格", user=user
    )
    category = PetitionCategory.objects.create(name="物业管理", due_days=7)
    late = Petition.objects.create(
        settlement=settlement,
        household=household,
        category=category,
        channel="window",
        received_on=today() - datetime.timedelta(days=20),
        summary="电梯坏了",
        number="LATE-1",
    )
    Petition.objects.create(
        settlement=settlement,
        group="5栋住户",
        category=category,
        channel="grid",
        received_on=today(),
        summary="路灯不亮",
        number="NEW-1",
    )
    return locals()


def test_grid_worker_records_a_visit(live_server, gov_world, page):
    w = gov_world
    login(page, live_server, w["user"])
    page.goto(f"{live_server.url}/admin/governance/visit/add/?household={w['household'].pk}")
    # The grid worker is the signed-in user's own grid role, the date today.
    expect(page.locator("#id_grid_worker")).to_have_value(str(w["worker"].pk))
    expect(page.locator("#id_visited_on")).to_have_value(today().strftime("%Y/%m/%d"))
    page.select_option("#id_way", label="入户")
    page.fill("#id_findings", "一家人身体都好，儿子在车间上班")
    page.fill("#id_needs", "女儿想报名技能培训")
    page.select_option("#id_follow_up_state", label="待跟进")
    shot(page, "70-governance-visit-form")
    with page.expect_navigation():
        page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("成功")
    visit = Visit.objects.get()
    assert (visit.household_id, visit.grid_worker_id, visit.follow_up_state) == (
        w["household"].pk,
        w["worker"].pk,
        "pending",
    )
    page.goto(f"{live_server.url}/admin/governance/visit/?follow_up=open")
    expect(page.locator("#result_list")).to_contain_text("女儿想报名技能培训")
    shot(page, "71-governance-needs-not-followed-up")


def test_overdue_petition_is_highlighted(live_server, gov_world, page):
    login(page, live_server, gov_world["user"])
    page.goto(f"{live_server.url}/admin/governance/petition/")
    late_row = page.locator("#result_list tbody tr", has_text="LATE-1")
    fresh_row = page.locator("#result_list tbody tr", has_text="NEW-1")
    expect(late_row.locator(".petition-overdue")).to_contain_text("超期")
    expect(fresh_row.locator(".petition-overdue")).to_have_count(0)
    # The stylesheet applies: red text, tinted row.
    color = late_row.locator(".petition-overdue").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(179, 38, 30)"
    background = late_row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    fresh = fresh_row.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(253, 236, 234)" and fresh != background
    shot(page, "72-governance-petitions-overdue")
    page.goto(f"{live_server.url}/admin/governance/petition/?overdue=yes")
    expect(page.locator("#result_list")).to_contain_text("LATE-1")
    expect(page.locator("#result_list")).not_to_contain_text("NEW-1")
