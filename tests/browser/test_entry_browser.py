"""Data entry in Chromium at 1366×768 and at phone size 390×844 (issue 13, "Data entry").

户编号 suggested and re-suggested by settlement, the ID box showing 18 characters, the
members as cards on a phone without sideways scrolling, the work-list phone, the history
page.  Screenshots go to artifacts/screenshots/entry-*.png.
"""

import datetime

import pytest
from playwright.sync_api import expect

from communities.models import Household
from tests.browser.conftest import SCREENSHOT_DIR, login, shot
from tests.browser.test_admin_browser import resident_id, select2_choose, url

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def shot_of(locator, name):
    """Screenshot of one part of the page (a full phone page is too tall to look at)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


def no_sideways_scroll(page):
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def id_box_fits(page, selector):
    """(fits, text width, box width): the typed number's width against the box's inner width."""
    return page.eval_on_selector(
        selector,
        """el => {
            const style = getComputedStyle(el);
            const canvas = document.createElement("canvas").getContext("2d");
            canvas.font = style.font;
            const text = canvas.measureText(el.value).width;
            const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return [el.scrollWidth <= el.clientWidth && text <= inner, text, inner];
        }""",
    )


def test_household_number_follows_the_settlement(transactional_db, live_server, world, page):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, world.admin)
    page.goto(url(live_server, "/admin/communities/household/add/"))
    number = page.locator("input[name='number']")
    expect(number).to_have_value("")  # the superuser sees two counties: nothing yet
    select2_choose(page, "id_settlement", "阳光", "阳光新区")
    expect(number).to_have_value("522301000003")  # 兴义市 holds …001 and …002
    select2_choose(page, "id_settlement", "德坞", "德坞新区")
    expect(number).to_have_value("520201000002")  # 钟山区 holds …001
    shot(page, "entry-01-number-suggested-1366")
    # A number typed by hand stays when the settlement changes.
    number.fill("520201000777")
    select2_choose(page, "id_settlement", "栗坪", "栗坪安置点")
    page.wait_for_timeout(300)
    expect(number).to_have_value("520201000777")


def test_worker_saves_a_household_with_the_suggested_number(
    transactional_db, live_server, world, page
):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, world.worker)
    page.goto(url(live_server, "/admin/communities/household/add/"))
    number = page.locator("input[name='number']")
    expect(number).to_have_value("522301000003")  # one county: filled before choosing
    select2_choose(page, "id_settlement", "阳光", "阳光新区")
    expect(number).to_have_value("522301000003")
    page.get_by_label("搬迁年度").fill("2019")
    head_id = resident_id(datetime.date(1979, 4, 2), 31)
    page.locator('[name="members-0-name"]').fill("杨正明")
    id_box = '[name="members-0-id_number"]'
    page.locator(id_box).fill(head_id)
    fits, text, inner = id_box_fits(page, id_box)
    assert fits, f"18 characters need {text:.0f}px, the box shows {inner:.0f}px"
    page.locator('[name="members-0-relationship"]').select_option(label="户主")
    page.locator('[name="members-0-ethnicity"]').select_option(label="苗族")
    page.locator('[name="members-0-labour_ability"]').select_option(label="普通劳动力")
    shot(page, "entry-02-add-household-1366")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    household = Household.objects.get(number="522301000003")
    assert household.settlement == world.a
    assert household.members.get().name == "杨正明"


def test_id_box_shows_18_characters_on_the_person_page(transactional_db, live_server, world, page):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, world.worker)
    head = world.heads["a"]
    page.goto(url(live_server, f"/admin/communities/person/{head.pk}/change/"))
    box = "input[name='id_number']"
    expect(page.locator(box)).to_have_value(head.id_number)
    fits, text, inner = id_box_fits(page, box)
    assert fits, f"18 characters need {text:.0f}px, the box shows {inner:.0f}px"
    page.goto(url(live_server, f"/admin/communities/household/{head.household_id}/change/"))
    box = "input[name='members-0-id_number']"
    expect(page.locator(box)).to_have_value(head.id_number)
    fits, text, inner = id_box_fits(page, box)
    assert fits, f"18 characters need {text:.0f}px, the box shows {inner:.0f}px"
    assert no_sideways_scroll(page)
    shot(page, "entry-03-household-1366")


@pytest.mark.parametrize("path", ["change", "add"])
def test_household_page_on_a_phone_shows_member_cards(
    transactional_db, live_server, world, page, path
):
    page.set_viewport_size(PHONE)
    login(page, live_server, world.worker)
    household = world.households["a"]
    target = f"{household.pk}/change/" if path == "change" else "add/"
    page.goto(url(live_server, f"/admin/communities/household/{target}"))
    first = page.locator("#members-0")
    expect(first).to_be_visible()
    # A card: the row is a block, its cells stacked and labelled; no table header.
    assert first.evaluate("el => getComputedStyle(el).display") == "block"
    expect(page.locator("#members-group thead")).to_be_hidden()
    id_cell = first.locator("td.field-id_number")
    assert id_cell.get_attribute("data-label") == "身份证号"
    label = id_cell.evaluate("el => getComputedStyle(el, '::before').content")
    assert label == '"身份证号"'
    box = "input[name='members-0-id_number']"
    if path == "add":
        page.locator(box).fill(resident_id(datetime.date(1990, 1, 1), 12))
    fits, text, inner = id_box_fits(page, box)
    assert fits, f"18 characters need {text:.0f}px, the box shows {inner:.0f}px"
    assert no_sideways_scroll(page), page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    shot(page, f"entry-04-household-{path}-390")
    shot_of(page.locator("#members-0"), f"entry-04-member-card-{path}-390")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT_DIR / f"entry-04-top-{path}-390.png"))


def test_work_list_phone_and_history_at_both_sizes(transactional_db, live_server, world, page):
    household = Household.objects.get(pk=world.households["a"].pk)
    household.room = "1808"
    household.save()
    login(page, live_server, world.worker)
    for name, size in (("1366", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto(url(live_server, "/admin/communities/person/?employment=labour"))
        phone = page.locator("#result_list td.field-phone", has_text="18600000001")
        expect(phone).to_be_visible()
        shot(page, f"entry-05-worklist-phone-{name}")
        page.goto(url(live_server, f"/admin/communities/household/{household.pk}/history/"))
        table = page.locator("#change-history")
        expect(table.locator("thead")).to_contain_text("修改内容")
        expect(table).not_to_contain_text("None")
        expect(table).not_to_contain_text("CHANGES")
        expect(table.locator("tbody tr")).to_have_count(2)
        expect(page.locator("#content")).not_to_contain_text("{#")
        shot(page, f"entry-06-history-{name}")
