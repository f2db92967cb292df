"""The read audit and the masked history in a real browser (screenshots in artifacts/)."""

import re

from playwright.sync_api import expect

from communities.read_audit import ReadAuditEntry
from communities.validators import check_digit
from tests.browser.conftest import login, shot

ID_RE = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")


def test_worker_view_is_audited_and_the_administrator_reads_it(
    transactional_db, live_server, world, page, context
):
    head = world.heads["a"]
    login(page, live_server, world.worker)
    page.goto(f"{live_server.url}/admin/communities/person/{head.pk}/change/")
    expect(page.locator("#id_id_number")).to_have_value(head.id_number)
    assert ReadAuditEntry.objects.filter(user=world.worker, object_id=str(head.pk)).count() == 3

    context.clear_cookies()
    login(page, live_server, world.admin)
    page.goto(f"{live_server.url}/admin/communities/readauditentry/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    rows = page.locator("#result_list tbody").inner_text()
    assert "worker" in rows and head.name in rows and "身份证号" in rows and "页面" in rows
    assert ID_RE.findall(page.content()) == []  # the audit itself holds no ID numbers
    assert page.locator(".object-tools a.addlink").count() == 0  # nothing to add …
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("input[name='_save']")).to_have_count(0)  # … change or delete
    expect(page.locator("a.deletelink")).to_have_count(0)
    page.goto(f"{live_server.url}/admin/communities/readauditentry/")
    shot(page, "read_audit_list")


def test_history_page_shows_an_id_number_change_masked(transactional_db, live_server, world, page):
    head = world.heads["a"]
    old_id = head.id_number
    first17 = old_id[:6] + "19790505" + old_id[14:17]
    head.id_number = first17 + check_digit(first17)
    head.save()
    login(page, live_server, world.worker)
    page.goto(f"{live_server.url}/admin/communities/person/{head.pk}/history/")
    body = page.locator("#content").inner_text()
    assert old_id not in body and head.id_number not in body
    assert old_id[:6] + "********" + old_id[-4:] in body
    assert head.id_number[:6] + "********" + head.id_number[-4:] in body
    assert "身份证号" in body
    shot(page, "history_masked_id_change")
