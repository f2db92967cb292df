"""A community worker records a benefit on a person's page and the rights checklist on a
household's page (issue 11: social protection and 权益保障)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from services.models import (
    BenefitKind,
    BenefitRecord,
    HouseholdRight,
    RightsCategory,
    RightSide,
    RightsItem,
    RightState,
)
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_worker_records_a_benefit(transactional_db, live_server, world, page):
    head = world.heads["a"]
    login(page, live_server, world.worker)
    page.goto(f"{live_server.url}/admin/communities/person/{head.pk}/change/")
    group = page.locator("#benefits-group")
    expect(group).to_contain_text("待遇记录")
    group.locator(".add-row a").click()
    page.locator("select[name='benefits-0-kind']").select_option(BenefitKind.DIBAO_URBAN.value)
    page.locator("input[name='benefits-0-start_date']").fill("2025-03-01")
    page.locator("input[name='benefits-0-end_date']").fill("2025-02-01")
    page.locator("input[name='_continue']").click()
    # Ends before it starts: refused, in Chinese, on the row; nothing saved.
    expect(page.locator("#benefits-group")).to_contain_text("停止日期不能早于开始日期。")
    shot(page, "70-worker-benefit-refused")
    assert not BenefitRecord.objects.filter(person=head).exists()
    page.locator("input[name='benefits-0-end_date']").fill("")
    page.locator("input[name='benefits-0-monthly_amount']").fill("650")
    page.locator("input[name='_continue']").click()
    expect(page.locator(".messagelist")).to_contain_text("成功")
    record = BenefitRecord.objects.get(person=head)
    assert (record.kind, str(record.start_date)) == (BenefitKind.DIBAO_URBAN, "2025-03-01")
    head.refresh_from_db()
    assert head.dibao == "urban"  # the person's field follows the record
    shot(page, "71-worker-benefit-saved")


def test_worker_fills_the_rights_checklist(transactional_db, live_server, world, page):
    origin = RightsCategory.objects.create(
        province=world.regions.guizhou, name="迁出地资源权益", side=RightSide.ORIGIN, order=1
    )
    destination = RightsCategory.objects.create(
        province=world.regions.guizhou, name="迁入地公共服务", side=RightSide.DESTINATION, order=2
    )
    land = RightsItem.objects.create(category=origin, name="承包地经营权", order=1)
    RightsItem.objects.create(category=origin, name="林地经营权", order=2)
    RightsItem.objects.create(category=destination, name="子女就近入学", order=1)
    household = world.households["a"]
    login(page, live_server, world.worker)
    page.goto(f"{live_server.url}/admin/communities/household/{household.pk}/change/")
    group = page.locator("#rights-group")
    expect(group).to_contain_text("权益保障")
    # The province's three items are there, each 待落实, dated today.
    expect(group.locator("tr.form-row:not(.empty-form)")).to_have_count(3)
    page.locator("select[name='rights-0-state']").select_option(RightState.SECURED.value)
    page.locator("select[name='rights-2-state']").select_option(RightState.NOT_APPLICABLE.value)
    group.scroll_into_view_if_needed()
    shot(page, "72-worker-rights-checklist")
    page.locator("input[name='_continue']").click()
    expect(page.locator(".messagelist")).to_contain_text("成功")
    states = dict(
        HouseholdRight.objects.filter(household=household).values_list("item__name", "state")
    )
    assert states == {
        "承包地经营权": RightState.SECURED,
        "林地经营权": RightState.PENDING,
        "子女就近入学": RightState.NOT_APPLICABLE,
    }
    assert HouseholdRight.objects.get(household=household, item=land).recorded_on == (
        timezone.localdate()
    )
    # The page opened again shows the saved checklist, as saved.
    group = page.locator("#rights-group")
    expect(group.locator("tr.form-row:not(.empty-form)")).to_have_count(3)
    # Saved rows, not new ones: no remove link (inlines.js adds it to unsaved rows only).
    expect(group.locator("tr.has_original")).to_have_count(3)
    expect(group.locator(".inline-deletelink")).to_have_count(0)
    expect(page.locator("select[name='rights-0-state']")).to_have_value(RightState.SECURED.value)
    expect(page.locator("select[name='rights-2-state']")).to_have_value(
        RightState.NOT_APPLICABLE.value
    )
    shot(page, "73-worker-rights-saved")
