"""A township official reviews a 防返贫 identification and a county official decides it,
through the buttons and forms of the record's page (issue 12)."""

import pytest
from playwright.sync_api import expect

from governance.models import RecordState, Step
from governance.tests.monitoring_fixtures import gov_fixture, open_record, walk  # noqa: F401
from tests.browser.conftest import login, shot

pytestmark = pytest.mark.browser


def test_township_reviews_and_county_decides(transactional_db, live_server, gov, page, context):
    record = walk(gov, open_record(gov), upto=Step.VILLAGE)
    change = f"{live_server.url}/admin/governance/monitoringrecord/{record.pk}/change/"

    # The township official finds the case waiting for their review.
    login(page, live_server, gov.township)
    page.goto(f"{live_server.url}/admin/governance/monitoringrecord/?waiting={int(Step.TOWNSHIP)}")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(gov.households["a"].number)
    expect(rows.first.locator(".monitoring-overdue")).to_be_visible()  # past its 15 days
    shot(page, "70-township-monitoring-worklist")
    page.goto(change)
    expect(page.locator(".errornote.monitoring-overdue")).to_be_visible()
    page.get_by_role("link", name="办理：乡镇审核").click()
    page.locator("#id_document_number").fill("黄草街道审〔2026〕12号")
    page.locator("#id_notes").fill("经审核，符合边缘易致贫户认定条件。")
    shot(page, "71-township-review-form")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    expect(page.locator(".messagelist")).to_contain_text("已办理“乡镇审核”。")
    expect(page.locator("#content")).to_contain_text("待办：县级审定（须由相应层级办理）")
    shot(page, "72-township-reviewed")

    # The county official decides; a missing document number is refused first.
    context.clear_cookies()
    login(page, live_server, gov.county)
    page.goto(change)
    page.get_by_role("link", name="办理：县级审定").click()
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    expect(page.locator(".errorlist")).to_contain_text("请填写县级审定文件编号。")
    shot(page, "73-county-decision-refused-without-document")
    record.refresh_from_db()
    assert record.state == RecordState.IDENTIFYING
    page.locator("#id_document_number").fill("兴义市防返贫〔2026〕3号")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    expect(page.locator(".messagelist")).to_contain_text("已办理“县级审定”。")
    expect(page.locator(".field-state")).to_contain_text("监测中（风险未消除）")
    shot(page, "74-county-decided")
    record.refresh_from_db()
    assert record.state == RecordState.MONITORED
    assert list(record.steps.values_list("taken_by__username", flat=True))[-2:] == [
        "township",
        "county",
    ]
